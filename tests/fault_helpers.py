"""Shared by the fault tests: a broker of the module's own, customers who repeat themselves, and what the queues hold."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.inbound import InboundMessage
from contracts.topics import ALL_TOPICS
from contracts.workitem import WorkItem
from routing_helpers import msg
from workers.runtime.publisher import publish
from workers.stack.broker import EmbeddedBroker
from workers.stack.kafka_compat import apply_tansu_leave_group_fix
from workers.stack.topics import ensure_topics


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedBroker]:
    """A broker of this module's own (its topics carry the production names); `.bootstrap`, `.pid`."""
    embedded = EmbeddedBroker(tmp_path_factory.mktemp("faults-broker"))
    address = await embedded.start()
    apply_tansu_leave_group_fix()  # a leaving worker leaves at once instead of after its session timeout
    await ensure_topics(address, ALL_TOPICS)
    yield embedded
    await embedded.stop()


def new_prefix() -> str:
    return f"omniroute-test-{uuid.uuid4().hex[:8]}"


def _request(tag: str, n: int, which: str, at: str) -> InboundMessage:
    return msg("izonie", "messenger", f"Where is my order IZ-{10000 + n}? It has not arrived yet",
               sender=f"{tag}-c{n}", provider_id=f"{tag}-{which}-{n}", at=at)


def requests(count: int, tag: str) -> list[InboundMessage]:
    """One new request from each of `count` customers (izonie, Messenger); `tag` keeps ids apart between tests."""
    return [_request(tag, n, "first", "2026-11-24T10:00:00") for n in range(count)]


def repeats(count: int, tag: str) -> list[InboundMessage]:
    """The same requests again, five minutes later, as new messages: `decide` merges each into its open item."""
    return [_request(tag, n, "again", "2026-11-24T10:05:00") for n in range(count)]


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


def chunks(messages: Sequence[InboundMessage], size: int) -> Iterator[Sequence[InboundMessage]]:
    for start in range(0, len(messages), size):
        yield messages[start:start + size]


async def trickle(producer: AIOKafkaProducer, messages: Sequence[InboundMessage], until: asyncio.Event,
                  *, size: int = 5, pause_s: float = 0.05) -> int:
    """Publish a few messages at a time until `until` is set or all are out; returns how many were sent."""
    sent = 0
    for chunk in chunks(messages, size):
        if until.is_set():
            break
        sent += await publish(producer, chunk)
        await asyncio.sleep(pause_s)  # pacing, so the messages span the fault instead of preceding it
    return sent


async def delete_keys(redis: Redis, prefix: str) -> None:
    keys = [k async for k in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)


async def until(predicate: Callable[[], object], timeout: float = 60.0, what: str = "the condition", *,
                every_s: float = 0.05) -> object:
    """Poll a plain or async predicate until it is truthy; fails after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(every_s)


def assert_one_item_each(by_customer: dict[str, list[WorkItem]], messages: Sequence[InboundMessage]) -> None:
    """Each customer has one open item and each message is in exactly one item: nothing lost, nothing doubled."""
    doubled = {c: [i.id for i in items] for c, items in by_customer.items() if len(items) > 1}
    assert doubled == {}, f"{len(doubled)} customers have more than one open item"
    held = [m for items in by_customer.values() for i in items for m in i.message_ids]
    mine = {m.id for m in messages}
    assert sorted(m for m in held if m in mine) == sorted(mine)
