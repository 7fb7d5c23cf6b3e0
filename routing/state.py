"""The state routing decisions read and record: redeliveries, open work, identities, floods, suspensions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets


@dataclass
class OpenItem:
    """An open work item as dedupe and SLA need to see it."""

    id: str
    customer: str
    category: str | None
    queue: str
    priority: Priority
    channel: ChannelKind
    conversation_key: str
    opened_at: datetime
    last_seen: datetime
    tokens: frozenset[str]
    references: set[str] = field(default_factory=set)
    channels_seen: set[ChannelKind] = field(default_factory=set)
    repeat_count: int = 0
    message_ids: list[str] = field(default_factory=list)
    sla: SlaTargets | None = None


@dataclass
class Seen:
    """A provider message already decided."""

    message_id: str
    at: datetime
    work_item_id: str | None


TABLES = ("seen", "items", "customer_of", "items_of_customer", "item_of_reference", "item_of_conversation",
          "recent", "strikes", "suspended_until", "last_contact")


def _no_changes() -> dict[str, set[str]]:
    return {table: set() for table in TABLES}


@dataclass
class MemoryState:
    """Routing state of one tenant (or one partition of it) held in memory; the runtime persists it.

    Every write notes the (table, key) it touched in `changed`, so the runtime can persist only what moved since
    its last checkpoint (`take_changes`); a key noted but no longer in its table was deleted.
    """

    seen: dict[str, Seen] = field(default_factory=dict)
    items: dict[str, OpenItem] = field(default_factory=dict)
    customer_of: dict[str, str] = field(default_factory=dict)  # identity key -> customer id
    items_of_customer: dict[str, list[str]] = field(default_factory=dict)
    item_of_reference: dict[str, str] = field(default_factory=dict)
    item_of_conversation: dict[str, str] = field(default_factory=dict)
    recent: dict[str, deque[datetime]] = field(default_factory=dict)  # customer -> message times
    strikes: dict[str, int] = field(default_factory=dict)
    suspended_until: dict[str, datetime | None] = field(default_factory=dict)  # None = until lifted
    last_contact: dict[str, datetime] = field(default_factory=dict)  # customer -> last message that reached support
    changed: dict[str, set[str]] = field(default_factory=_no_changes, repr=False, compare=False)

    # -- reads ---------------------------------------------------------------------------------------------
    def seen_before(self, key: str) -> Seen | None:
        return self.seen.get(key)

    def customer_for(self, identity_keys: list[str]) -> str:
        """The customer id any of these identities is linked to, else the first identity itself."""
        for key in identity_keys:
            if key in self.customer_of:
                return self.customer_of[key]
        return identity_keys[0]

    def open_items_for(self, customer: str) -> list[OpenItem]:
        return [self.items[i] for i in self.items_of_customer.get(customer, ()) if i in self.items]

    def item_for_reference(self, reference: str) -> OpenItem | None:
        item_id = self.item_of_reference.get(reference)
        return self.items.get(item_id) if item_id else None

    def item_for_conversation(self, conversation: str) -> OpenItem | None:
        item_id = self.item_of_conversation.get(conversation)
        return self.items.get(item_id) if item_id else None

    def messages_since(self, customer: str, since: datetime) -> int:
        return sum(1 for t in self.recent.get(customer, ()) if t > since)

    def is_suspended(self, customer: str, at: datetime) -> bool:
        if customer not in self.suspended_until:
            return False
        until = self.suspended_until[customer]
        return until is None or at < until

    def strikes_of(self, customer: str) -> int:
        return self.strikes.get(customer, 0)

    def contacted_before(self, customer: str, at: datetime) -> datetime | None:
        """When the customer last reached support before `at` (a routed or merged message), else None."""
        last = self.last_contact.get(customer)
        return last if last is not None and last <= at else None

    # -- writes --------------------------------------------------------------------------------------------
    def remember(self, key: str, seen: Seen) -> None:
        self.seen[key] = seen
        self.changed["seen"].add(key)

    def link(self, identity_keys: list[str], customer: str) -> None:
        for key in identity_keys:
            if key not in self.customer_of:
                self.customer_of[key] = customer
                self.changed["customer_of"].add(key)

    def note_message(self, customer: str, at: datetime, horizon: datetime) -> None:
        times = self.recent.setdefault(customer, deque())
        times.append(at)
        while times and times[0] <= horizon:
            times.popleft()
        self.changed["recent"].add(customer)

    def note_contact(self, customer: str, at: datetime) -> None:
        if customer not in self.last_contact or self.last_contact[customer] < at:
            self.last_contact[customer] = at
            self.changed["last_contact"].add(customer)

    def open(self, item: OpenItem) -> None:
        self.items[item.id] = item
        self.items_of_customer.setdefault(item.customer, []).append(item.id)
        self.item_of_conversation[item.conversation_key] = item.id
        self.changed["items"].add(item.id)
        self.changed["items_of_customer"].add(item.customer)
        self.changed["item_of_conversation"].add(item.conversation_key)
        self._index_references(item, item.references)

    def attach(self, item: OpenItem, reference_keys: set[str], conversation_key: str) -> None:
        self._index_references(item, reference_keys)
        if conversation_key not in self.item_of_conversation:
            self.item_of_conversation[conversation_key] = item.id
            self.changed["item_of_conversation"].add(conversation_key)

    def retie(self, item: OpenItem, conversation_key: str) -> None:
        """Point a conversation key at this item, whichever item it pointed at before (the newest wins)."""
        if self.item_of_conversation.get(conversation_key) != item.id:
            self.item_of_conversation[conversation_key] = item.id
            self.changed["item_of_conversation"].add(conversation_key)

    def item_changed(self, item: OpenItem) -> None:
        """Say that fields of an open item were changed in place."""
        self.changed["items"].add(item.id)

    def close(self, item_id: str) -> None:
        """An item was resolved: it no longer absorbs repeats."""
        item = self.items.pop(item_id, None)
        if item is None:
            return
        self.changed["items"].add(item_id)
        ids = self.items_of_customer.get(item.customer, [])
        if item_id in ids:
            ids.remove(item_id)
            self.changed["items_of_customer"].add(item.customer)
        for name, table in (("item_of_reference", self.item_of_reference),
                            ("item_of_conversation", self.item_of_conversation)):
            for key in [k for k, v in table.items() if v == item_id]:
                del table[key]
                self.changed[name].add(key)

    def forget_seen(self, key: str) -> None:
        del self.seen[key]
        self.changed["seen"].add(key)

    def forget_recent(self, customer: str) -> None:
        del self.recent[customer]
        self.changed["recent"].add(customer)

    def add_strike(self, customer: str) -> int:
        self.strikes[customer] = self.strikes.get(customer, 0) + 1
        self.changed["strikes"].add(customer)
        return self.strikes[customer]

    def suspend(self, customer: str, until: datetime | None) -> None:
        self.suspended_until[customer] = until
        self.changed["suspended_until"].add(customer)

    def lift_suspension(self, customer: str) -> None:
        self.suspended_until.pop(customer, None)
        self.strikes.pop(customer, None)
        self.changed["suspended_until"].add(customer)
        self.changed["strikes"].add(customer)

    def forget_customers(self, customers: set[str]) -> None:
        """Data retention: what the state keeps of these customers goes (their identity links, contact times)."""
        for name in ("last_contact", "recent", "strikes", "items_of_customer"):
            table = getattr(self, name)
            for customer in customers & table.keys():
                del table[customer]
                self.changed[name].add(customer)
        for key in [k for k, c in self.customer_of.items() if c in customers]:
            del self.customer_of[key]
            self.changed["customer_of"].add(key)

    def _index_references(self, item: OpenItem, references: set[str]) -> None:
        for ref in references:
            if ref not in self.item_of_reference:
                self.item_of_reference[ref] = item.id
                self.changed["item_of_reference"].add(ref)

    # -- change tracking -----------------------------------------------------------------------------------
    def take_changes(self) -> dict[str, set[str]]:
        """The (table -> keys) written since the last call, and a fresh, empty record of changes."""
        taken, self.changed = self.changed, _no_changes()
        return taken

    def give_back(self, changes: dict[str, set[str]]) -> None:
        """Changes taken but not persisted (the write failed): persist them with the next ones."""
        for table, keys in changes.items():
            self.changed[table] |= keys

    def mark_all_changed(self) -> None:
        for table in TABLES:
            self.changed[table] |= set(getattr(self, table))
