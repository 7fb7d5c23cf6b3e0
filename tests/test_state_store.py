"""PartitionStateStore: incremental checkpoints in a real Redis restore exactly the state that was live."""

from __future__ import annotations

import asyncio
import zlib
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import orjson
import pytest
from redis.asyncio import Redis

from routing.decide import decide
from routing.record import record
from routing.state import MemoryState
from routing.state_snapshot import prune, snapshot
from routing_helpers import policy
from test_decide_golden import build_stream
from workers.runtime.state_store import PartitionStateStore

TOPIC = "support.inbound.v1"


def _run(redis_url: str, body):
    async def main():
        client = Redis.from_url(redis_url)
        prefix = f"omniroute-test-{uuid4().hex[:8]}"
        try:
            return await body(PartitionStateStore(client, group="g", prefix=prefix), client)
        finally:
            keys = [k async for k in client.scan_iter(f"{prefix}*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    return asyncio.run(main())


def test_checkpoints_of_changes_only_restore_the_live_state(redis_url: str) -> None:
    """3,000 decisions of three tenants, a checkpoint every 97 messages, pruning in between: nothing is missed."""
    stream = build_stream()
    tenants = sorted({m.tenant for m in stream})

    async def body(store: PartitionStateStore, client: Redis):
        states = {t: MemoryState() for t in tenants}
        part = {t: i for i, t in enumerate(tenants)}
        written, pruned = [], 0
        for n, m in enumerate(stream, 1):
            pol = policy(m.tenant)
            record(states[m.tenant], m, decide(m, states[m.tenant], m.received_at, pol), pol)
            if n % 97 == 0 or n == len(stream):
                if n % 970 == 0:  # forget old entries too: deletions must reach Redis
                    for s in states.values():
                        pruned += prune(s, m.received_at, keep_seen_since=m.received_at - timedelta(days=2),
                                        keep_items_since=m.received_at - timedelta(days=3))
                saved = await store.save_many({(TOPIC, part[t]): (s, n) for t, s in states.items()})
                if n % 970:  # a checkpoint after pruning also writes the deletions
                    written.append(saved)
        for t, live in states.items():
            restored = await store.load(TOPIC, part[t])
            assert restored is not None and restored.next_offset == len(stream)
            assert snapshot(restored.state) == snapshot(live)
        assert pruned > 100
        return written

    written = _run(redis_url, body)
    # each checkpoint wrote what 97 messages moved (a few entries each), not the whole state (thousands)
    assert max(written) < 97 * 12


def test_a_failed_checkpoint_keeps_its_changes_for_the_next(redis_url: str) -> None:
    async def body(store: PartitionStateStore, client: Redis):
        from routing_helpers import Stream, msg
        s = Stream("alkonect")
        s(msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"))
        dead = PartitionStateStore(Redis.from_url("redis://127.0.0.1:1/0"), group="g", prefix=store.prefix)
        with pytest.raises(Exception):
            await dead.save_many({(TOPIC, 0): (s.state, 1)})
        await dead.redis.aclose()
        await store.save_many({(TOPIC, 0): (s.state, 1)})
        restored = await store.load(TOPIC, 0)
        assert restored is not None and snapshot(restored.state) == snapshot(s.state)

    _run(redis_url, body)


def test_a_whole_snapshot_of_an_earlier_version_is_loaded_and_rewritten(redis_url: str) -> None:
    async def body(store: PartitionStateStore, client: Redis):
        from routing_helpers import Stream, msg
        s = Stream("alkonect")
        s(msg("alkonect", "email", "Where is my order ALK-120044?", sender="a@x.com", provider_id="m1"))
        blob = zlib.compress(orjson.dumps({"next_offset": 7, "state": snapshot(s.state)}), 1)
        await client.set(store._base(TOPIC, 3), blob)
        restored = await store.load(TOPIC, 3)
        assert restored is not None and restored.next_offset == 7
        assert snapshot(restored.state) == snapshot(s.state)
        await store.save_many({(TOPIC, 3): (restored.state, 7)})
        assert await client.exists(store._base(TOPIC, 3)) == 0
        again = await store.load(TOPIC, 3)
        assert again is not None and snapshot(again.state) == snapshot(s.state)

    _run(redis_url, body)
