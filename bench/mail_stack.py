"""What the mail benchmarks share: the in-process stack around a pymap mailbox, polling with a deadline, latency lines."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import ALL_TOPICS
from workers.app import build_app
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.redis_server import delete_prefix, ensure_redis
from workers.stack.topics import ensure_topics


async def until(probe: Callable[[], Awaitable[Any]], what: str, timeout: float = 120.0, every_s: float = 0.005):
    """`probe()`'s first truthy value; exits the benchmark naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (value := await probe()):
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(every_s)
    return value


def print_latencies(rows: list[tuple[str, list[float]]]) -> None:
    """One line per non-empty row of seconds: p50, p90 and max in milliseconds."""
    for name, values in rows:
        if values:
            ms = sorted(v * 1000 for v in values)
            print(f"{name}: p50 {statistics.median(ms):.0f} ms, p90 {ms[max(0, int(len(ms) * 0.9) - 1)]:.0f} ms, "
                  f"max {ms[-1]:.0f} ms ({len(ms)} mails)")


@dataclass
class MailStack:
    app: Any  # workers.app.App
    ingress: Any  # what App.start_ingress returns: its producer and Redis client
    queue: RedisWorkQueue
    exits: AsyncExitStack


@asynccontextmanager
async def mail_stack(work: Path, environ: dict[str, str], **settings: Any) -> AsyncIterator[MailStack]:
    """Embedded broker, Redis, the route worker (ready) and the ingress under its own key prefix; everything stopped
    and the prefix's keys deleted afterwards. The caller starts the processors and pollers it wants."""
    broker = EmbeddedBroker(work / "broker")
    bootstrap = await broker.start()
    redis = await ensure_redis(Settings().redis_url, work / "redis")
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        app = build_app(Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis.url, redis_prefix=prefix,
                                 **settings), environ=environ)
        stop = asyncio.Event()
        worker = app.route_worker()
        task = asyncio.create_task(worker.run(stop))
        async with AsyncExitStack() as exits:
            await asyncio.wait_for(worker.ready.wait(), 60)
            ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
            yield MailStack(app, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), exits)
            stop.set()
            await asyncio.wait_for(task, 60)
    finally:
        await broker.stop()
        await delete_prefix(redis.url, prefix)
        await redis.stop()
