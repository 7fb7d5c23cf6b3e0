"""Redis Cluster readiness: every script declares its keys, and every script call and MULTI stays in one slot.

Proved twice: statically, by recording the keys of each script call and transaction of a tour of the stores
(redis_tour) against the standalone server and computing their slots; and for real, by running the same tour
through redis-py's RedisCluster against a 3-master Cluster started here from `redis-server` (which refuses a
script or MULTI that crosses slots or touches a key of another master).
"""

from __future__ import annotations

import asyncio
import hashlib
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster

from channels.sinks import redis_queue_lua as queue_lua
from channels.sinks import slack_messages
from redis_cluster import redis_cluster
from redis_tour import TOUR
from workers.runtime import (
    chat_presence,
    chat_store,
    customer_keys,
    delivery_index,
    edge_guard,
    retention_job,
    sla_lua,
)
from workers.stack.keyslot import cross_slot, keyslot

# Lua scripts the project registers (redis.register_script), by where they live.
SCRIPTS = {
    "redis_queue.UPSERT": queue_lua.UPSERT, "redis_queue.CLAIM_NEXT": queue_lua.CLAIM_NEXT,
    "redis_queue.CLAIM_ITEM": queue_lua.CLAIM_ITEM, "redis_queue.RELEASE": queue_lua.RELEASE,
    "redis_queue.RESOLVE": queue_lua.RESOLVE, "redis_queue.WAIT_CUSTOMER": queue_lua.WAIT_CUSTOMER,
    "redis_queue.END_WAIT": queue_lua.END_WAIT, "sla_lua.START": sla_lua.START, "sla_lua.RESUME": sla_lua.RESUME,
    "sla_lua.ACTION": sla_lua.ACTION, "sla_lua.CLAIM_DUE": sla_lua.CLAIM_DUE, "edge_guard._ADMIT": edge_guard._ADMIT,
    "customer_keys._LINK": customer_keys._LINK, "delivery_index._ADVANCE": delivery_index._ADVANCE,
    "chat_store._PUSH": chat_store._PUSH, "chat_store._PULSE": chat_store._PULSE,
    "chat_presence._LEASE": chat_presence._LEASE, "retention_job._DELETE": retention_job._DELETE,
    "slack_messages._RELEASE": slack_messages._RELEASE,
}


@pytest.mark.parametrize(("key", "slot"), [
    ("foo", 12182), ("bar", 5061), ("somekey", 11058), ("{user1000}.following", 3443),
    ("{user1000}.followers", 3443), ("foo{}{bar}", keyslot("foo{}{bar}")), ("{}x", keyslot("{}x")),
])
def test_keyslot_matches_cluster_keyslot(key: str, slot: int) -> None:
    assert keyslot(key) == slot


def test_hash_tags_keep_a_tenants_keys_together() -> None:
    assert not cross_slot(["omniroute:wq:{alkonect}:queue:billing", "omniroute:wq:{alkonect}:tenant"])
    assert cross_slot(["omniroute:wq:queue:alkonect:billing", "omniroute:wq:tenant:alkonect"])


def test_every_script_declares_the_keys_it_touches() -> None:
    undeclared = sorted(name for name, source in SCRIPTS.items() if "KEYS[" not in source)
    assert undeclared == []


class _Recorded:
    """Keys of each script call (EVALSHA) and each MULTI/EXEC, as the client sent them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[bytes | str]]] = []
        self.shas: set[str] = set()

    def script(self, args: tuple) -> None:
        if args and str(args[0]).upper() == "EVALSHA":
            self.calls.append(("EVALSHA", list(args[3:3 + int(args[2])])))
            self.shas.add(args[1])


class _RecordingPipeline(Pipeline):
    recorded: _Recorded

    async def execute(self, raise_on_error: bool = True):
        for args, _ in self.command_stack:
            self.recorded.script(args)
        if self.is_transaction:  # every command of the project's transactions takes its key first
            self.recorded.calls.append(("MULTI", [args[1] for args, _ in self.command_stack if len(args) > 1]))
        return await super().execute(raise_on_error)


class _RecordingRedis(Redis):
    recorded: _Recorded

    async def execute_command(self, *args, **options):
        self.recorded.script(args)
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> Pipeline:
        pipe = _RecordingPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.recorded = self.recorded
        return pipe


def test_every_script_call_and_transaction_of_the_tour_stays_in_one_slot(redis_url: str) -> None:
    async def go() -> _Recorded:
        client = _RecordingRedis.from_url(redis_url)
        client.recorded = recorded = _Recorded()
        prefix = f"omniroute-test-slots-{uuid4().hex[:8]}"
        try:
            for stop in TOUR:
                await stop(client, prefix)
        finally:
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
        return recorded

    recorded = asyncio.run(go())
    assert sorted(name for name, source in SCRIPTS.items()
                  if hashlib.sha1(source.encode()).hexdigest() not in recorded.shas) == []  # every script ran
    assert sum(kind == "MULTI" for kind, _ in recorded.calls) >= 3
    assert [(kind, keys) for kind, keys in recorded.calls if not keys] == []  # a Cluster routes a call by its keys
    assert [(kind, cross_slot(keys)) for kind, keys in recorded.calls if cross_slot(keys)] == []


def test_the_tour_runs_on_a_three_master_cluster(tmp_path) -> None:
    async def go(nodes: list[tuple[str, int]]) -> list[str]:
        client = RedisCluster(host=nodes[0][0], port=nodes[0][1])
        prefix, done = f"omniroute-test-{uuid4().hex[:8]}", []
        try:
            for stop in TOUR:
                await stop(client, prefix)
                done.append(stop.__name__)
            return done
        finally:
            await client.aclose()

    with redis_cluster(tmp_path) as nodes:
        assert asyncio.run(go(nodes)) == [stop.__name__ for stop in TOUR]
