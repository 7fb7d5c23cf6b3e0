"""Chat presence leases and the 'away' mark stored with a frame, against a real Redis (no broker needed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import redis.asyncio as aioredis
from polling import until

from channels.chat.wire import FrameType
from workers.runtime.chat_presence import ChatPresence
from workers.runtime.chat_store import ChatStore

NOW = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def run(redis_url: str, body) -> None:
    async def main() -> None:
        client = aioredis.Redis.from_url(redis_url)
        store = ChatStore(client, prefix=f"omniroute-presence-test-{uuid4().hex[:8]}")
        try:
            await body(store)
        finally:
            keys = [k async for k in client.scan_iter(f"{store.prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()

    asyncio.run(main())


def test_a_frame_stored_while_nobody_is_connected_is_marked_away(redis_url: str) -> None:
    async def body(store: ChatStore) -> None:
        presence = ChatPresence(store)
        session = await store.create("izonie", "https://izonie.com", name=None, email="ada@example.com")
        assert await store.push(session.session_id, FrameType.agent_reply, NOW, away="out-1", text="a") == 1
        async with presence.holding(session.session_id):
            assert await presence.connected(session.session_id)
            assert await store.push(session.session_id, FrameType.agent_reply, NOW, away="out-2", text="b") == 2
        assert not await presence.connected(session.session_id)  # the closed socket gave its lease back
        assert await store.push(session.session_id, FrameType.agent_reply, NOW, away="out-3", text="c") == 3
        assert [await store.was_away(session.session_id, i) for i in ("out-1", "out-2", "out-3")] == [True, False, True]

    run(redis_url, body)


def test_a_lease_nobody_renews_lapses(redis_url: str) -> None:
    """A gateway that dies stops renewing: its visitor counts as gone once the lease has run out."""

    async def body(store: ChatStore) -> None:
        stalled = ChatPresence(store, lease=timedelta(milliseconds=300), refresh=timedelta(hours=1))
        session = await store.create("izonie", "https://izonie.com", name=None, email=None)
        async with stalled.holding(session.session_id):
            assert await stalled.connected(session.session_id)
            await until(lambda: _not(stalled.connected(session.session_id)))
            assert await store.push(session.session_id, FrameType.agent_reply, NOW, away="late", text="x") == 1
            assert await store.was_away(session.session_id, "late")

    run(redis_url, body)


def test_typing_pulses_repeat_the_latest_seq_and_are_not_stored(redis_url: str) -> None:
    async def body(store: ChatStore) -> None:
        session = await store.create("izonie", "https://izonie.com", name=None, email=None)
        await store.push(session.session_id, FrameType.agent_reply, NOW, text="hello")
        pubsub = store.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(store.channel)
        try:
            assert await store.pulse(session.session_id, FrameType.typing, NOW) == 1
            message, deadline = None, asyncio.get_running_loop().time() + 30
            while message is None:
                assert asyncio.get_running_loop().time() < deadline, "no typing frame published"
                message = await pubsub.get_message(timeout=1.0)
            assert message["data"].startswith(f"{session.session_id}\n".encode() + b'{"seq":1,"type":"typing"')
        finally:
            await pubsub.aclose()
        assert await store.last_seq(session.session_id) == 1
        assert len(await store.frames_after(session.session_id, 0)) == 1
        await store.end(session.session_id, "done", NOW)
        assert await store.pulse(session.session_id, FrameType.typing, NOW) == -1
        assert await store.pulse("cs_unknown", FrameType.typing, NOW) == 0

    run(redis_url, body)


async def _not(probe) -> bool:
    return not await probe
