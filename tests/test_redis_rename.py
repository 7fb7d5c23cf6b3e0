"""Keys of a Redis written before the hash tags get the names today's stores use, and the stores read them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import uuid4

from redis.asyncio import Redis

from channels.sinks.redis_keys import escape
from channels.sinks.redis_queue import RedisWorkQueue
from redis_tour import T0, inbound, item
from routing.state import MemoryState, Seen
from workers.runtime.customer_keys import CustomerKeys, ident_key
from workers.runtime.edge_guard import Admission, EdgeGuard
from workers.runtime.state_store import PartitionStateStore
from workers.runtime.tokens import TokenStore
from workers.stack.redis_rename import rename_keys, tagged_name


def test_old_names_map_to_the_stores_names() -> None:
    p = "omniroute"
    assert tagged_name(p, "omniroute:wq:item:a") == "omniroute:wq:{omniroute:items}:item:a"
    assert tagged_name(p, "omniroute:sla:due") == "omniroute:sla:{omniroute:items}:due"
    assert tagged_name(p, "omniroute:sla:decided:m1") is None
    assert tagged_name(p, "omniroute:ident:acme:email:a@b.c") == ident_key(p, "acme", "email:a@b.c")
    assert tagged_name(p, "omniroute:route-state:route:support.inbound.v1:3:v1:offset") == \
        "omniroute:route-state:{route:support.inbound.v1:3}:v1:offset"
    assert tagged_name(p, "omniroute:chat:away:out-1") is None
    assert tagged_name(p, "omniroute:wq:{omniroute:items}:item:a") is None  # renamed already


def test_a_redis_of_the_earlier_version_is_renamed_and_read(redis_url: str) -> None:
    async def go() -> tuple:
        redis = Redis.from_url(redis_url)
        prefix = f"omniroute-test-rename-{uuid4().hex[:8]}"
        try:
            queue = RedisWorkQueue(redis, prefix=prefix)
            a = item("a", "acme", "billing")
            await queue.upsert_many([a])
            await PartitionStateStore(redis, group="route", prefix=prefix).save_many(
                {("support.inbound.v1", 1): (_state(), 7)})
            _, token = await TokenStore(redis, prefix=prefix).create("acme")
            message = inbound("acme", "p1", "2783")
            await EdgeGuard(redis, prefix=prefix).admit([message], window=timedelta(minutes=1), limit=5,
                                                        keep=timedelta(days=1))
            await CustomerKeys(redis, prefix=prefix).keys_for([message])
            # back to the names of the earlier version
            for raw in [k async for k in redis.scan_iter(match=f"{prefix}:*")]:
                key = raw.decode()
                acme = f"{{{escape(prefix)}:acme}}"
                old = key.replace(f"{{{escape(prefix)}:items}}:", "").replace(f"edge:{acme}:seen:", "edge:seen:acme:")
                old = old.replace(f"edge:{acme}:flood:", "edge:flood:acme:").replace(acme, "acme")
                old = old.replace("{route:support.inbound.v1:1}", "route:support.inbound.v1:1")
                old = old.replace(f":{{{escape(prefix)}:api-tokens}}", "")
                assert "{" not in old, old
                await redis.rename(key, old)
            first = await rename_keys(redis, prefix)
            again = await rename_keys(redis, prefix)
            restored = await PartitionStateStore(redis, group="route", prefix=prefix).load("support.inbound.v1", 1)
            admitted = await EdgeGuard(redis, prefix=prefix).admit([message], window=timedelta(minutes=1), limit=5,
                                                                   keep=timedelta(days=1))
            return (first.renamed, again.renamed, (await queue.get("a")).id, restored.next_offset,
                    (await TokenStore(redis, prefix=prefix).lookup(token)) is not None, admitted)
        finally:
            keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()

    renamed, again, item_id, offset, token_found, admitted = asyncio.run(go())
    assert renamed >= 10 and again == 0
    assert (item_id, offset, token_found, admitted) == ("a", 7, True, [Admission.in_flight])


def _state() -> MemoryState:
    state = MemoryState()
    state.remember("k", Seen(message_id="m", at=T0, work_item_id=None))
    return state
