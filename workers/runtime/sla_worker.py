"""The SLA worker: routed decisions start clocks, agent actions stop or pause them, a ticker fires deadlines.

Replies stop the first-response clock, resolutions every clock; `wait_customer` pauses them, and so does
`request_info` where the tenant's policy says so (`sla.pause_on_request_info`; it stops the first response either
way); notes and reassignments leave the clocks alone.

Effectively once: every clock transition and the events it causes are decided in one Redis script that also
writes those events to an outbox under deterministic ids (`tenant:item:clock:kind`, or the action's offset for an
agent's escalation). The worker then applies the escalation move (idempotent: the event id is recorded on the
item), publishes with acks=all and only then deletes the outbox entries; Kafka offsets are committed after that.
A crash anywhere re-runs the remaining steps on restart: nothing is forgotten, no clock fires twice, and the
only possible repeat is a re-publication of the same event under the same `event-id` header (consumers dedupe).
Redeliveries of input records are skipped by the per-item source offsets the scripts keep. Several replicas may
tick the same index safely (a deadline is claimed once); two replicas draining the outbox at the same moment can
publish an event twice, still under one id.

A paused clock (waiting for the customer) resumes with the time it had left: open time on the tenant's
calendar for business-hours clocks (when the worker has the policies), elapsed time otherwise. Warnings and
breaches carry the scheduled time as `at`; stop and pause times are this worker's clock when it handles the
action (the injected Clock, so a demo can run SLA time faster).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.redis_queue import lua as queue_lua
from contracts.decision import MergeDecision, RouteDecision
from contracts.ports import Clock
from contracts.topics import AGENT_ACTIONS, DEAD_LETTER, ROUTED, SLA_EVENTS
from contracts.workitem import AgentAction, AgentActionKind, SlaEvent, WorkItemState
from routing.policy import TenantPolicy
from workers.runtime.clock import SystemClock
from workers.runtime.codec import decode_decision, encode
from workers.runtime.event_metrics import count_sla_event
from workers.runtime.flow_metrics import observe_batch
from workers.runtime.health import DependencyHealth, Health
from workers.runtime.retry import retrying
from workers.runtime.route_processor import dead_letter
from workers.runtime.sla_business_time import calendar_of, resumed_deadlines
from workers.runtime.sla_escalation import escalate_item
from workers.runtime.sla_store import SlaStore
from workers.stack.kafka_options import worker_clients

log = logging.getLogger("omniroute.sla")
EVENT_ID_HEADER = "event-id"


@dataclass
class SlaWorkerConfig:
    bootstrap: str
    redis_url: str
    group: str = "omniroute-sla"
    redis_prefix: str = "omniroute"
    fetch_max_wait_ms: int = 100
    max_batch: int = 1000
    session_timeout_ms: int = 10_000
    tick_every_s: float = 0.5
    client_id: str = "omniroute-sla"
    request_timeout_ms: int = 40_000  # aiokafka's: a request unanswered this long fails, and the worker retries it
    # from the settings (workers/stack/kafka_options.py), as RouteWorkerConfig's
    producer_options: dict = field(default_factory=dict)
    consumer_options: dict = field(default_factory=dict)


@dataclass
class SlaStats:
    records: int = 0
    skipped: int = 0
    events: dict[str, int] = field(default_factory=dict)


class SlaWorker:
    def __init__(self, config: SlaWorkerConfig, clock: Clock | None = None,
                 on_event: Callable[[SlaEvent], None] | None = None,
                 policies: dict[str, TenantPolicy] | None = None) -> None:
        self.config = config
        self.policies = policies or {}  # tenant calendars, for business-hours clocks paused and resumed
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.stats = SlaStats()
        self.ready = asyncio.Event()
        self.after_publish: Callable[[], Awaitable[None]] | None = None  # test seam: a crash before marking
        self._health = Health("redis", "kafka")

    def health(self) -> dict[str, DependencyHealth]:
        """"redis" and "kafka": ok, or failing since when and with what (the worker retries meanwhile); no I/O."""
        return self._health.view()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume and tick until `stop` is set; first re-publishes whatever a previous run left in the outbox.

        Redis and broker faults are retried with backoff: a batch is applied again from its start (the scripts
        skip what was applied) and committed only once applied and its events acknowledged. Other faults stop it.
        """
        c = self.config
        self._stop = stop
        self.ready.clear()
        self.redis = Redis.from_url(c.redis_url)
        self.store = SlaStore(self.redis, prefix=c.redis_prefix)
        self.queue = RedisWorkQueue(self.redis, prefix=c.redis_prefix)
        self.producer, self.consumer = self.clients()
        self.consumer.subscribe([ROUTED.name, AGENT_ACTIONS.name])
        await self.producer.start()
        await self.consumer.start()
        try:
            await retrying("sla worker: outbox", self._drain, self._health, stop)
            last_tick = 0.0
            while not stop.is_set():
                batch = await retrying("sla worker: fetching", lambda: self.consumer.getmany(
                    timeout_ms=c.fetch_max_wait_ms, max_records=c.max_batch), self._health, stop)
                if self.consumer.assignment():
                    self.ready.set()
                if batch:
                    await self._handle(batch)
                if time.monotonic() - last_tick >= c.tick_every_s:
                    last_tick = time.monotonic()
                    await retrying("sla worker: tick", self.tick, self._health, stop)
        finally:
            await self.consumer.stop()
            await self.producer.stop()
            await self.redis.aclose()

    def clients(self) -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:
        """The producer and the group consumer, from the config (not started)."""
        return worker_clients(self.config)

    async def tick(self) -> None:
        """Fire every warning and breach due by the clock's now."""
        while await self.store.claim_due(self.clock.now()):
            await self._drain()
        await self._drain()

    async def _handle(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        began = time.perf_counter()
        skipped = await retrying("sla worker: applying a batch", lambda: self._apply_batch(batch), self._health,
                                 self._stop)
        observe_batch("sla", sum(len(records) for records in batch.values()), time.perf_counter() - began)
        self.stats.records += sum(len(records) for records in batch.values())
        self.stats.skipped += skipped
        try:
            await self.consumer.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
        except KafkaError as exc:  # the batch is applied: delivered again, its records are skipped by the scripts
            self._health.failing("kafka", exc)
            log.warning("sla worker: offset commit failed (%s: %s); the next batch commits", type(exc).__name__, exc)
        else:
            self._health.ok("kafka")

    async def _apply_batch(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> int:
        """Apply every record and publish the events they caused; returns how many records were dead-lettered."""
        skipped = 0
        for tp, records in batch.items():
            for rec in records:
                try:
                    await self._apply(tp, rec)
                except ValueError as exc:  # undecodable input: dead-lettered, the worker goes on
                    skipped += 1
                    where = (tp.topic, tp.partition, rec.offset)
                    await self.producer.send_and_wait(DEAD_LETTER.name, key=rec.key,
                                                      value=dead_letter(exc, rec.key, rec.value, where))
        await self._drain()
        return skipped

    async def _apply(self, tp: TopicPartition, rec: ConsumerRecord) -> None:
        source = f"{tp.topic}:{tp.partition}"
        if tp.topic == ROUTED.name:
            decision = decode_decision(rec.value)
            if await self.store.decision_applied(decision.message_id):
                return  # re-published by a route worker after a rebalance: an old merge must not end a new wait
            if isinstance(decision, RouteDecision):
                await self.store.start(decision.work_item_id, decision.tenant, decision.sla, source, rec.offset)
            elif isinstance(decision, MergeDecision):  # the customer wrote again
                await self._resume(decision.work_item_id, source, rec.offset)
                await self.queue.end_wait(decision.work_item_id)
            await self.store.mark_decision(decision.message_id)
            return
        action = AgentAction.model_validate_json(rec.value)
        await self._act(action, source, rec.offset)

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

    async def _drain(self) -> None:
        """Publish the outbox: escalation moves first, then the events (acks=all), then forget them."""
        entries = await self.store.outbox()
        if not entries:
            return
        sends = []
        for entry in entries:
            if entry.cause and entry.event.escalate_to:
                reason = f"{entry.event.clock.value} breached" if entry.cause == "breach" else "escalated by an agent"
                await escalate_item(self.queue, entry.event.work_item_id, entry.event.escalate_to, entry.id, reason)
            sends.append(await self.producer.send(
                SLA_EVENTS.name, value=encode(entry.event),
                key=f"{entry.event.tenant}:{entry.event.work_item_id}".encode(),
                headers=[(EVENT_ID_HEADER, entry.id.encode())]))
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

