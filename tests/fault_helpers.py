"""Shared by the fault tests: customers' requests, what the queues hold, polling with a deadline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.inbound import InboundMessage
from contracts.workitem import WorkItem
from routing_helpers import msg
from workers.runtime.publisher import publish


def new_prefix() -> str:
    return f"omniroute-test-{uuid.uuid4().hex[:8]}"


def requests(count: int, tag: str) -> list[InboundMessage]:
    """One new request from each of `count` customers (izonie, Messenger); `tag` keeps ids apart between tests."""
    return [msg("izonie", "messenger", f"Where is my order IZ-{10000 + n}? It has not arrived yet",
                sender=f"{tag}-c{n}", provider_id=f"{tag}-{n}") for n in range(count)]


async def items_by_customer(queue: RedisWorkQueue) -> dict[str, list[WorkItem]]:
    out: dict[str, list[WorkItem]] = {}
    for item in await queue.list_open(limit=100_000):
        out.setdefault(item.customer, []).append(item)
    return out


async def holding(queue: RedisWorkQueue, messages: Sequence[InboundMessage],
                  *workers: asyncio.Task) -> dict[str, list[WorkItem]] | None:
    """The items by customer once every message is in some open item; None before. Fails if a worker stopped."""
    for task in workers:
        assert not task.done(), f"a worker stopped: {task.exception() or 'returned'}"
    by_customer = await items_by_customer(queue)
    held = {m for items in by_customer.values() for i in items for m in i.message_ids}
    return by_customer if held >= {m.id for m in messages} else None


async def trickle(producer: AIOKafkaProducer, messages: Sequence[InboundMessage], until: asyncio.Event,
                  *, size: int = 5, pause_s: float = 0.05) -> int:
    """Publish a few messages at a time until `until` is set or all are out; returns how many were sent."""
    sent = 0
    for start in range(0, len(messages), size):
        if until.is_set():
            break
        sent += await publish(producer, messages[start:start + size])
        await asyncio.sleep(pause_s)  # pacing, so the messages span the fault instead of preceding it
    return sent


async def delete_keys(redis: Redis, prefix: str) -> None:
    keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)


def assert_one_item_each(by_customer: dict[str, list[WorkItem]], messages: Sequence[InboundMessage]) -> None:
    """Each customer has one open item and each message is in exactly one item: nothing lost, nothing doubled."""
    doubled = {c: [i.id for i in items] for c, items in by_customer.items() if len(items) > 1}
    assert doubled == {}, f"{len(doubled)} customers have more than one open item"
    held = [m for items in by_customer.values() for i in items for m in i.message_ids]
    mine = {m.id for m in messages}
    assert sorted(m for m in held if m in mine) == sorted(mine)
