"""The state routing decisions read and record: redeliveries, open work, identities, floods, suspensions."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime

from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets
from routing.customers import (CustomerRecord, CustomerTable, pack_tuple, pack_value, record_of, unpack_tuple,
                               unpack_value)
from routing.packed_sla import pack_sla, sla_json, unpack_sla


_NO_STRINGS: frozenset = frozenset()
_CHANNEL_SETS: dict[frozenset, frozenset] = {}  # every distinct set of channels, held once for all items


def _shared_channels(channels: Iterable[ChannelKind | str]) -> frozenset[ChannelKind]:
    key = frozenset(map(ChannelKind, channels))
    return _CHANNEL_SETS.setdefault(key, key)


# An item's category, queue, priority, channels, references and repeat count, as one tuple: most items share
# theirs with many others (one per distinct combination, while it has no references of its own).
# (category, queue, priority, channel, channels_seen, references, repeat_count), in that order
_KINDS: dict[tuple, tuple] = {}
_KINDS_LIMIT = 10_000  # combinations held for sharing; past it an item keeps its own tuple


def _shared_kind(kind: tuple) -> tuple:
    if kind[5]:  # references are the item's own: nothing to share with
        return kind
    shared = _KINDS.get(kind)
    if shared is None:
        if len(_KINDS) >= _KINDS_LIMIT:
            return kind
        shared = _KINDS[kind] = kind
    return shared


# Token tuples as items hold them, one per distinct tuple: messages with the same content words (short nudges,
# the same question asked by many customers) share one; cleared when full, so it follows what is being asked.
_TOKENS: dict[tuple[str, ...], tuple[str, ...]] = {}
_TOKENS_LIMIT = 10_000


def _shared_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    shared = _TOKENS.get(tokens)
    if shared is None:
        if len(_TOKENS) >= _TOKENS_LIMIT:
            _TOKENS.clear()
        shared = _TOKENS[tokens] = tokens
    return shared


def _references(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value) or _NO_STRINGS


def _opened_by(item_id: str | None, message_id: str) -> bool:
    """Whether `item_id` is the work item id decide() gives the item a message opens (`wi-` + its id)."""
    return (type(item_id) is str and len(item_id) == len(message_id) + 3 and item_id.startswith("wi-")
            and item_id.endswith(message_id))


class OpenItem:
    """An open work item as dedupe and SLA need to see it.

    Held compactly, one per open conversation: `tokens` is a tuple of distinct content words (items with the same
    words share one while it is in `_TOKENS`), `references` and `channels_seen` are frozensets (whatever is
    assigned to them is made one), `message_ids` a tuple (held as the bare id while there is one, and not at all
    while that one is the message that opened the item: the item's id is `wi-` + its id); code that adds to them
    assigns a new one (`add_channel`, `add_message`, `add_references`). Category, queue, priority, channel,
    channels seen, references and repeat count live in one tuple shared by the items alike in all of them. `sla`
    is rebuilt from a packed form on each read: an equal model with the same fields set and the same instants
    (zone objects, folds, microseconds).
    """

    __slots__ = ("id", "customer", "conversation_key", "opened_at", "last_seen", "tokens", "_kind", "_message_ids",
                 "_sla", "_sla_at")

    def __init__(self, id: str, customer: str, category: str | None, queue: str, priority: Priority | str,
                 channel: ChannelKind | str, conversation_key: str, opened_at: datetime, last_seen: datetime,
                 tokens: Iterable[str], references: Iterable[str] = (),
                 channels_seen: Iterable[ChannelKind | str] = (), repeat_count: int = 0,
                 message_ids: Iterable[str] = (), sla: SlaTargets | None = None) -> None:
        self.id, self.customer, self.conversation_key = id, customer, conversation_key
        self.opened_at, self.last_seen = opened_at, last_seen
        self.tokens: tuple[str, ...] = _shared_tokens(tuple(tokens) if isinstance(tokens, (set, frozenset))
                                                      else tuple(dict.fromkeys(tokens)))
        # StrEnum members equal their values: made members here, so a shared kind never holds a plain str
        self._kind = _shared_kind((category, queue, Priority(priority), ChannelKind(channel),
                                   _shared_channels(channels_seen), _references(references), repeat_count))
        self.message_ids = tuple(message_ids)
        self._sla, self._sla_at = pack_sla(sla)

    # The fields kept in the shared `_kind` tuple, as plain properties (mypyc compiles these; not descriptors)
    def _set_kind(self, index: int, value: object) -> None:
        kind = self._kind
        self._kind = _shared_kind((*kind[:index], value, *kind[index + 1:]))

    @property
    def category(self) -> str | None:
        return self._kind[0]  # type: ignore[no-any-return]

    @category.setter
    def category(self, value: str | None) -> None:
        self._set_kind(0, value)

    @property
    def queue(self) -> str:
        return self._kind[1]  # type: ignore[no-any-return]

    @queue.setter
    def queue(self, value: str) -> None:
        self._set_kind(1, value)

    @property
    def priority(self) -> Priority:
        return self._kind[2]  # type: ignore[no-any-return]

    @priority.setter
    def priority(self, value: Priority) -> None:
        self._set_kind(2, Priority(value))

    @property
    def channel(self) -> ChannelKind:
        return self._kind[3]  # type: ignore[no-any-return]

    @channel.setter
    def channel(self, value: ChannelKind) -> None:
        self._set_kind(3, ChannelKind(value))

    @property
    def channels_seen(self) -> AbstractSet[ChannelKind]:
        return self._kind[4]  # type: ignore[no-any-return]

    @channels_seen.setter
    def channels_seen(self, value: AbstractSet[ChannelKind]) -> None:
        self._set_kind(4, _shared_channels(value))

    @property
    def references(self) -> AbstractSet[str]:
        return self._kind[5]  # type: ignore[no-any-return]

    @references.setter
    def references(self, value: AbstractSet[str]) -> None:
        self._set_kind(5, _references(value))

    @property
    def repeat_count(self) -> int:
        return self._kind[6]  # type: ignore[no-any-return]

    @repeat_count.setter
    def repeat_count(self, value: int) -> None:
        self._set_kind(6, value)

    # Property types are what mypyc checks on assignment (the getter's): abstract ones, so a list or a set may be
    # assigned, as to the dataclass this replaced; the setters make them tuples and frozensets.
    @property
    def message_ids(self) -> Sequence[str]:
        ids = self._message_ids
        if ids is None:
            return (self.id[3:],)
        return (ids,) if isinstance(ids, str) else ids

    @message_ids.setter
    def message_ids(self, value: Sequence[str]) -> None:
        ids = tuple(value)
        if len(ids) != 1 or type(ids[0]) is not str:
            self._message_ids: str | tuple[str, ...] | None = ids
        else:
            self._message_ids = None if _opened_by(self.id, ids[0]) else ids[0]

    @property
    def sla(self) -> SlaTargets | None:
        return unpack_sla(self._sla, self._sla_at)

    @sla.setter
    def sla(self, value: SlaTargets | None) -> None:
        self._sla, self._sla_at = pack_sla(value)

    def sla_json(self) -> dict | None:
        """`sla.model_dump(mode="json")`, written from the packed form (the snapshot's, a fifth of the cost)."""
        return sla_json(self._sla, self._sla_at)

    def add_channel(self, channel: ChannelKind) -> None:
        if channel not in self.channels_seen:
            self.channels_seen = frozenset((*self.channels_seen, channel))

    def add_message(self, message_id: str) -> None:
        self.message_ids = (*self.message_ids, message_id)

    def add_references(self, references: Iterable[str]) -> None:
        new = set(references) - self.references
        if new:
            self.references = self.references | new

    _FIELDS = ("id", "customer", "category", "queue", "priority", "channel", "conversation_key", "opened_at",
               "last_seen", "tokens", "references", "channels_seen", "repeat_count", "message_ids", "sla")

    def _fields(self) -> tuple:
        return (self.id, self.customer, self.category, self.queue, self.priority, self.channel,
                self.conversation_key, self.opened_at, self.last_seen, frozenset(self.tokens), set(self.references),
                set(self.channels_seen), self.repeat_count, list(self.message_ids), self.sla)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        return f"OpenItem({', '.join(f'{n}={v!r}' for n, v in zip(self._FIELDS, self._fields()))})"


class Seen:
    """A provider message already decided.

    The message id is not held while the work item id is the one its message opened (`wi-` + the message id).
    """

    __slots__ = ("at", "_work_item_id", "_message_id")

    def __init__(self, message_id: str, at: datetime, work_item_id: str | None) -> None:
        self.at, self._work_item_id = at, work_item_id
        self._message_id: str | None = None if _opened_by(work_item_id, message_id) else message_id

    @property
    def message_id(self) -> str:
        message_id = self._message_id
        return self._work_item_id[3:] if message_id is None else message_id  # type: ignore[index]

    @message_id.setter
    def message_id(self, value: str) -> None:
        self._message_id = None if _opened_by(self._work_item_id, value) else value

    @property
    def work_item_id(self) -> str | None:
        return self._work_item_id

    @work_item_id.setter
    def work_item_id(self, value: str | None) -> None:
        message_id = self.message_id
        self._work_item_id = value
        self.message_id = message_id

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.message_id, self.at, self.work_item_id) == (  # type: ignore[attr-defined]
            other.message_id, other.at, other.work_item_id)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass it replaces

    def __repr__(self) -> str:
        return f"Seen(message_id={self.message_id!r}, at={self.at!r}, work_item_id={self.work_item_id!r})"


TABLES = ("seen", "items", "customer_of", "items_of_customer", "item_of_reference", "item_of_conversation",
          "recent", "strikes", "suspended_until", "last_contact")


def _no_changes() -> dict[str, set[str]]:
    return {table: set() for table in TABLES}


@dataclass
class MemoryState:
    """Routing state of one tenant (or one partition of it) held in memory; the runtime persists it.

    Every write notes the (table, key) it touched in `changed`, so the runtime can persist only what moved since
    its last checkpoint (`take_changes`); a key noted but no longer in its table was deleted. `items_of_customer`,
    `recent` and `last_contact` are mappings over one record per customer (`routing.customers`), whatever
    mappings they are given at construction.
    """

    seen: dict[str, Seen] = field(default_factory=dict)
    items: dict[str, OpenItem] = field(default_factory=dict)
    customer_of: dict[str, str] = field(default_factory=dict)  # identity key -> customer id
    items_of_customer: MutableMapping[str, tuple[str, ...]] = field(default_factory=dict)
    item_of_reference: dict[str, str] = field(default_factory=dict)
    item_of_conversation: dict[str, str] = field(default_factory=dict)
    recent: MutableMapping[str, tuple[datetime, ...]] = field(default_factory=dict)  # customer -> message times
    strikes: dict[str, int] = field(default_factory=dict)
    suspended_until: dict[str, datetime | None] = field(default_factory=dict)  # None = until lifted
    last_contact: MutableMapping[str, datetime] = field(default_factory=dict)  # customer -> last routed/merged message
    changed: dict[str, set[str]] = field(default_factory=_no_changes, repr=False, compare=False)
    _customers: dict[str, CustomerRecord] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        records, items, recent, last_contact = self._customers, self.items_of_customer, self.recent, self.last_contact
        self.items_of_customer = CustomerTable(records, "items", pack_tuple, unpack_tuple)
        self.recent = CustomerTable(records, "recent", pack_tuple, unpack_tuple)
        self.last_contact = CustomerTable(records, "last_contact", pack_value, unpack_value)
        self.items_of_customer.update(items)
        self.recent.update(recent)
        self.last_contact.update(last_contact)

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
        record = self._customers.get(customer)
        ids = None if record is None else record.items
        return [] if ids is None else [self.items[i] for i in unpack_tuple(ids) if i in self.items]

    def item_for_reference(self, reference: str) -> OpenItem | None:
        item_id = self.item_of_reference.get(reference)
        return self.items.get(item_id) if item_id else None

    def item_for_conversation(self, conversation: str) -> OpenItem | None:
        item_id = self.item_of_conversation.get(conversation)
        return self.items.get(item_id) if item_id else None

    def messages_since(self, customer: str, since: datetime) -> int:
        record = self._customers.get(customer)
        times = None if record is None else record.recent
        return 0 if times is None else sum(1 for t in unpack_tuple(times) if t > since)

    def is_suspended(self, customer: str, at: datetime) -> bool:
        if customer not in self.suspended_until:
            return False
        until = self.suspended_until[customer]
        return until is None or at < until

    def strikes_of(self, customer: str) -> int:
        return self.strikes.get(customer, 0)

    def contacted_before(self, customer: str, at: datetime) -> datetime | None:
        """When the customer last reached support before `at` (a routed or merged message), else None."""
        record = self._customers.get(customer)
        last = None if record is None else record.last_contact
        return last if isinstance(last, datetime) and last <= at else None

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
        record = record_of(self._customers, customer)
        held = record.recent
        times = (at,) if held is None else (*unpack_tuple(held), at)
        start = 0
        while start < len(times) and times[start] <= horizon:
            start += 1
        record.recent = pack_tuple(times[start:] if start else times)
        self.changed["recent"].add(customer)

    def note_contact(self, customer: str, at: datetime) -> None:
        record = record_of(self._customers, customer)
        last = record.last_contact
        if not isinstance(last, datetime) or last < at:
            record.last_contact = at
            self.changed["last_contact"].add(customer)

    def open(self, item: OpenItem) -> None:
        self.items[item.id] = item
        record = record_of(self._customers, item.customer)
        held = record.items
        record.items = item.id if held is None or held == () else (*unpack_tuple(held), item.id)
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
        self.close_many([item_id])

    def close_many(self, item_ids: Iterable[str]) -> None:
        """Items were resolved or went idle: one pass over the key tables for all of them (a pass per item made
        pruning quadratic in the state's size)."""
        closed: set[str] = set()
        for item_id in item_ids:
            item = self.items.pop(item_id, None)
            if item is None:
                continue
            closed.add(item_id)
            self.changed["items"].add(item_id)
            ids = self.items_of_customer.get(item.customer, ())
            if item_id in ids:
                at = ids.index(item_id)
                self.items_of_customer[item.customer] = ids[:at] + ids[at + 1:]
                self.changed["items_of_customer"].add(item.customer)
        if not closed:
            return
        for name, table in (("item_of_reference", self.item_of_reference),
                            ("item_of_conversation", self.item_of_conversation)):
            for key in [k for k, v in table.items() if v in closed]:
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

    def _index_references(self, item: OpenItem, references: Iterable[str]) -> None:
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
