"""The broker frozen (SIGSTOP) past the clients' request timeout, then thawed: nothing lost, nothing doubled."""

from __future__ import annotations

import contextlib
import os
import signal
import time

import pytest
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from fault_helpers import assert_one_item_each, delete_keys, holding, new_prefix, requests
from polling import until
from test_e2e_route import Running
from workers.runtime.publisher import new_producer, publish
from workers.stack.broker import EmbeddedBroker

pytestmark = pytest.mark.asyncio(loop_scope="module")
BEFORE, BURST, AFTER = 150, 450, 150  # customers: routed before the freeze, in flight when it starts, after it
REQUEST_TIMEOUT_MS = 4000  # above the 3 s the embedded broker holds a JoinGroup (half the 6 s session timeout)


async def test_a_broker_frozen_past_the_request_timeout_is_waited_out(module_broker: EmbeddedBroker,
                                                                     redis_url: str) -> None:
    prefix = new_prefix()
    redis = Redis.from_url(redis_url)
    queue = RedisWorkQueue(redis, prefix=prefix)
    producer = new_producer(module_broker.bootstrap)  # aiokafka's 40 s request timeout: it waits the freeze out
    await producer.start()
    route = Running(module_broker.bootstrap, redis_url, prefix)
    route.config.request_timeout_ms = REQUEST_TIMEOUT_MS
    messages = requests(BEFORE + BURST + AFTER, prefix)
    frozen = False
    try:
        worker = await route.start()
        await publish(producer, messages[:BEFORE])
        await until(lambda: holding(queue, messages[:BEFORE]), what="the first items")
        await until(lambda: not any(p.dirty for p in worker.partitions.values()), what="a checkpoint")

        # Frozen as soon as the worker decides the burst: the rest of it is decided and produced while the broker
        # is silent, so its produce requests and its next commit outlive the request timeout.
        await publish(producer, messages[BEFORE:BEFORE + BURST])
        await until(lambda: any(p.dirty for p in worker.partitions.values()), what="the burst", every_s=0.001)
        os.kill(module_broker.pid, signal.SIGSTOP)
        frozen, frozen_at = True, time.monotonic()
        with contextlib.suppress(AssertionError):  # the freeze lasts until the worker noticed, 3 timeouts at most
            await until(lambda: route.task.done() or not worker.health()["kafka"].ok,
                        timeout=3 * REQUEST_TIMEOUT_MS / 1000, what="the worker to notice")
        noticed = "stopped" if route.task.done() else not worker.health()["kafka"].ok
        os.kill(module_broker.pid, signal.SIGCONT)
        frozen, thawed_at = False, time.monotonic()
        assert thawed_at - frozen_at > REQUEST_TIMEOUT_MS / 1000
        assert not route.task.done()  # re-raises what stopped the worker, if it stopped

        await publish(producer, messages[BEFORE + BURST:])
        by_customer = await until(lambda: holding(queue, messages, route.task), timeout=60,
                                  what="every message in an item")
        routed_at = time.monotonic()
        assert_one_item_each(by_customer, messages)
        assert len(by_customer) == len(messages) and not route.task.done()
        await until(lambda: worker.health()["kafka"].ok, what="kafka healthy again")
        print(f"\nbroker frozen {thawed_at - frozen_at:.1f} s (worker noticed: {noticed}); every item in the queues "
              f"{routed_at - thawed_at:.1f} s after the thaw; duplicates 0, lost 0 of {len(messages)}")
        await route.graceful()
    finally:
        if frozen:
            os.kill(module_broker.pid, signal.SIGCONT)
        if hasattr(route, "task") and not route.task.done():
            await route.crash()
        await producer.stop()
        await delete_keys(redis, prefix)
        await redis.aclose()
