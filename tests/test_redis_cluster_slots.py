"""Redis Cluster readiness: the slot of a key as CLUSTER KEYSLOT computes it, and where the suite's scripts stand."""

from __future__ import annotations

import pytest

from channels.sinks import redis_queue_lua as queue_lua
from workers.runtime import customer_keys, delivery_index, edge_guard, sla_lua
from workers.stack.keyslot import cross_slot, keyslot

# Lua scripts the project registers (redis.register_script), by where they live.
SCRIPTS = {
    "redis_queue.UPSERT": queue_lua.UPSERT, "redis_queue.CLAIM_NEXT": queue_lua.CLAIM_NEXT,
    "redis_queue.CLAIM_ITEM": queue_lua.CLAIM_ITEM, "redis_queue.RELEASE": queue_lua.RELEASE,
    "redis_queue.RESOLVE": queue_lua.RESOLVE, "redis_queue.WAIT_CUSTOMER": queue_lua.WAIT_CUSTOMER,
    "redis_queue.END_WAIT": queue_lua.END_WAIT, "sla_lua.START": sla_lua.START, "sla_lua.RESUME": sla_lua.RESUME,
    "sla_lua.ACTION": sla_lua.ACTION, "sla_lua.CLAIM_DUE": sla_lua.CLAIM_DUE, "edge_guard._ADMIT": edge_guard._ADMIT,
    "customer_keys._LINK": customer_keys._LINK, "delivery_index._ADVANCE": delivery_index._ADVANCE,
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


@pytest.mark.xfail(strict=True, reason="every script builds its keys inside Lua from a prefix in ARGV and declares "
                   "no KEYS, so a Cluster client cannot route it and the keys (no hash tags) span slots; the scripts "
                   "belong to other work in progress (see README, Not implemented yet)")
def test_every_script_declares_the_keys_it_touches() -> None:
    undeclared = sorted(name for name, source in SCRIPTS.items() if "KEYS[" not in source)
    assert undeclared == []
