"""The route worker: batches from support.inbound.v1 -> decide -> routed topics and Redis queues -> commit."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    TopicPartition,
)
from aiokafka.errors import KafkaError

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.ports import Clock
from contracts.topics import DEAD_LETTER, INBOUND, QUARANTINE, REJECTED, ROUTED
from contracts.workitem import WorkItem
from routing.policy import TenantPolicy
from routing.state import MemoryState
from routing.state_snapshot import prune
from routing.work_items import merged_item
from workers.runtime.batched_sends import BatchedSends
from workers.runtime.clock import SystemClock
from workers.runtime.flow_metrics import observe_batch
from workers.runtime.health import DependencyHealth, Health
from workers.runtime.heap import HeapFreezer
from workers.runtime.redis_packing import packing_client
from workers.runtime.retry import retrying
from workers.runtime.route_processor import Outcome, RouteProcessor
from workers.runtime.state_store import PartitionStateStore, PreparedCheckpoint
from workers.stack.kafka_options import worker_clients

log = logging.getLogger("omniroute.route")
_DECISION_TOPICS = (ROUTED.name, REJECTED.name, QUARANTINE.name, DEAD_LETTER.name)  # what RouteProcessor produces to
MERGE_ATTEMPTS = 5  # optimistic rounds against concurrent escalations before the worker gives up (and restarts)


@dataclass
class RouteWorkerConfig:
    bootstrap: str
    redis_url: str
    group: str = "omniroute-route"
    fetch_max_wait_ms: int = 100  # the embedded broker does not answer a waiting fetch early
    max_batch: int = 2000
    session_timeout_ms: int = 10_000  # the embedded broker holds JoinGroup for half of this
    checkpoint_every_s: float = 1.0  # state changes saved and offsets committed; a crash replays at most this much
    prune_every_s: float = 300.0  # forgetting old entries walks the whole state, so it runs seldom
    yield_every: int = 100  # records decided between chances for the previous batch's writes to progress
    client_id: str = "omniroute-route"
    redis_prefix: str = "omniroute"
    request_timeout_ms: int = 40_000  # aiokafka's: a request unanswered this long fails, and the worker retries it
    # from the settings (workers/stack/kafka_options.py): security, client id per role, rack, static membership;
    # they win over the defaults above, except timeouts, which stay the fields above
    producer_options: dict = field(default_factory=dict)
    consumer_options: dict = field(default_factory=dict)


@dataclass
class _Partition:
    state: MemoryState
    next_offset: int | None = None  # offset after the last processed record
    dirty: bool = False


@dataclass
class RouteStats:
    records: int = 0
    dead_lettered: int = 0
    opened: int = 0
    merged: int = 0
    batches: int = 0
    by_action: dict[str, int] = field(default_factory=dict)


class RouteWorker:
    def __init__(self, config: RouteWorkerConfig, policies: dict[str, TenantPolicy], clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.processor = RouteProcessor(policies, self.clock)
        self.policies = policies
        self.partitions: dict[TopicPartition, _Partition] = {}
        self.stats = RouteStats()
        self.ready = asyncio.Event()
        self._last_checkpoint = self._last_prune = time.monotonic()
        self.heap = HeapFreezer()
        self._health = Health("redis", "kafka")
        # The longest of the tenants' periods: the state is per partition, not per tenant (all say 180 days today)
        self._retention = max((p.retention.after_closure.as_timedelta() for p in policies.values()),
                              default=timedelta(days=180))
        self._writing: asyncio.Task | None = None  # the previous batch's acks and queue writes
        self._checkpointing: asyncio.Task | None = None  # the previous checkpoint's Redis write and commit
        # _handle yields mid-batch; a rebalance must not checkpoint a half-decided batch in the meantime
        self._batch_lock = asyncio.Lock()

    def health(self) -> dict[str, DependencyHealth]:
        """"redis" and "kafka": ok, or failing since when and with what (the worker retries meanwhile); no I/O."""
        return self._health.view()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; state is checkpointed and offsets committed before returning.

        Redis and broker faults are retried with backoff (nothing unacknowledged is committed meanwhile); other
        faults stop the worker. It may be run again after a failure: it starts over from the saved state.
        """
        c = self.config
        self._stop = stop
        self.partitions, self._writing, self._checkpointing = {}, None, None
        self._listener_failure: Exception | None = None
        self.ready.clear()
        self.redis = packing_client(c.redis_url)  # queue upserts and checkpoints: thousands of arguments a batch
        self.queue = RedisWorkQueue(self.redis, prefix=c.redis_prefix)
        self.store = PartitionStateStore(self.redis, group=c.group, prefix=c.redis_prefix)
        self.producer, self.consumer = self.clients()
        self._sends = BatchedSends(self.producer)
        self.consumer.subscribe([INBOUND.name], listener=_Rebalance(self))
        await self.producer.start()
        await self.consumer.start()
        try:
            await retrying("route worker: decision topics' metadata",
                           lambda: self._sends.learn_partitions(_DECISION_TOPICS), self._health, stop)
            while not stop.is_set():
                batch = await retrying("route worker: fetching", lambda: self.consumer.getmany(
                    timeout_ms=c.fetch_max_wait_ms, max_records=c.max_batch), self._health, stop)
                if self._listener_failure is not None and not stop.is_set():  # aiokafka only logs it
                    raise self._listener_failure
                if self.consumer.assignment():
                    self.ready.set()
                if batch:
                    async with self._batch_lock:
                        await self._handle(batch)
                if time.monotonic() - self._last_checkpoint >= c.checkpoint_every_s:
                    async with self._batch_lock:  # one checkpoint at a time: a rebalance checkpoints too
                        await self._checkpoint()
                    self.heap.settle()
            async with self._batch_lock:
                await self._checkpoint(wait=True)
        finally:
            self.ready.clear()  # a failed run holds no partitions while it waits to be restarted
            for task in (self._writing, self._checkpointing):
                if task is not None and not task.done():
                    task.cancel()  # only when stopping on a failure: nothing after it was committed
            self._sends.cancel()
            await self.consumer.stop()
            await self.producer.stop()
            await self.redis.aclose()

    def clients(self) -> tuple[AIOKafkaProducer, AIOKafkaConsumer]:
        """The producer and the group consumer, from the config (not started)."""
        return worker_clients(self.config, max_batch_size=256 * 1024)

    async def _handle(self, batch: dict[TopicPartition, list]) -> None:
        """Decide a batch while the previous batch's outputs are still being acknowledged and written.

        Deciding is CPU work in this process; acknowledgements and queue writes are work for the broker and
        Redis. Overlapping them (one batch in flight, outputs strictly in batch order) keeps both busy. Decisions
        are appended to per-partition producer batches as they are made, and the loop yields every `yield_every`
        records so those batches leave (and the in-flight batch's replies are handled) while the rest of the
        batch is decided.
        """
        outcomes: list[Outcome] = []
        every, sends, began = self.config.yield_every, self._sends, time.perf_counter()
        sends.refresh_partitions()
        for tp, records in batch.items():
            part = self.partitions.get(tp)
            if part is None:  # not (or no longer) ours, or its state not restored yet: it is fetched again
                continue
            for rec in records:
                if part.next_offset is not None and rec.offset < part.next_offset:
                    continue  # fetched before the seek to the restored offset: already in the state
                outcome = self.processor.process(part.state, rec.key, rec.value, (tp.topic, tp.partition, rec.offset))
                outcomes.append(outcome)
                for topic, key, value in outcome.produce:
                    sends.add(topic, key, value)
                part.next_offset, part.dirty = rec.offset + 1, True
                if len(outcomes) % every == 0:
                    sends.hand_over()
                    await asyncio.sleep(0)  # lets the producer ship what is decided so far
        observe_batch("route", len(outcomes), time.perf_counter() - began)
        handed = sends.cut()
        await self._outputs_written()
        self._writing = asyncio.create_task(self._write(outcomes, handed))

    async def _send(self, topic: str, key: bytes | None, value: bytes) -> asyncio.Future:
        try:
            return await self.producer.send(topic, value=value, key=key)
        except KafkaError as exc:  # no metadata, or a full buffer, while the broker is away: like an unacked send
            failed = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def _write(self, outcomes: list[Outcome], handed: asyncio.Future[list[asyncio.Future]]) -> None:
        await self._acknowledged(outcomes, handed)  # by the broker, before anything is committed
        await retrying("route worker: writing work items", lambda: self._apply_work_items(outcomes), self._health,
                       self._stop)
        self._count(outcomes)

    async def _acknowledged(self, outcomes: list[Outcome], handed: asyncio.Future[list[asyncio.Future]]) -> None:
        """Wait for the batch's acknowledgements; after a broker fault, send all its records again until acked.

        A record may then be published twice (the broker may have written it before the fault), and after the
        next batch's records: consumers of the decision topics dedupe on the decision's `message_id`.
        """
        pending: list[asyncio.Future] | None = await handed

        async def attempt() -> None:
            nonlocal pending
            if pending is None:  # one record at a time: the slow path, after a fault
                pending = [await self._send(topic, key, value) for o in outcomes for topic, key, value in o.produce]
            results, pending = await asyncio.gather(*pending, return_exceptions=True), None
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                raise failure

        await retrying("route worker: publishing decisions", attempt, self._health, self._stop)

    async def _outputs_written(self) -> None:
        """Wait for the batch in flight; re-raises its failure (the worker stops, nothing is committed)."""
        writing, self._writing = self._writing, None
        if writing is not None:
            await writing

    async def _apply_work_items(self, outcomes: list[Outcome]) -> None:
        opened = [o.opened for o in outcomes if o.opened is not None]
        await self.queue.create_many(opened)  # a replayed `route` leaves the item as merges and escalations left it
        merges = [o.merged for o in outcomes if o.merged is not None]
        for _ in range(MERGE_ATTEMPTS):
            if not merges:
                return
            stored = await self.queue.get_many_versioned(list(dict.fromkeys(m[0].work_item_id for m in merges)))
            updated: dict[str, WorkItem] = {}
            for decision, state_item, reply_to in merges:  # in order: several merges into one item build on each other
                base = updated.get(decision.work_item_id) or stored.get(decision.work_item_id, (None, 0))[0]
                if base is not None and decision.message_id not in base.message_ids:  # else merged before a retry
                    updated[decision.work_item_id] = merged_item(base, decision, state_item, reply_to)
            moved_on = await self.queue.replace_many([(item, stored[i][1]) for i, item in updated.items()])
            merges = [m for m in merges if m[0].work_item_id in moved_on]  # changed meanwhile: merge again
        raise RuntimeError(f"work items kept changing while merging into them: {sorted({m[0].work_item_id for m in merges})}")

    async def _checkpoint(self, *, wait: bool = False) -> None:
        """Save what changed in dirty partitions with their next offsets, then commit those offsets to Kafka.

        The changes are taken and encoded here, at a batch boundary; writing them to Redis and committing happen
        in the background (after the last batch's outputs are written) while the next batches are decided.
        One checkpoint is in flight at most. `wait` returns only once everything is written and committed.
        """
        await self._checkpoint_done()
        self._last_checkpoint = time.monotonic()
        if self._last_checkpoint - self._last_prune >= self.config.prune_every_s:
            self._last_prune = self._last_checkpoint
            now = self.clock.now()
            for p in self.partitions.values():
                if prune(p.state, now, keep_seen_since=now - timedelta(days=8),
                         keep_items_since=now - timedelta(days=30),
                         keep_customers_since=now - self._retention):
                    p.dirty = True
        dirty = {tp: p for tp, p in self.partitions.items() if p.dirty and p.next_offset is not None}
        if dirty:
            prepared = self.store.prepare({(tp.topic, tp.partition): (p.state, p.next_offset) for tp, p in dirty.items()})
            offsets = {tp: p.next_offset for tp, p in dirty.items()}
            for p in dirty.values():
                p.dirty = False
            self._checkpointing = asyncio.create_task(self._persist(self._writing, prepared, offsets))
        if wait:
            await self._outputs_written()
            await self._checkpoint_done()

    async def _persist(self, outputs: asyncio.Task | None, prepared: PreparedCheckpoint,
                       offsets: dict[TopicPartition, int]) -> None:
        if outputs is not None:
            await outputs  # the state saved below already reflects them
        await retrying("route worker: checkpoint", prepared.write, self._health, self._stop)
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            # A restore seeks to the offset saved with the state above, not to the committed one: a commit that
            # fails (broker away, group rebalancing) loses nothing, and the next checkpoint commits further.
            self._health.failing("kafka", exc)
            log.warning("route worker: offset commit failed (%s: %s); the next checkpoint commits",
                        type(exc).__name__, exc)
        else:
            self._health.ok("kafka")

    async def _checkpoint_done(self) -> None:
        """Wait for the checkpoint in flight; re-raises its failure (the worker stops)."""
        checkpointing, self._checkpointing = self._checkpointing, None
        if checkpointing is not None:
            await checkpointing

    def _count(self, outcomes: list[Outcome]) -> None:
        s = self.stats
        s.batches += 1
        for o in outcomes:
            s.records += 1
            if o.decision is None:
                s.dead_lettered += 1
                continue
            s.by_action[o.decision.action.value] = s.by_action.get(o.decision.action.value, 0) + 1
            s.opened += o.opened is not None
            s.merged += o.merged is not None


class _Rebalance(ConsumerRebalanceListener):
    """Load each assigned partition's state (and seek to the offset it reflects); flush revoked ones."""

    def __init__(self, worker: RouteWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked) -> None:
        w = self.worker
        async with w._batch_lock:
            try:
                if revoked and w.partitions:
                    await w._checkpoint(wait=True)
            finally:  # aiokafka logs a listener's failure and goes on: these partitions are not ours any more
                for tp in revoked:
                    w.partitions.pop(tp, None)

    async def on_partitions_assigned(self, assigned) -> None:
        """Restore every assigned partition before any of its records is decided.

        The partitions are paused first and the batch lock held: a record decided on an empty state while its
        state is still loading would open a second work item for a repeat (issue 14). Each partition then
        starts at the offset its state reflects (or at the committed offset, or the beginning, when it has none).
        """
        w = self.worker
        assigned = list(assigned)
        if not assigned:
            return
        w.consumer.pause(*assigned)
        try:
            await self._restore(assigned)
        except Exception as exc:  # a partition left unrestored would be skipped: the worker stops (and restarts)
            w._listener_failure = exc
            raise
        finally:
            w.consumer.resume(*assigned)
        log.info("route worker assigned %s", sorted(f"{tp.topic}[{tp.partition}]" for tp in assigned))

    async def _restore(self, assigned: list[TopicPartition]) -> None:
        w = self.worker
        async with w._batch_lock:
            for tp in assigned:
                # Retried here, under the lock and with the partitions paused: a partition left unrestored
                # would have its records skipped until the next rebalance.
                where = f"{tp.topic}[{tp.partition}]"
                restored = await retrying(f"route worker: restoring {where}",
                                          lambda tp=tp: w.store.load(tp.topic, tp.partition), w._health, w._stop)
                if restored is not None:
                    w.partitions[tp] = _Partition(restored.state, next_offset=restored.next_offset)
                    w.consumer.seek(tp, restored.next_offset)
                    continue
                committed = await retrying(f"route worker: committed offset of {where}",
                                           lambda tp=tp: w.consumer.committed(tp), w._health, w._stop)
                if committed is None:
                    await w.consumer.seek_to_beginning(tp)
                else:  # offsets are committed only after the state is saved: Redis lost it
                    log.error("route worker: no routing state in Redis for %s although offset %d is committed "
                              "(Redis lost its data?); going on from there with an empty state", where, committed)
                    w.consumer.seek(tp, committed)
                w.partitions[tp] = _Partition(MemoryState(), next_offset=committed)
