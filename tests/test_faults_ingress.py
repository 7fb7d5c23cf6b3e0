"""The ingress under faults: a frozen broker → 503 + Retry-After and /readyz 503, then recovery with nothing
acknowledged lost; Redis gone → still accepting, /readyz degraded but ready."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from fault_helpers import delete_keys, new_prefix
from polling import until
from workers.app import build_app
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.procs import stop_process
from workers.stack.redis_server import find_redis_server, start_redis

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "fault-token"
ACK_TIMEOUT_S = 1.0
FREEZE_S = 3 * ACK_TIMEOUT_S


def message(tag: str, n: int) -> dict:
    return {"provider_message_id": f"{tag}-{n}", "conversation_key": f"{tag}-{n}", "text": "I was charged twice",
            "sender": {"platform_id": f"{tag}-customer-{n}"}, "addressed_to": [{"kind": "api", "value": "crm"}]}


class Client:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def post(self, body: dict) -> tuple[int, dict, dict]:
        async with self.http.post(f"{self.base}/v1/conek/messages", json=body,
                                  headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            return answer.status, await answer.json(), dict(answer.headers)

    async def ready(self) -> tuple[int, dict]:
        async with self.http.get(f"{self.base}/readyz") as answer:
            return answer.status, await answer.json()


async def test_a_frozen_broker_gets_503s_and_readiness_false_then_recovers_losing_nothing_acknowledged(
        module_broker: EmbeddedBroker, redis_url: str) -> None:
    prefix, tag = new_prefix(), uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap_servers=module_broker.bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=TOKEN, kafka_ack_timeout_s=ACK_TIMEOUT_S)
    app = build_app(settings)
    stop = asyncio.Event()
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2,
                              request_timeout_ms=4000)
    task = asyncio.create_task(worker.run(stop))
    acknowledged: list[str] = []
    refused: list[dict] = []
    frozen = False
    async with AsyncExitStack() as exits:
        try:
            await asyncio.wait_for(worker.ready.wait(), 30)
            ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, hosted={"route": worker},
                                              host="127.0.0.1", port=0)
            http = aiohttp.ClientSession()
            exits.push_async_callback(http.close)
            client = Client(http, ingress.url)
            assert (await client.ready())[0] == 200
            for n in range(10):
                status, body, _ = await client.post(message(tag, n))
                assert status == 202, body
                acknowledged.append(body["id"])

            os.kill(module_broker.pid, signal.SIGSTOP)
            frozen, frozen_at = True, time.monotonic()
            n = 10
            while time.monotonic() - frozen_at < FREEZE_S:
                status, body, headers = await client.post(message(tag, n))
                n += 1
                if status == 202:  # acknowledged in the instant before the freeze took hold
                    acknowledged.append(body["id"])
                    continue
                assert status == 503 and headers.get("Retry-After"), (status, body)
                assert "Kafka did not acknowledge" in body["error"]
                refused.append(body)
            status, report = await client.ready()
            assert status == 503 and report["status"] == "unavailable", report
            assert report["dependencies"]["kafka"]["ok"] is False
            os.kill(module_broker.pid, signal.SIGCONT)
            frozen, thawed_at = False, time.monotonic()

            await until(lambda: _is_ready(client), timeout=60, what="/readyz 200 after the thaw")
            ready_at = time.monotonic()
            for m in range(n, n + 10):
                status, body, _ = await client.post(message(tag, m))
                assert status == 202, body
                acknowledged.append(body["id"])
            queue = RedisWorkQueue(ingress.redis, prefix=prefix)
            held = await until(lambda: _holding(queue, acknowledged, task), timeout=60,
                               what="every acknowledged message in an item")
            assert refused, "the freeze outlasted the bound, so some posts must have been refused"
            assert all(held[i] == 1 for i in acknowledged)  # one item each: nothing lost, nothing doubled
            print(f"\nbroker frozen {thawed_at - frozen_at:.1f} s: {len(refused)} posts answered 503 "
                  f"(bound {ACK_TIMEOUT_S:g} s); ready again {ready_at - thawed_at:.1f} s after the thaw; "
                  f"lost 0 and doubled 0 of {len(acknowledged)} acknowledged")
        finally:
            if frozen:
                os.kill(module_broker.pid, signal.SIGCONT)
            stop.set()
            await asyncio.wait_for(task, 30)
            await delete_keys(ingress.redis if "ingress" in locals() else Redis.from_url(redis_url), prefix)


async def test_the_ingress_alone_keeps_accepting_without_redis_and_says_it_is_degraded(
        module_broker: EmbeddedBroker, tmp_path: Path) -> None:
    server = await start_redis(tmp_path, find_redis_server())
    prefix, tag = new_prefix(), uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap_servers=module_broker.bootstrap, redis_url=server.url, redis_prefix=prefix,
                        api_token=TOKEN, kafka_ack_timeout_s=5.0)
    app = build_app(settings)
    try:
        async with AsyncExitStack() as exits:
            ingress = await app.start_ingress(exits, host="127.0.0.1", port=0)
            http = aiohttp.ClientSession()
            exits.push_async_callback(http.close)
            client = Client(http, ingress.url)
            assert (await client.ready())[1]["status"] == "ready"
            await stop_process(server._proc, sig=signal.SIGKILL)  # noqa: SLF001 - the fault under test

            status, body, _ = await client.post(message(tag, 1))
            assert status == 202, body  # keyed by sender: Redis is not on the write path
            await until(lambda: _status_is(client, "degraded"), timeout=30, what="/readyz to notice")  # cached 1 s
            status, report = await client.ready()
            assert status == 200 and report["ready"] is True, report
            redis = report["dependencies"]["redis"]
            assert redis["ok"] is False and "keyed by sender" in redis["meanwhile"]

            server = await start_redis(tmp_path, find_redis_server(), port=urlsplit(server.url).port)
            await until(lambda: _status_is(client, "ready"), timeout=30, what="ready again with Redis back")
    finally:
        await server.stop()


async def _is_ready(client: Client) -> bool:
    return (await client.ready())[0] == 200


async def _status_is(client: Client, status: str) -> bool:
    return (await client.ready())[1]["status"] == status


async def _holding(queue: RedisWorkQueue, ids: list[str], task: asyncio.Task) -> Counter | None:
    assert not task.done(), f"the route worker stopped: {task.exception() or 'returned'}"
    held = Counter(m for item in await queue.list_open(limit=100_000) for m in item.message_ids)
    return held if all(held[i] for i in ids) else None
