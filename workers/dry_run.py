"""The dry-run stream: native inputs -> normalize -> decide -> record, one JSON line per inbound message."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from channels import registry
from channels.errors import PayloadError
from contracts.channels import ChannelKind
from contracts.decision import Decision
from contracts.errors import OmnirouteError
from contracts.inbound import InboundMessage
from routing.decide import decide
from routing.policy import TenantPolicy
from routing.record import record
from routing.state import MemoryState


class InputError(OmnirouteError):
    """One input file could not be read or understood; the message is one line for the user."""


@dataclass(frozen=True)
class NoMessages:
    """A readable input of the channel's format that holds no customer message (statuses, receipts, unknown events)."""

    path: Path
    channel: ChannelKind

    def __str__(self) -> str:
        return (f"{self.path}: holds no customer message (a valid {self.channel.value} input with only statuses, "
                "receipts or events omniroute does not route)")


@dataclass
class Routed:
    message: InboundMessage
    decision: Decision


def route_files(
    paths: Iterable[Path], *, policy: TenantPolicy, channel: ChannelKind, at: datetime | None,
    state: MemoryState | None = None,
) -> Iterator[Routed | InputError | NoMessages]:
    """Decide every message of every file in order, as one stream sharing one state."""
    state = state if state is not None else MemoryState()
    for path in paths:
        try:
            messages = read_messages(path, tenant=policy.tenant, channel=channel, at=at)
        except InputError as exc:
            yield exc
            continue
        if not messages:
            yield NoMessages(path, channel)
        for message in sorted(messages, key=lambda m: m.received_at):
            decision = decide(message, state, message.received_at, policy)
            record(state, message, decision, policy)
            yield Routed(message, decision)


def read_messages(path: Path, *, tenant: str, channel: ChannelKind, at: datetime | None) -> list[InboundMessage]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return registry.normalize(channel, raw, tenant, at)
    except (PayloadError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not {registry.native_input(channel)}: {first}") from None


def as_output(routed: Routed) -> dict[str, Any]:
    """The CLI's JSON object for one message (a stable contract: extend, never rename)."""
    m, d = routed.message, routed.decision
    sla = d.sla
    return {
        "tenant": d.tenant,
        "channel": d.channel.value,
        "message_id": m.id,
        "provider_message_id": m.provider_message_id,
        "kind": m.kind.value,
        "received_at": m.received_at.isoformat(),
        "action": d.action.value,
        "category": d.category,
        "category_confidence": d.category_confidence,
        "queue": d.queue,
        "priority": d.priority.value,
        "flags": [f.value for f in d.flags],
        "work_item_id": getattr(d, "work_item_id", None),
        "repeat_count": getattr(d, "repeat_count", None),
        "reason": getattr(d, "reason", None),
        "sla": None if sla is None else {
            "first_response_due": _iso(sla.first_response_due),
            "first_response_warn_at": _iso(sla.first_response_warn_at),
            "resolution_due": _iso(sla.resolution_due),
            "resolution_clock": sla.resolution_clock,
            "timezone": sla.timezone,
            "clock": sla.clock,
            "calendar": sla.calendar,
            "started_at": _iso(sla.started_at),
            "rule": sla.rule,
            "escalate_to": sla.escalate_to,
        },
        "sender": m.sender.model_dump(exclude_none=True),
        "customer": d.customer,
        "subject": m.subject,
        "text": m.text,
        "references": d.references,
        "follow_ups": [f.model_dump(exclude_none=True, exclude_defaults=True) | {"kind": f.kind.value} for f in d.follow_ups],
        "trace": [t.model_dump() for t in d.trace],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def summary_line(routed: Routed) -> str:
    """A human-readable line: action, category, queue, priority, first-response due, flags, text."""
    d, m = routed.decision, routed.message
    due = d.sla.first_response_due.strftime("%a %d %b %H:%M %z") if d.sla and d.sla.first_response_due else "-"
    text = " ".join(m.text.split())
    return (f"{d.action.value:<10} {d.category or '-':<17} {d.queue or '-':<16} {d.priority.value:<6} "
            f"due {due:<22} [{', '.join(f.value for f in d.flags)}] {text[:60]}")
