"""End to end through a real broker and Redis: native inputs in, routed work in the queues, crash and restart."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from channels import registry
from channels.sinks.redis_queue import RedisWorkQueue
from conftest import ROOT
from contracts.channels import ChannelKind
from contracts.topics import ALL_TOPICS, DEAD_LETTER, INBOUND
from workers.policy_files import load_policies
from workers.runtime.publisher import new_producer, publish
from workers.runtime.route_worker import RouteWorker, RouteWorkerConfig
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

SAMPLES = ROOT / "deploy" / "samples"
POLICIES = load_policies(ROOT / "deploy" / "policies")
pytestmark = pytest.mark.asyncio(loop_scope="module")


def native(tenant: str, channel: ChannelKind, pattern: str):
    out = []
    for path in sorted((SAMPLES / tenant).glob(pattern)):
        out.extend(registry.normalize(channel, path.read_bytes(), tenant, None))
    return out


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A broker of this module's own: its topics carry the production names."""
    broker = EmbeddedBroker(tmp_path_factory.mktemp("e2e-broker"))
    address = await broker.start()
    reports = await ensure_topics(address, ALL_TOPICS)
    assert {r.status for r in reports} == {"created"}
    yield address
    await broker.stop()


class Running:
    def __init__(self, bootstrap: str, redis_url: str, prefix: str) -> None:
        self.config = RouteWorkerConfig(bootstrap=bootstrap, redis_url=redis_url, group=f"route-{prefix}",
                                        redis_prefix=prefix, session_timeout_ms=6000, checkpoint_every_s=0.2)

    async def start(self, *, checkpoint_every_s: float = 0.2) -> RouteWorker:
        self.stop = asyncio.Event()
        self.config.checkpoint_every_s = checkpoint_every_s
        self.worker = RouteWorker(self.config, POLICIES)
        self.task = asyncio.create_task(self.worker.run(self.stop))
        await asyncio.wait_for(self.worker.ready.wait(), 30)
        return self.worker

    async def graceful(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 30)

    async def crash(self) -> None:
        """No final checkpoint: what was processed since the last snapshot is processed again."""
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


async def wait_for(predicate, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the pipeline")
        await asyncio.sleep(0.1)


async def read_topic(bootstrap: str, topic: str, expected: int, timeout: float = 20.0) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None, fetch_max_wait_ms=100)
    await consumer.start()
    values: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(values) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(r.value for records in batch.values() for r in records)
    finally:
        await consumer.stop()
    return values


async def test_native_inputs_reach_the_queues_once_even_after_a_crash(bootstrap: str, redis_url: str) -> None:
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    queue = RedisWorkQueue(redis, prefix=prefix)
    producer = new_producer(bootstrap)
    await producer.start()
    running = Running(bootstrap, redis_url, prefix)
    try:
        await running.start(checkpoint_every_s=3600)  # crashes before its first checkpoint
        alkonect = native("alkonect", ChannelKind.email, "*.eml")
        conek = native("conek", ChannelKind.whatsapp, "*.json")
        izonie = native("izonie", ChannelKind.messenger, "*.json")
        await publish(producer, [*alkonect, *conek, *izonie])

        async def nine_items():  # and the repeat merged: it may be written a batch after the item it joins
            items = await queue.list_open()
            merged = any(i.category == "order_status" and len(i.message_ids) == 2 for i in items)
            return items if len(items) == 9 and merged else None

        items = await wait_for(nine_items)
        by_tenant = {t: [i for i in items if i.tenant == t] for t in ("alkonect", "conek", "izonie")}
        assert {t: len(v) for t, v in by_tenant.items()} == {"alkonect": 3, "conek": 3, "izonie": 3}
        review = next(i for i in by_tenant["izonie"] if "abusive" in i.flags)  # §6's insult: quarantined for a person
        assert review.queue == "trust_safety" and review.sla is None and review is items[-1]  # no clock: listed last
        threat = next(i for i in by_tenant["alkonect"] if "threat" in i.flags)  # §8: work for the escalations team
        assert (threat.queue, threat.priority.value) == ("escalations", "urgent") and threat.sla is not None
        order = next(i for i in by_tenant["alkonect"] if i.category == "order_status" and i.queue == "orders")
        assert order.queue == "orders" and order.repeat_count == 1 and len(order.message_ids) == 2
        assert order.sla is not None and order.trace  # the decision trace travels with the work item
        dues = [i.sla.first_response_due for i in items if i.sla is not None]
        assert len(dues) == 8 and dues == sorted(dues)  # ordered by SLA due

        await wait_for(lambda: _settled(running.worker, 18))
        await running.crash()
        # Redeliver everything (a producer retry after the crash) and add one new request.
        fresh = native("conek", ChannelKind.whatsapp, "01-*.json")[0].model_copy(update={
            "provider_message_id": "wamid.after-crash", "id": "",
            "sender": native("conek", ChannelKind.whatsapp, "04-*.json")[0].sender.model_copy(update={"platform_id": "27820000000"}),
        })
        await publish(producer, [*alkonect, *conek, *izonie, fresh])
        worker = await running.start()

        async def ten_items():
            items = await queue.list_open()
            return items if len(items) == 10 else None

        await wait_for(ten_items)
        await wait_for(lambda: _settled(worker, 18 + 19))  # everything replayed from offset 0, then the redeliveries
        after = await queue.list_open()
        assert len(after) == 10
        assert len({i.id for i in after}) == 10
        again = next(i for i in after if i.id == order.id)
        assert again.repeat_count == 1  # redeliveries were dropped, not counted as repeats
        await running.graceful()
    finally:
        await _teardown(running, producer, redis, prefix)


async def _teardown(running: Running, producer: AIOKafkaProducer, redis: Redis, prefix: str) -> None:
    if not running.task.done():
        await running.crash()
    await producer.stop()
    keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def _settled(worker: RouteWorker, records: int) -> bool:
    return worker.stats.records >= records


async def test_poison_input_is_dead_lettered_and_the_worker_goes_on(bootstrap: str, redis_url: str) -> None:
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    running = Running(bootstrap, redis_url, prefix)
    producer = new_producer(bootstrap)
    await producer.start()
    redis = Redis.from_url(redis_url)
    try:
        worker = await running.start()
        before = len(await read_topic(bootstrap, DEAD_LETTER.name, 0, timeout=1))
        await producer.send_and_wait(INBOUND.name, value=b"\xff\xfenot json", key=b"k")
        await producer.send_and_wait(INBOUND.name, value=b'{"tenant": "alkonect"}', key=b"k")
        good = native("alkonect", ChannelKind.email, "06-*.eml")[0].model_copy(update={"provider_message_id": "poison-test", "id": ""})
        await publish(producer, [good])
        await wait_for(lambda: _settled(worker, 3))
        letters = await read_topic(bootstrap, DEAD_LETTER.name, before + 2)
        assert len(letters) >= before + 2
        last = [orjson.loads(v) for v in letters[-2:]]
        assert last[0]["error_type"] in {"JSONDecodeError", "ValidationError", "ValueError"}
        assert last[0]["source"]["topic"] == INBOUND.name and last[0]["value_b64"]
        assert worker.stats.dead_lettered >= 2 and worker.stats.by_action.get("route", 0) >= 1
        await running.graceful()
    finally:
        await _teardown(running, producer, redis, prefix)


async def test_a_failed_queue_write_commits_nothing_and_a_restart_writes_it(
        bootstrap: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outputs are written while the next batch is decided; a failure there must still stop the commit."""
    producer = new_producer(bootstrap)
    await producer.start()
    redis = Redis.from_url(redis_url)
    failing, clean = (Running(bootstrap, redis_url, f"omniroute-test-{uuid.uuid4().hex[:8]}") for _ in range(2))
    try:
        await publish(producer, [*native("alkonect", ChannelKind.email, "*.eml"),
                                 *native("conek", ChannelKind.whatsapp, "*.json")])

        async def redis_is_down(self, entries):
            raise ConnectionError("redis is down (test)")

        with monkeypatch.context() as patched:
            patched.setattr(RedisWorkQueue, "_store", redis_is_down)
            await failing.start()
            with pytest.raises(ConnectionError):
                await asyncio.wait_for(failing.task, 30)
        assert failing.worker.stats.records == 0  # no batch counted as written
        assert await redis.keys(f"{failing.config.redis_prefix}:route-state*") == []  # no state saved, no commit

        worker = await failing.start()  # Redis is back: everything is decided and written again
        reference = await clean.start()  # a worker that never failed, on the same records

        async def same_queues():
            a = {i.id for i in await RedisWorkQueue(redis, prefix=failing.config.redis_prefix).list_open()}
            b = {i.id for i in await RedisWorkQueue(redis, prefix=clean.config.redis_prefix).list_open()}
            return a if a and a == b and worker.stats.records == reference.stats.records else None

        assert len(await wait_for(same_queues)) >= 5
        await failing.graceful()
    finally:
        if not failing.task.done():
            await failing.crash()
        await redis.delete(*[k async for k in redis.scan_iter(f"{failing.config.redis_prefix}*", count=1000)], "-")
        await _teardown(clean, producer, redis, clean.config.redis_prefix)


async def test_a_cross_channel_repeat_is_merged_when_publishers_key_by_linked_customer(
        bootstrap: str, redis_url: str) -> None:
    """An email, then a chat whose visitor gives the same address: keyed by customer they meet on one partition."""
    from aiokafka.partitioner import DefaultPartitioner

    from routing_helpers import msg
    from workers.runtime.customer_keys import CustomerKeys

    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    producer = new_producer(bootstrap)
    await producer.start()
    running = Running(bootstrap, redis_url, prefix)
    partition = DefaultPartitioner()

    def pair(who: str) -> list:
        email = f"{who}-{prefix}@x.com"
        visitor = next(f"v-{who}-{n}" for n in range(100)  # a visitor id whose own key lands on another partition
                       if partition(f"alkonect:chat:v-{who}-{n}".encode(), list(range(8)), list(range(8)))
                       != partition(f"alkonect:email:{email}".encode(), list(range(8)), list(range(8))))
        return [msg("alkonect", "email", "I cannot log in to my account since yesterday", sender=email,
                    provider_id=f"e-{who}-{prefix}"),
                msg("alkonect", "chat", "still cannot log in to my account", sender=visitor, email=email,
                    provider_id=f"c-{who}-{prefix}", at="2026-11-24T10:30:00")]

    linked, plain = pair("linked"), pair("plain")
    try:
        await running.start()
        await publish(producer, linked, CustomerKeys(redis, prefix=prefix))
        await publish(producer, plain)  # keyed by each sender's own identity: two partitions, two states

        async def settled():
            items = await RedisWorkQueue(redis, prefix=prefix).list_open()
            mine = {m.id for m in [*linked, *plain]}
            ours = [i for i in items if mine & set(i.message_ids)]
            return ours if sum(len(i.message_ids) for i in ours) == 4 else None

        ours = await wait_for(settled)
        by_first = {i.message_ids[0]: i for i in ours}
        merged = by_first[linked[0].id]
        assert merged.message_ids == [linked[0].id, linked[1].id] and merged.repeat_count == 1
        assert {c.value for c in merged.channels_seen} == {"email", "chat"}
        assert plain[1].id in by_first and plain[0].id in by_first  # apart: the limit the index removes
        await running.graceful()
    finally:
        await _teardown(running, producer, redis, prefix)


async def test_customers_naming_one_order_merge_like_the_dry_run(bootstrap: str, redis_url: str) -> None:
    """Two customers (an email address, a phone number) write about one order: one item each pair, as the dry-run.

    Each pair's senders are chosen so that their own customer keys land on different partitions: only the order
    reference can bring the second message to the partition that holds the first one's item.
    """
    import random

    from aiokafka.partitioner import DefaultPartitioner

    from routing_helpers import Stream, msg
    from workers.runtime.customer_keys import CustomerKeys

    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    producer = new_producer(bootstrap)
    await producer.start()
    running = Running(bootstrap, redis_url, prefix)
    partition, partitions = DefaultPartitioner(), list(range(INBOUND.partitions))
    base = random.Random(prefix).randrange(100_000, 900_000)  # this run's own orders: the topic is shared

    def apart(k: int) -> tuple[str, str]:
        return next((f"mail-{prefix}-{k}-{n}", f"phone-{prefix}-{k}-{n}") for n in range(100)
                    if partition(f"alkonect:api:mail-{prefix}-{k}-{n}".encode(), partitions, partitions)
                    != partition(f"alkonect:api:phone-{prefix}-{k}-{n}".encode(), partitions, partitions))

    messages = []
    for k in range(8):
        mail, phone = apart(k)
        order = f"ALK-{base + k}"
        messages += [
            msg("alkonect", "api", f"Where is my order {order}? It has not arrived yet.", sender=mail,
                email=f"{mail}@example.com", to="crm", provider_id=f"a-{k}-{prefix}", at=f"2026-11-24T10:{k:02d}:00"),
            msg("alkonect", "api", f"Hello, I am asking about order {order} for my brother, any news on it?",
                sender=phone, phone=f"+234 80{k} {base:06d}", to="crm", provider_id=f"b-{k}-{prefix}",
                at=f"2026-11-24T10:{k + 20:02d}:00"),
        ]
    dry_run = Stream("alkonect")
    expected: dict[str, list[str]] = {}
    for m in messages:
        decision = dry_run(m)
        expected.setdefault(decision.work_item_id, []).append(m.id)
    assert len(expected) == 8  # the dry-run merges each pair on its order reference

    try:
        await running.start()
        await publish(producer, messages, CustomerKeys(redis, prefix=prefix, policies=POLICIES))

        async def settled():
            items = await RedisWorkQueue(redis, prefix=prefix).list_open(tenant="alkonect")
            mine = {m.id for m in messages}
            ours = {i.id: i.message_ids for i in items if mine & set(i.message_ids)}
            return ours if sum(map(len, ours.values())) == len(messages) else None

        assert await wait_for(settled) == expected
        await running.graceful()
    finally:
        await _teardown(running, producer, redis, prefix)
