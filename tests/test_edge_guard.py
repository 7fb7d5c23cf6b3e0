"""Edge idempotency and flood limits on a real Redis: copies, copies in flight, released claims, floods."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import Endpoint, InboundMessage, Sender
from workers.runtime.edge_guard import Admission, EdgeGuard

WINDOW, KEEP = timedelta(minutes=10), timedelta(days=14)


def message(provider_id: str, sender: str = "27830000001") -> InboundMessage:
    return InboundMessage(tenant="conek", channel=ChannelKind.whatsapp, provider_message_id=provider_id,
                          conversation_key=sender, sender=Sender(platform_id=sender),
                          addressed_to=[Endpoint(kind=EndpointKind.whatsapp_phone_number_id, value="1")],
                          received_at=datetime.now(UTC), text="hello")


def run(redis_url: str, body):
    async def go():
        client = Redis.from_url(redis_url)
        prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
        try:
            return await body(EdgeGuard(client, prefix=prefix, poll_s=0.01))
        finally:
            keys = [k async for k in client.scan_iter(f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    return asyncio.run(go())


def test_a_copy_waits_for_the_first_and_takes_over_when_it_failed(redis_url: str) -> None:
    async def body(guard: EdgeGuard):
        m = message("wamid.1")
        first = await guard.admit([m], window=WINDOW, limit=10, keep=KEEP)
        copy = await guard.admit([m], window=WINDOW, limit=10, keep=KEEP)
        waiting = asyncio.create_task(guard.settle([m], timeout_s=5))
        await guard.release([m])  # the first request's publish failed
        released = await waiting
        retaken = await guard.admit([m], window=WINDOW, limit=10, keep=KEEP)
        await guard.confirm([m], KEEP)
        after = await guard.admit([m], window=WINDOW, limit=10, keep=KEEP)
        timed_out = await guard.settle([message("wamid.2")], timeout_s=0.05)  # never claimed: settled as free
        return first, copy, released, retaken, after, timed_out

    first, copy, released, retaken, after, free = run(redis_url, body)
    assert (first, copy) == ([Admission.new], [Admission.in_flight])
    assert released == [False] and retaken == [Admission.new] and after == [Admission.duplicate]
    assert free == [False]


def test_a_copy_in_flight_settles_as_published(redis_url: str) -> None:
    async def body(guard: EdgeGuard):
        m = message("wamid.3")
        await guard.admit([m], window=WINDOW, limit=10, keep=KEEP)
        waiting = asyncio.create_task(guard.settle([m], timeout_s=5))
        await guard.confirm([m], KEEP)
        stuck = message("wamid.4")
        await guard.admit([stuck], window=WINDOW, limit=10, keep=KEEP)
        return await waiting, await guard.settle([stuck], timeout_s=0.05)

    published, stuck = run(redis_url, body)
    assert published == [True] and stuck == [None]


def test_only_new_messages_count_against_the_sender_and_the_limit_is_per_sender(redis_url: str) -> None:
    async def body(guard: EdgeGuard):
        flood = [message(f"wamid.f{n}") for n in range(5)]
        first = await guard.admit(flood, window=WINDOW, limit=3, keep=KEEP)
        await guard.confirm(flood[:3], KEEP)
        again = await guard.admit(flood[:3], window=WINDOW, limit=3, keep=KEEP)  # redeliveries: not counted
        other = await guard.admit([message("wamid.o1", sender="27830000002")], window=WINDOW, limit=3, keep=KEEP)
        late = await guard.admit([flood[4]], window=WINDOW, limit=3, keep=KEEP)
        return first, again, other, late

    first, again, other, late = run(redis_url, body)
    assert first == [Admission.new] * 3 + [Admission.rate_limited] * 2
    assert again == [Admission.duplicate] * 3 and other == [Admission.new]
    assert late == [Admission.duplicate]  # dropped for good: its redelivery is not a new message


def test_without_redis_the_edge_admits_everything_and_says_so(tmp_path) -> None:
    async def body():
        guard = EdgeGuard(Redis.from_url("redis://127.0.0.1:1/0"), prefix="x")
        admitted = await guard.admit([message("wamid.5")], window=WINDOW, limit=1, keep=KEEP)
        return admitted, guard.degraded

    assert asyncio.run(body()) == ([Admission.new], True)
