"""MemoryState to and from plain JSON-able data, and pruning of what no decision can need any more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets
from routing.state import TABLES, MemoryState, OpenItem, Seen

SNAPSHOT_VERSION = 1


def _same(value: Any) -> Any:
    return value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class _Sharing:
    """While one snapshot is restored: one object per distinct string and per distinct instant, as in a state that
    was built live (where a customer id, an item id or a message's time is one object in every table). Without it
    a restored state took about twice the memory of the same state built live."""

    def __init__(self) -> None:
        self.strings: dict[str, str] = {}
        self.times: dict[str, datetime] = {}

    def s(self, value: str) -> str:
        return self.strings.setdefault(value, value)

    def s_or_none(self, value: str | None) -> str | None:
        return None if value is None else self.s(value)

    def t(self, value: str) -> datetime:
        at = self.times.get(value)
        if at is None:
            at = self.times[value] = datetime.fromisoformat(value)
        return at

    def t_or_none(self, value: str | None) -> datetime | None:
        return self.t(value) if value else None


class _NoSharing(_Sharing):
    """Decoding one entry on its own (`DECODERS`): nothing to share with."""

    def s(self, value: str) -> str:
        return value

    def t(self, value: str) -> datetime:
        return datetime.fromisoformat(value)


def _seen_in(data: list, sh: _Sharing) -> Seen:
    message_id, at, work_item_id = data
    return Seen(message_id=sh.s(message_id), at=sh.t(at), work_item_id=sh.s_or_none(work_item_id))


# Per table: one entry's value to JSON-able data and back. A snapshot is {table: {key: encoded value}}, and the
# runtime persists changed entries one by one with the same encodings.
ENCODERS: dict[str, Callable[[Any], Any]] = {
    "seen": lambda s: [s.message_id, s.at.isoformat(), s.work_item_id],
    "items": lambda i: _item_out(i),
    "customer_of": _same,
    "items_of_customer": list,
    "item_of_reference": _same,
    "item_of_conversation": _same,
    "recent": lambda times: [t.isoformat() for t in times],
    "strikes": _same,
    "suspended_until": _iso,
    "last_contact": _iso,
}
_DECODE: dict[str, Callable[[Any, _Sharing], Any]] = {
    "seen": _seen_in,
    "items": lambda data, sh: _item_in(data, sh),
    "customer_of": lambda customer, sh: sh.s(customer),
    "items_of_customer": lambda ids, sh: tuple(map(sh.s, ids)),
    "item_of_reference": lambda item_id, sh: sh.s(item_id),
    "item_of_conversation": lambda item_id, sh: sh.s(item_id),
    "recent": lambda times, sh: tuple(map(sh.t, times)),
    "strikes": lambda count, sh: count,
    "suspended_until": lambda at, sh: sh.t_or_none(at),
    "last_contact": lambda at, sh: sh.t_or_none(at),
}


def _unshared(decode: Callable[[Any, _Sharing], Any]) -> Callable[[Any], Any]:
    return lambda value: decode(value, _NoSharing())


DECODERS: dict[str, Callable[[Any], Any]] = {table: _unshared(decode) for table, decode in _DECODE.items()}
assert set(ENCODERS) == set(DECODERS) == set(TABLES)


def snapshot(state: MemoryState) -> dict[str, Any]:
    """Everything in the state as JSON-able data."""
    out: dict[str, Any] = {"v": SNAPSHOT_VERSION}
    for table in TABLES:
        encode = ENCODERS[table]
        out[table] = {k: encode(v) for k, v in getattr(state, table).items()}
    return out


def restore(data: dict[str, Any]) -> MemoryState:
    """The state a snapshot describes; raises ValueError for a snapshot of another version."""
    if data.get("v") != SNAPSHOT_VERSION:
        raise ValueError(f"routing state snapshot version {data.get('v')!r} is not {SNAPSHOT_VERSION}")
    # a table added since the snapshot was taken starts empty
    sh = _Sharing()
    tables: dict[str, Any] = {table: {sh.s(k): _DECODE[table](v, sh) for k, v in data.get(table, {}).items()}
                              for table in TABLES}
    return MemoryState(**tables)


def prune(state: MemoryState, now: datetime, *, keep_seen_since: datetime, keep_items_since: datetime,
          keep_customers_since: datetime | None = None) -> int:
    """Forget redeliveries and idle items older than the horizons; returns how many entries went.

    With `keep_customers_since` (the retention horizon), a customer last in contact before it, with no open item
    and no suspension, is forgotten too: identity links, contact time, strikes.
    """
    old_seen = [k for k, s in state.seen.items() if s.at < keep_seen_since]
    for key in old_seen:
        state.forget_seen(key)
    idle = [i.id for i in state.items.values() if i.last_seen < keep_items_since]
    state.close_many(idle)
    stale_recent = [c for c, times in state.recent.items() if not times or times[-1] < keep_items_since]
    for customer in stale_recent:
        state.forget_recent(customer)
    expired = [c for c, until in state.suspended_until.items() if until is not None and until <= now]
    for customer in expired:
        state.lift_suspension(customer)
    gone: set[str] = set()
    if keep_customers_since is not None:
        gone = {c for c, at in state.last_contact.items() if at < keep_customers_since
                and not state.open_items_for(c) and c not in state.suspended_until}
        state.forget_customers(gone)
    return len(old_seen) + len(idle) + len(stale_recent) + len(expired) + len(gone)


def _item_out(item: OpenItem) -> dict[str, Any]:
    return {
        "id": item.id, "customer": item.customer, "category": item.category, "queue": item.queue,
        "priority": item.priority.value, "channel": item.channel.value, "conversation_key": item.conversation_key,
        "opened_at": item.opened_at.isoformat(), "last_seen": item.last_seen.isoformat(),
        "tokens": sorted(item.tokens), "references": sorted(item.references),
        "channels_seen": sorted(c.value for c in item.channels_seen), "repeat_count": item.repeat_count,
        "message_ids": list(item.message_ids), "sla": item.sla_json(),
    }


def _item_in(data: dict[str, Any], sh: _Sharing) -> OpenItem:
    return OpenItem(
        id=sh.s(data["id"]), customer=sh.s(data["customer"]), category=sh.s_or_none(data["category"]),
        queue=sh.s(data["queue"]), priority=Priority(data["priority"]), channel=ChannelKind(data["channel"]),
        conversation_key=sh.s(data["conversation_key"]), opened_at=sh.t(data["opened_at"]),
        last_seen=sh.t(data["last_seen"]), tokens=frozenset(map(sh.s, data["tokens"])),
        references=map(sh.s, data["references"]), channels_seen=[ChannelKind(c) for c in data["channels_seen"]],
        repeat_count=data["repeat_count"], message_ids=map(sh.s, data["message_ids"]),
        sla=SlaTargets.model_validate(data["sla"]) if data["sla"] else None,
    )
