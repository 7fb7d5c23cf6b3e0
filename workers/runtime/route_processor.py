"""What the route worker does with one inbound record: decode, decide, record, and say what to write where."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timezone

import orjson

from contracts.decision import Action, Decision, MergeDecision
from contracts.outbound import ReplyTarget
from contracts.ports import Clock
from contracts.topics import DEAD_LETTER, QUARANTINE, REJECTED, ROUTED
from contracts.workitem import WorkItem
from routing.automail import answerable
from routing.decide import decide
from routing.policy import TenantPolicy
from routing.record import record
from routing.state import MemoryState, OpenItem
from routing.work_items import opened_item, opens_item, reply_target
from workers.runtime.clock import SystemClock
from workers.runtime.codec import decode_inbound, encode
from workers.runtime.logs import log_decision
from workers.runtime.worker_metrics import count_decision

_ANSWERABLE = frozenset({Action.route, Action.reject})
_TOPIC_FOR = {Action.route: ROUTED.name, Action.merge: ROUTED.name, Action.reject: REJECTED.name,
              Action.quarantine: QUARANTINE.name}


@dataclass
class Outcome:
    """Records to produce and work-item changes to apply for one inbound record."""

    produce: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    opened: WorkItem | None = None
    merged: tuple[MergeDecision, OpenItem | None, ReplyTarget] | None = None
    decision: Decision | None = None


class RouteProcessor:
    def __init__(self, policies: dict[str, TenantPolicy], clock: Clock | None = None) -> None:
        self.policies = policies
        self.clock = clock or SystemClock()  # the App's, so decisions in tests and demos are reproducible

    def process(self, state: MemoryState, key: bytes | None, value: bytes, where: tuple[str, int, int]) -> Outcome:
        """Never raises for bad input: poison goes to the dead-letter topic with the error and the original bytes."""
        try:
            message = decode_inbound(value)
            policy = self.policies.get(message.tenant)
            if policy is None:
                raise LookupError(f"no policy for tenant {message.tenant!r} (known: {', '.join(sorted(self.policies))})")
            decision = decide(message, state, self.clock.now(), policy)
            record(state, message, decision, policy)
        except Exception as exc:  # noqa: BLE001 - every fault class of one record is dead-lettered, the worker goes on
            return Outcome(produce=[(DEAD_LETTER.name, key, dead_letter(exc, key, value, where))])
        if decision.action in _ANSWERABLE and answerable(message):
            decision.reply_to = reply_target(message)  # where the automatic-mail agent answers (routing/automail.py)
        log_decision(decision)
        count_decision(decision)
        out = Outcome(decision=decision)
        if decision.action in _TOPIC_FOR:
            out.produce.append((_TOPIC_FOR[decision.action], key, encode(decision)))
        if (opening := opens_item(decision)) is not None:
            out.opened = opened_item(message, opening, opening.reply_to)
        elif isinstance(decision, MergeDecision):
            out.merged = (decision, state.items.get(decision.work_item_id), reply_target(message))
        return out


def dead_letter(exc: BaseException, key: bytes | None, value: bytes, where: tuple[str, int, int]) -> bytes:
    topic, partition, offset = where
    return orjson.dumps({
        "error": str(exc)[:2000], "error_type": type(exc).__name__,
        "source": {"topic": topic, "partition": partition, "offset": offset},
        "key_b64": base64.b64encode(key).decode() if key is not None else None,
        "value_b64": base64.b64encode(value).decode(),
        "at": datetime.now(timezone.utc).isoformat(),
    })
