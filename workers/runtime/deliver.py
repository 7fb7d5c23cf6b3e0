"""The deliver processor: routed decisions, quarantines' review items, SLA events and agents' actions -> events at
the tenant's sinks.

At least once, never twice for a delivered event: each (sink, event) is marked delivered in Redis after the
sink took it, and a redelivered record (decisions are re-published on rebalances, SLA events may be published
again under their id) finds the mark and sends nothing. Only a crash between the sink's 2xx and the mark can
repeat a delivery, under the same event id (`webhook-id`), which receivers dedupe on. A delivery that fails its
retry budget, or meets its sink's open breaker, becomes a dead letter (`omniroute dlq list|replay`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel
from redis.asyncio import Redis

from channels.sinks.base import Sink
from channels.sinks.breaker import CircuitBreaker
from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.redis_queue_lua import escape
from contracts.decision import MergeDecision, QuarantineDecision, RouteDecision
from contracts.ports import Clock
from contracts.sinks import (
    ReceiptStatus,
    SinkDeadLetter,
    SinkEvent,
    SinkEventType,
    SinkReceipt,
    sink_event_id,
)
from contracts.topics import SINK_DEAD_LETTER, SINK_RECEIPTS
from contracts.workitem import (
    AgentAction,
    AgentActionKind,
    SlaEvent,
    SlaEventKind,
    WorkItem,
    WorkItemState,
)
from routing.work_items import opens_item
from workers.runtime.codec import decode_decision
from workers.sink_files import SinkSet

log = logging.getLogger("omniroute.deliver")
KEEP = timedelta(days=7)
_SLA_TYPES = {SlaEventKind.warning: SinkEventType.sla_warning, SlaEventKind.breach: SinkEventType.sla_breach}


@dataclass(frozen=True)
class Publication:
    """A record the agent publishes (receipts, dead letters) before the input's offset may be committed."""

    topic: str
    key: bytes
    value: BaseModel


class DeliverProcessor:
    def __init__(self, redis: Redis, queue: RedisWorkQueue, sinks: SinkSet, client: SinkClient, clock: Clock, *,
                 prefix: str, item_wait_s: float = 10.0, breakers: Mapping[str, CircuitBreaker] | None = None,
                 new_breaker=CircuitBreaker) -> None:
        self.redis, self.queue, self.sinks, self.client, self.clock = redis, queue, sinks, client, clock
        self.prefix, self.item_wait_s = prefix, item_wait_s
        self.breakers: dict[str, CircuitBreaker] = dict(breakers or {})
        self.new_breaker = new_breaker

    # --- inputs -> events
    async def on_decision(self, raw: bytes) -> list[Publication]:
        decision = decode_decision(raw)
        opening = opens_item(decision)
        if opening is not None and (item_id := opening.work_item_id) is not None:
            item = await self._item(item_id, lambda i: True) or _from_decision(opening, item_id)
            event = self._event(f"created:{decision.message_id}", SinkEventType.created, item, decision.decided_at)
        elif isinstance(decision, MergeDecision):
            item = await self._item(decision.work_item_id, lambda i: decision.message_id in i.message_ids)
            if item is None:
                return []
            event = self._event(f"merge:{decision.message_id}", SinkEventType.updated, item, decision.decided_at,
                                change="merge")
        else:
            return []
        return await self.deliver(event)

    async def on_sla_event(self, raw: bytes) -> list[Publication]:
        sla = SlaEvent.model_validate_json(raw)
        source = f"sla:{sla.event_id or hashlib.sha256(raw).hexdigest()}"
        if sla.kind == SlaEventKind.escalated:
            wanted = (lambda i: i.queue == sla.escalate_to) if sla.escalate_to else (lambda i: True)
            item = await self._item(sla.work_item_id, wanted)
            kind, change = SinkEventType.updated, "escalation"
        elif sla.kind in _SLA_TYPES:
            item = await self.queue.get(sla.work_item_id)
            kind, change = _SLA_TYPES[sla.kind], None
        else:
            return []  # `met` is told by the action that met it
        if item is None or item.tenant != sla.tenant:
            return []
        return await self.deliver(self._event(source, kind, item, sla.at, change=change, sla=sla))

    async def on_action(self, raw: bytes) -> list[Publication]:
        action = AgentAction.model_validate_json(raw)
        item = await self.queue.get(action.work_item_id)
        if item is None or item.tenant != action.tenant:
            return []
        source = f"action:{hashlib.sha256(raw).hexdigest()}"
        if action.kind == AgentActionKind.claim:
            item = item.model_copy(update={"state": WorkItemState.claimed, "assignee": action.agent_id})
            event = self._event(source, SinkEventType.updated, item, action.at, change="claim", agent=action.agent_id)
        elif action.kind == AgentActionKind.reassign:
            if action.to_queue:  # as this action left it, even if it moved again since
                item = item.model_copy(update={"queue": action.to_queue, "assignee": action.to_agent})
            event = self._event(source, SinkEventType.updated, item, action.at, change="reassignment",
                                agent=action.agent_id)
        elif action.kind == AgentActionKind.resolve:
            item = item.model_copy(update={"state": WorkItemState.resolved, "assignee": action.agent_id})
            event = self._event(source, SinkEventType.resolved, item, action.at, agent=action.agent_id)
        else:
            return []  # an escalation is told by the SLA worker's `escalated` event; replies by delivery events;
            # notes stay in the item's history
        return await self.deliver(event)

    async def on_replay(self, raw: bytes) -> list[Publication]:
        letter = SinkDeadLetter.model_validate_json(raw)
        sink = self.sinks.named(letter.event.tenant, letter.sink)
        if sink is None:
            log.warning("replay of %s to %s/%s: no such sink is configured now", letter.event.id,
                        letter.event.tenant, letter.sink)
            return []
        return [p for p in [await self._one(sink, letter.event)] if p is not None]

    # --- delivery
    async def deliver(self, event: SinkEvent) -> list[Publication]:
        """The event to each sink serving its queue, in parallel; one receipt or dead letter per sink."""
        found = await asyncio.gather(*(self._one(sink, event) for sink in self.sinks.for_event(event)))
        return [p for p in found if p is not None]

    async def _one(self, sink: Sink, event: SinkEvent) -> Publication | None:
        mark = delivered_mark(self.prefix, sink.tenant, sink.name, event.id)
        if await self.redis.exists(mark):
            return None  # delivered before this record came again
        breaker = self.breakers.setdefault(f"{sink.tenant}/{sink.name}", self.new_breaker())
        if not breaker.allow():
            return self._dead(sink, event, f"circuit open after {breaker.failures} failed deliveries", 0)
        attempt = await sink.deliver(event, self.client, self.clock.now())
        breaker.record(attempt.ok)
        if not attempt.ok:
            log.warning("sink %s/%s did not take %s %s after %d attempt(s): %s", sink.tenant, sink.name,
                        event.type.value, event.id, attempt.attempts, attempt.error)
            return self._dead(sink, event, attempt.error or "failed", attempt.attempts)
        await self.redis.set(mark, b"1", px=int(KEEP.total_seconds() * 1000))
        return Publication(SINK_RECEIPTS.name, _key(event), SinkReceipt(
            event_id=event.id, event_type=event.type, tenant=event.tenant, work_item_id=event.item.id,
            sink=sink.name, status=ReceiptStatus.delivered, at=self.clock.now(), attempts=attempt.attempts))

    def _dead(self, sink: Sink, event: SinkEvent, error: str, attempts: int) -> Publication:
        return Publication(SINK_DEAD_LETTER.name, _key(event), SinkDeadLetter(
            sink=sink.name, event=event, error=error, attempts=attempts, at=self.clock.now()))

    # --- helpers
    async def _item(self, item_id: str, ready) -> WorkItem | None:  # noqa: ANN001 - a predicate
        """The stored item once it shows the change (the route worker writes Redis after Kafka acked)."""
        deadline = asyncio.get_running_loop().time() + self.item_wait_s
        while True:
            item = await self.queue.get(item_id)
            if item is not None and ready(item):
                return item
            if asyncio.get_running_loop().time() >= deadline:
                return item
            await asyncio.sleep(0.05)

    @staticmethod
    def _event(source: str, kind: SinkEventType, item: WorkItem, at: datetime, *, change: str | None = None,
               agent: str | None = None, sla: SlaEvent | None = None) -> SinkEvent:
        return SinkEvent(id=sink_event_id(f"{item.tenant}:{item.id}:{source}"), type=kind, tenant=item.tenant, at=at,
                         change=change, agent_id=agent, sla_clock=sla.clock.value if sla else None,
                         sla_due=sla.due_at if sla else None, item=item)


def delivered_mark(prefix: str, tenant: str, sink: str, event_id: str) -> str:
    """The Redis key saying this sink took this event (kept 7 days)."""
    return f"{prefix}:sink:done:{escape(tenant)}:{escape(sink)}:{event_id}"


def _key(event: SinkEvent) -> bytes:
    return f"{event.tenant}:{event.item.id}".encode()


def _from_decision(decision: RouteDecision | QuarantineDecision, item_id: str) -> WorkItem:
    """The item as the decision describes it, when Redis has not got it in time (no text: the decision has none)."""
    log.warning("work item %s not in Redis after waiting; delivering what its decision says", item_id)
    return WorkItem(id=item_id, tenant=decision.tenant, queue=decision.queue or "",
                    category=decision.category, priority=decision.priority, channel=decision.channel,
                    customer=decision.customer, conversation_key=decision.customer, opened_at=decision.decided_at,
                    message_ids=[decision.message_id], references=decision.references,
                    flags=[f.value for f in decision.flags], sla=decision.sla, trace=decision.trace)


def describe_dead_letters(echo: Callable[[str], None]) -> Callable[[Publication], None]:
    """An on_sink callback that says each dead letter as it happens (receipts are quiet)."""
    def say(publication: Publication) -> None:
        letter = publication.value
        if isinstance(letter, SinkDeadLetter):
            echo(f"sink {letter.event.tenant}/{letter.sink}: {letter.event.type.value} {letter.event.item.id} "
                 f"dead-lettered after {letter.attempts} attempt(s): {letter.error} (`omniroute dlq replay`)")
    return say
