"""One delivery at a time per (sink, work item), across replicas: a short Redis lock, released by its holder only."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from channels.sinks.redis_queue_lua import escape

HOLD_S = 30.0  # a holder that died mid-delivery frees the item after this

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ItemLocks:
    def __init__(self, redis: aioredis.Redis, *, prefix: str, hold_s: float = HOLD_S) -> None:
        self.redis, self.prefix, self.hold_s = redis, prefix, hold_s
        self._release = redis.register_script(_RELEASE)

    def key(self, tenant: str, sink: str, item_id: str) -> str:
        return f"{self.prefix}:sink:lock:{escape(tenant)}:{escape(sink)}:{escape(item_id)}"

    @asynccontextmanager
    async def held(self, tenant: str, sink: str, item_id: str, wait_s: float) -> AsyncIterator[bool]:
        """True once this caller holds the item's lock; False when another held it for all of `wait_s`."""
        key, token = self.key(tenant, sink, item_id), uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while not await self.redis.set(key, token, nx=True, px=int(self.hold_s * 1000)):
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
        else:
            try:
                yield True
            finally:
                await self._release(keys=[key], args=[token])
            return
        yield False
