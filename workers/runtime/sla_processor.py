"""The SLA processor: routed decisions start clocks, agent actions stop or pause them, a tick fires deadlines.

It runs as the `sla` agent and timer of the project's faust App (workers/runtime/sla_agent.py), which hands it
each record with its topic, partition and offset and a function that publishes to support.sla-events.v1.

Replies stop the first-response clock, resolutions every clock; `wait_customer` pauses them, and so does
`request_info` where the tenant's policy says so (`sla.pause_on_request_info`; it stops the first response either
way); notes and reassignments leave the clocks alone.

Effectively once: every clock transition and the events it causes are decided in one Redis script that also
writes those events to an outbox under deterministic ids (`tenant:item:clock:kind`, or the action's offset for an
agent's escalation). The processor then applies the escalation move (idempotent: the event id is recorded on the
item), publishes with acks=all and only then deletes the outbox entries; faust commits a record's offset only
after the agent has handled it. A crash anywhere re-runs the remaining steps on restart: nothing is forgotten, no
clock fires twice, and the only possible repeat is a re-publication of the same event under the same `event-id`
header (consumers dedupe). Redeliveries of input records are skipped by the per-item source offsets the scripts
keep. Several replicas may tick the same index safely (a deadline is claimed once); two replicas draining the
outbox at the same moment can publish an event twice, still under one id.

A paused clock (waiting for the customer) resumes with the time it had left: open time on the tenant's
calendar for business-hours clocks (when the processor has the policies), elapsed time otherwise. Warnings and
breaches carry the scheduled time as `at`; stop and pause times are this processor's clock when it handles the
action (the injected Clock, so a demo can run SLA time faster).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.redis_queue import lua as queue_lua
from contracts.decision import MergeDecision, RouteDecision
from contracts.ports import Clock
from contracts.topics import ROUTED
from contracts.workitem import AgentAction, AgentActionKind, SlaEvent, WorkItemState
from routing.policy import TenantPolicy
from workers.runtime.clock import SystemClock
from workers.runtime.codec import decode_decision, encode
from workers.runtime.event_metrics import count_sla_event
from workers.runtime.health import DependencyHealth, Health
from workers.runtime.sla_business_time import calendar_of, resumed_deadlines
from workers.runtime.sla_escalation import escalate_item
from workers.runtime.sla_store import SlaStore

log = logging.getLogger("omniroute.sla")
EVENT_ID_HEADER = "event-id"

# key, value, headers -> an awaitable that resolves when Kafka acknowledged the record (acks=all)
Publish = Callable[[bytes, bytes, list[tuple[str, bytes]]], Awaitable[Awaitable[object]]]


@dataclass
class SlaStats:
    records: int = 0
    skipped: int = 0
    events: dict[str, int] = field(default_factory=dict)


class SlaProcessor:
    def __init__(self, redis: Redis, *, prefix: str = "omniroute", clock: Clock | None = None,
                 on_event: Callable[[SlaEvent], None] | None = None,
                 policies: dict[str, TenantPolicy] | None = None) -> None:
        self.policies = policies or {}  # tenant calendars, for business-hours clocks paused and resumed
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.stats = SlaStats()
        self.ready = asyncio.Event()  # set by the agent's App once it holds partitions
        self.after_publish: Callable[[], Awaitable[None]] | None = None  # test seam: a crash before marking
        self.store = SlaStore(redis, prefix=prefix)
        self.queue = RedisWorkQueue(redis, prefix=prefix)
        self._health = Health("redis", "kafka")

    def health(self) -> dict[str, DependencyHealth]:
        """"redis" and "kafka": ok, or failing since when and with what (the agent retries meanwhile); no I/O."""
        return self._health.view()

    @property
    def dependencies(self) -> Health:
        return self._health

    async def apply(self, topic: str, partition: int, offset: int, value: bytes) -> bool:
        """Apply one input record (idempotent on its topic:partition and offset); True when it may have put events
        in the outbox. Raises ValueError for a record that is not its topic's contract."""
        source = f"{topic}:{partition}"
        if topic == ROUTED.name:
            decision = decode_decision(value)
            if await self.store.decision_applied(decision.message_id):
                return False  # re-published by a route worker after a rebalance: an old merge must not end a new wait
            if isinstance(decision, RouteDecision):
                await self.store.start(decision.work_item_id, decision.tenant, decision.sla, source, offset)
            elif isinstance(decision, MergeDecision):  # the customer wrote again
                await self._resume(decision.work_item_id, source, offset)
                await self.queue.end_wait(decision.work_item_id)
            await self.store.mark_decision(decision.message_id)
            return False
        action = AgentAction.model_validate_json(value)
        await self._act(action, source, offset)
        return True

    async def tick(self, publish: Publish) -> None:
        """Fire every warning and breach due by the clock's now, and publish what the outbox holds."""
        while await self.store.claim_due(self.clock.now()):
            await self.drain(publish)
        await self.drain(publish)

    async def _resume(self, item_id: str, source: str, offset: int) -> None:
        """Paused clocks run again: business-hours clocks with the open time they had left, calendar-time clocks with
        the time they had left, moved to the next opening when that falls while the item's calendar is closed."""
        now, given = self.clock.now(), {}
        if self.policies:
            paused = await self.store.paused_clocks(item_id)
            if paused:
                calendar = calendar_of(await self.queue.get(item_id), self.policies)
                if calendar is not None:
                    given = resumed_deadlines(paused, calendar, now)
        await self.store.resume(item_id, now, source, offset, given)

    async def _act(self, action: AgentAction, source: str, offset: int) -> None:
        item = await self.queue.get(action.work_item_id)
        if item is None or item.tenant != action.tenant:
            log.warning("agent action %s on unknown work item %s of %s: ignored", action.kind.value,
                        action.work_item_id, action.tenant)
            self.stats.skipped += 1
            return
        if action.kind == AgentActionKind.claim:
            if await self.queue.claim_item(item.id, action.agent_id) is None:
                log.info("claim of %s by %s refused: it is %s", item.id, action.agent_id, item.state.value)
            return
        if not await self.store.has_clocks(item.id):  # the action overtook the routed decision
            await self.store.start(item.id, item.tenant, item.sla)
        if action.kind == AgentActionKind.resolve:
            await self.queue.resolve(item.id, action.agent_id, action.at)
            after = await self.queue.get(item.id)
            if after is not None and after.state != WorkItemState.resolved:
                log.info("resolve of %s by %s refused: claimed by %s", item.id, action.agent_id, after.assignee)
                return
        event_id = f"{queue_lua.escape(item.tenant)}:{queue_lua.escape(item.id)}:escalated:{source}:{offset}"
        pause = action.kind == AgentActionKind.request_info and self._request_info_pauses(item.tenant)
        await self.store.act(item.id, action.kind, self.clock.now(), source=source, offset=offset,
                             event_id=event_id, escalate_to=action.escalate_to, pause=pause)
        if action.kind == AgentActionKind.wait_customer or pause:
            await self.queue.wait_customer(item.id)

    def _request_info_pauses(self, tenant: str) -> bool:
        """The tenant's `sla.pause_on_request_info`; without its policy the clocks keep running."""
        policy = self.policies.get(tenant)
        if policy is None:
            log.warning("request_info on a %s item: the SLA worker has no policy for it, so the clocks keep running",
                        tenant)
        return bool(policy and policy.sla.pause_on_request_info)

    async def drain(self, publish: Publish) -> None:
        """Publish the outbox: escalation moves first, then the events (acks=all), then forget them."""
        entries = await self.store.outbox()
        if not entries:
            return
        sends = []
        for entry in entries:
            if entry.cause and entry.event.escalate_to:
                reason = f"{entry.event.clock.value} breached" if entry.cause == "breach" else "escalated by an agent"
                await escalate_item(self.queue, entry.event.work_item_id, entry.event.escalate_to, entry.id, reason)
            sends.append(await publish(f"{entry.event.tenant}:{entry.event.work_item_id}".encode(),
                                       encode(entry.event), [(EVENT_ID_HEADER, entry.id.encode())]))
        await asyncio.gather(*sends)
        if self.after_publish is not None:
            await self.after_publish()
        await self.store.mark_published([e.id for e in entries])
        for entry in entries:
            kind = entry.event.kind.value
            self.stats.events[kind] = self.stats.events.get(kind, 0) + 1
            count_sla_event(entry.event)
            if self.on_event is not None:
                self.on_event(entry.event)
