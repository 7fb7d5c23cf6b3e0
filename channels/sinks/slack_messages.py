"""Where each work item's Slack message is (channel and ts), in Redis: updates edit it, a redelivery never posts twice.

A poster first takes a short reservation for the item (SET NX), so two deliveries racing on a new item (two
replicas, a `created` and a `claim` at once) make one message: the second waits for the first's ts and updates.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from channels.sinks.redis_queue_lua import escape

KEEP_S = 30 * 24 * 3600  # a message record outlives its item's resolution (late SLA events still edit it)
RESERVE_S = 30.0  # a poster that died mid-post frees the item after this

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class SlackMessage:
    channel: str
    ts: str
    breach: str | None = None  # the SLA clock that breached, shown on every later rendering


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class SlackMessages:
    def __init__(self, redis: aioredis.Redis, *, prefix: str, keep_s: int = KEEP_S,
                 reserve_s: float = RESERVE_S) -> None:
        self.redis, self.prefix, self.keep_s, self.reserve_s = redis, prefix, keep_s, reserve_s
        self._release = redis.register_script(_RELEASE)

    def key(self, tenant: str, sink: str, item_id: str) -> str:
        return f"{self.prefix}:slack:msg:{escape(tenant)}:{escape(sink)}:{escape(item_id)}"

    async def get(self, tenant: str, sink: str, item_id: str) -> SlackMessage | None:
        channel, ts, breach = await self.redis.hmget(self.key(tenant, sink, item_id), "channel", "ts", "breach")
        return SlackMessage(_text(channel), _text(ts), _text(breach) or None) if channel and ts else None

    async def put(self, tenant: str, sink: str, item_id: str, found: SlackMessage) -> None:
        key = self.key(tenant, sink, item_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key, mapping={"channel": found.channel, "ts": found.ts, "breach": found.breach or ""})
        pipe.expire(key, self.keep_s)
        await pipe.execute()

    async def reserve(self, tenant: str, sink: str, item_id: str) -> str | None:
        """A token when this caller may post the item's first message; None while another caller posts it."""
        token = uuid.uuid4().hex
        ok = await self.redis.set(self.key(tenant, sink, item_id) + ":posting", token, nx=True,
                                  px=int(self.reserve_s * 1000))
        return token if ok else None

    async def release(self, tenant: str, sink: str, item_id: str, token: str) -> None:
        await self._release(keys=[self.key(tenant, sink, item_id) + ":posting"], args=[token])

    async def wait(self, tenant: str, sink: str, item_id: str, timeout_s: float) -> SlackMessage | None:
        """The message another caller is posting, once it has its ts; None if none came within `timeout_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (found := await self.get(tenant, sink, item_id)) is None:
            if loop.time() >= deadline or not await self.redis.exists(self.key(tenant, sink, item_id) + ":posting"):
                return await self.get(tenant, sink, item_id)
            await asyncio.sleep(0.05)
        return found
