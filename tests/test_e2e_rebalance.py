"""Repeats decided while route workers join and leave the group: never a second work item (issue 14, fault 1)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import ALL_TOPICS
from routing_helpers import msg
from test_e2e_route import Running, wait_for
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.publisher import new_producer, publish
from workers.runtime.state_store import PartitionStateStore
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
CUSTOMERS = 240


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bootstrap(tmp_path_factory: pytest.TempPathFactory):
    broker = EmbeddedBroker(tmp_path_factory.mktemp("rebalance-broker"))
    address = await broker.start()
    await ensure_topics(address, ALL_TOPICS)
    yield address
    await broker.stop()


async def test_repeats_during_a_join_and_a_leave_open_no_second_item(bootstrap: str, redis_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Restores are slowed down so the window in which a partition is assigned but not restored is wide."""
    load = PartitionStateStore.load

    async def slow_load(self, topic: str, partition: int):
        await asyncio.sleep(0.3)
        return await load(self, topic, partition)

    monkeypatch.setattr(PartitionStateStore, "load", slow_load)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    producer = new_producer(bootstrap)
    await producer.start()
    customers = CustomerKeys(redis, prefix=prefix)
    firsts = [msg("alkonect", "email", "I cannot log in to my account since yesterday", sender=f"c{n}-{prefix}@x.com",
                  provider_id=f"a-{n}-{prefix}") for n in range(CUSTOMERS)]
    repeats = [msg("alkonect", "email", "still cannot log in to my account", sender=f"c{n}-{prefix}@x.com",
                   provider_id=f"b-{n}-{prefix}", at="2026-11-24T10:30:00") for n in range(CUSTOMERS)]
    a, b = Running(bootstrap, redis_url, prefix), Running(bootstrap, redis_url, prefix)
    try:
        await a.start()
        await publish(producer, firsts, customers)
        queue = RedisWorkQueue(redis, prefix=prefix)

        async def all_opened():
            return len(await queue.list_open()) >= CUSTOMERS or None

        await wait_for(all_opened, 60)
        third = CUSTOMERS // 3
        joining = asyncio.create_task(b.start())  # a second replica joins while repeats arrive
        for chunk in range(0, third, 10):
            await publish(producer, repeats[chunk:min(chunk + 10, third)], customers)
            await asyncio.sleep(0.05)  # spread over the rebalance, not a fixed wait before an assertion
        await joining
        await publish(producer, repeats[third:2 * third], customers)
        leaving = asyncio.create_task(b.graceful())  # and leaves while more arrive
        for chunk in range(2 * third, CUSTOMERS, 10):
            await publish(producer, repeats[chunk:chunk + 10], customers)
            await asyncio.sleep(0.05)
        await leaving

        async def settled():
            items = await queue.list_open()
            return items if sum(len(i.message_ids) for i in items) >= 2 * CUSTOMERS else None

        items = await wait_for(settled, 90)
        per_customer = Counter(i.customer for i in items)
        doubled = sorted(c for c, n in per_customer.items() if n > 1)
        assert doubled == [], f"{len(doubled)} customers with two open items, e.g. {doubled[:3]}"
        assert len(items) == CUSTOMERS and all(i.repeat_count == 1 for i in items)
        await a.graceful()
    finally:
        for running in (a, b):
            if getattr(running, "task", None) is not None and not running.task.done():
                await running.crash()
        await producer.stop()
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
