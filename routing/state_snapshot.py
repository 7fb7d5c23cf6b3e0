"""MemoryState to and from plain JSON-able data, and pruning of what no decision can need any more."""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any

from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets
from routing.state import MemoryState, OpenItem, Seen

SNAPSHOT_VERSION = 1


def snapshot(state: MemoryState) -> dict[str, Any]:
    """Everything in the state as JSON-able data."""
    return {
        "v": SNAPSHOT_VERSION,
        "seen": {k: [s.message_id, s.at.isoformat(), s.work_item_id] for k, s in state.seen.items()},
        "items": {k: _item_out(i) for k, i in state.items.items()},
        "customer_of": state.customer_of,
        "items_of_customer": state.items_of_customer,
        "item_of_reference": state.item_of_reference,
        "item_of_conversation": state.item_of_conversation,
        "recent": {k: [t.isoformat() for t in v] for k, v in state.recent.items()},
        "strikes": state.strikes,
        "suspended_until": {k: (v.isoformat() if v else None) for k, v in state.suspended_until.items()},
    }


def restore(data: dict[str, Any]) -> MemoryState:
    """The state a snapshot describes; raises ValueError for a snapshot of another version."""
    if data.get("v") != SNAPSHOT_VERSION:
        raise ValueError(f"routing state snapshot version {data.get('v')!r} is not {SNAPSHOT_VERSION}")
    at = datetime.fromisoformat
    return MemoryState(
        seen={k: Seen(message_id=m, at=at(t), work_item_id=w) for k, (m, t, w) in data["seen"].items()},
        items={k: _item_in(v) for k, v in data["items"].items()},
        customer_of=dict(data["customer_of"]),
        items_of_customer={k: list(v) for k, v in data["items_of_customer"].items()},
        item_of_reference=dict(data["item_of_reference"]),
        item_of_conversation=dict(data["item_of_conversation"]),
        recent={k: deque(at(t) for t in v) for k, v in data["recent"].items()},
        strikes=dict(data["strikes"]),
        suspended_until={k: (at(v) if v else None) for k, v in data["suspended_until"].items()},
    )


def prune(state: MemoryState, now: datetime, *, keep_seen_since: datetime, keep_items_since: datetime) -> int:
    """Forget redeliveries and idle items older than the horizons; returns how many entries went."""
    old_seen = [k for k, s in state.seen.items() if s.at < keep_seen_since]
    for key in old_seen:
        del state.seen[key]
    idle = [i.id for i in state.items.values() if i.last_seen < keep_items_since]
    for item_id in idle:
        state.close(item_id)
    stale_recent = [c for c, times in state.recent.items() if not times or times[-1] < keep_items_since]
    for customer in stale_recent:
        del state.recent[customer]
    expired = [c for c, until in state.suspended_until.items() if until is not None and until <= now]
    for customer in expired:
        state.lift_suspension(customer)
    return len(old_seen) + len(idle) + len(stale_recent) + len(expired)


def _item_out(item: OpenItem) -> dict[str, Any]:
    return {
        "id": item.id, "customer": item.customer, "category": item.category, "queue": item.queue,
        "priority": item.priority.value, "channel": item.channel.value, "conversation_key": item.conversation_key,
        "opened_at": item.opened_at.isoformat(), "last_seen": item.last_seen.isoformat(),
        "tokens": sorted(item.tokens), "references": sorted(item.references),
        "channels_seen": sorted(c.value for c in item.channels_seen), "repeat_count": item.repeat_count,
        "message_ids": item.message_ids, "sla": item.sla.model_dump(mode="json") if item.sla else None,
    }


def _item_in(data: dict[str, Any]) -> OpenItem:
    return OpenItem(
        id=data["id"], customer=data["customer"], category=data["category"], queue=data["queue"],
        priority=Priority(data["priority"]), channel=ChannelKind(data["channel"]),
        conversation_key=data["conversation_key"], opened_at=datetime.fromisoformat(data["opened_at"]),
        last_seen=datetime.fromisoformat(data["last_seen"]), tokens=frozenset(data["tokens"]),
        references=set(data["references"]), channels_seen={ChannelKind(c) for c in data["channels_seen"]},
        repeat_count=data["repeat_count"], message_ids=list(data["message_ids"]),
        sla=SlaTargets.model_validate(data["sla"]) if data["sla"] else None,
    )
