"""Redis killed and started again mid-stream: the workers stay up and every message becomes exactly one item."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ConstantBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from channels.sinks.redis_queue import RedisWorkQueue
from fault_helpers import assert_one_item_each, holding, new_prefix, requests, trickle
from polling import until
from sla_app import serve_sla
from test_e2e_route import Running
from workers.runtime.publisher import new_producer, publish
from workers.runtime.sla_store import SlaStore
from workers.runtime.sla_processor import SlaProcessor
from workers.stack.broker import EmbeddedBroker
from workers.stack.procs import stop_process
from workers.stack.redis_server import find_redis_server, start_redis

pytestmark = pytest.mark.asyncio(loop_scope="module")
CUSTOMERS = 300
OUTAGE_S = 3.0


async def test_a_redis_restart_mid_stream_loses_and_doubles_nothing(module_broker: EmbeddedBroker,
                                                                  tmp_path: Path) -> None:
    """An AOF Redis (fsync on every write) SIGKILLed while messages flow, then started again on its files."""
    server = await start_redis(tmp_path, find_redis_server(), appendonly=True)
    port = urlsplit(server.url).port
    prefix = new_prefix()
    # the test's own reads: its pooled connections die with the server, so the first read after the restart fails
    redis = Redis.from_url(server.url, retry=Retry(ConstantBackoff(0.1), 3), retry_on_error=[RedisConnectionError])
    queue, clocks = RedisWorkQueue(redis, prefix=prefix), SlaStore(redis, prefix=prefix)
    producer = new_producer(module_broker.bootstrap)
    await producer.start()
    route = Running(module_broker.bootstrap, server.url, prefix)
    sla_redis = Redis.from_url(server.url)  # the SLA processor's own client, as `App.sla_processor` makes it
    sla = SlaProcessor(sla_redis, prefix=prefix)
    sla_stop = asyncio.Event()
    sla_task = asyncio.create_task(serve_sla(module_broker.bootstrap, sla, f"sla-{prefix}", sla_stop))
    firsts = requests(CUSTOMERS, prefix)
    try:
        worker = await route.start()
        await asyncio.wait_for(sla.ready.wait(), 30)
        flowing = asyncio.Event()
        publishing = asyncio.create_task(trickle(producer, firsts, flowing))
        await until(lambda: _items(queue, CUSTOMERS // 4), what="a quarter of the items")

        await stop_process(server._proc, sig=signal.SIGKILL)  # the fault under test
        down_at = time.monotonic()
        await until(lambda: route.task.done() or sla_task.done() or not (
            worker.health()["redis"].ok or sla.health()["redis"].ok), what="the workers to notice")
        assert not route.task.done() and not sla_task.done()  # re-raises what stopped a worker, if one stopped
        await until(lambda: not worker.health()["redis"].ok and not sla.health()["redis"].ok, what="both noticing")
        assert "ConnectionError" in worker.health()["redis"].error
        await until(lambda: _down_for(worker) >= OUTAGE_S, what="the outage")  # messages keep coming meanwhile

        server = await start_redis(tmp_path, find_redis_server(), port=port, appendonly=True)
        up_at = time.monotonic()
        flowing.set()
        await publish(producer, firsts[await publishing:])
        by_customer = await until(lambda: holding(queue, firsts, route.task, sla_task), timeout=60,
                                  what="every message in an item")
        routed_at = time.monotonic()
        assert_one_item_each(by_customer, firsts)
        assert len(by_customer) == CUSTOMERS
        await until(lambda: _all_clocked(clocks, by_customer), what="every item's SLA clocks")
        assert not route.task.done() and not sla_task.done()
        # the SLA agent and its timer retry on their own backoff (up to 5 s): the last of them to succeed clears it
        await until(lambda: worker.health()["redis"].ok and sla.health()["redis"].ok, what="both healthy again")
        print(f"\nredis down {up_at - down_at:.1f} s; every item in the queues {routed_at - up_at:.1f} s after "
              f"the restart; duplicates 0, lost 0 of {CUSTOMERS}")
        await route.graceful()
        sla_stop.set()
        await asyncio.wait_for(sla_task, 30)
    finally:
        sla_stop.set()
        if not route.task.done():
            await route.crash()
        if not sla_task.done():
            sla_task.cancel()
        await asyncio.gather(sla_task, return_exceptions=True)
        await sla_redis.aclose()
        await producer.stop()
        await redis.aclose()
        await server.stop()


def _down_for(worker) -> float:
    since = worker.health()["redis"].failing_since
    return (datetime.now(UTC) - since).total_seconds() if since else 0.0


async def _items(queue: RedisWorkQueue, count: int) -> bool:
    return len(await queue.list_open(limit=100_000)) >= count


async def _all_clocked(clocks: SlaStore, by_customer: dict) -> bool:
    return all([await clocks.has_clocks(items[0].id) for items in by_customer.values()])
