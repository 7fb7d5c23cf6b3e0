"""Edge idempotency and per-sender flood limits in Redis: redeliveries and floods stop before Kafka."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.sinks.redis_queue_lua import escape
from contracts.inbound import InboundMessage

log = logging.getLogger("omniroute.edge")
CLAIM_TTL = timedelta(minutes=2)  # a claim whose publish never finished lets a redelivery through after this

# KEYS: none (names from ARGV). ARGV: window ms, key... -> the count of each key within its window.
_COUNT = """
local out = {}
for i = 2, #ARGV do
  local n = redis.call('INCR', ARGV[i])
  if n == 1 then redis.call('PEXPIRE', ARGV[i], ARGV[1]) end
  out[#out + 1] = n
end
return out
"""


class EdgeGuard:
    """First sight of a provider message id claims it (SET NX); the claim becomes lasting once Kafka acknowledged.

    A claim is short-lived until `confirm`, and `release` drops it when publishing failed, so a platform's retry
    of a message we could not publish is taken, while concurrent copies and later redeliveries are not.
    When Redis is unreachable the guard lets everything through (the route worker's dedupe is the second line)
    and says so: the edge keeps accepting while Kafka does.
    """

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self._count = redis.register_script(_COUNT)
        self.degraded = False

    def _seen_key(self, m: InboundMessage) -> str:
        return f"{self.prefix}:edge:seen:{escape(m.tenant)}:{m.channel.value}:{escape(m.provider_message_id)}"

    def _flood_key(self, m: InboundMessage) -> str:
        return f"{self.prefix}:edge:flood:{escape(m.tenant)}:{escape(m.sender.identity_keys(m.channel)[0])}"

    async def claim(self, messages: Sequence[InboundMessage]) -> list[bool]:
        """True for each message seen here for the first time (now claimed), False for a copy."""
        if not messages:
            return []
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for m in messages:
                    pipe.set(self._seen_key(m), b"pending", nx=True, px=int(CLAIM_TTL.total_seconds() * 1000))
                claimed = [bool(ok) for ok in await pipe.execute()]
        except (RedisError, OSError) as exc:
            self._degrade(exc)
            return [True] * len(messages)
        self.degraded = False
        return claimed  # the same id twice in one body: the second SET NX already fails

    async def confirm(self, messages: Sequence[InboundMessage], keep: timedelta) -> None:
        await self._each(messages, lambda pipe, key: pipe.set(key, b"done", px=int(keep.total_seconds() * 1000)))

    async def release(self, messages: Sequence[InboundMessage]) -> None:
        await self._each(messages, lambda pipe, key: pipe.delete(key))

    async def counts(self, messages: Sequence[InboundMessage], window: timedelta) -> list[int]:
        """How many messages each sender has sent within `window`, this one included (0 when Redis is away)."""
        if not messages:
            return []
        try:
            counts = await self._count(args=[int(window.total_seconds() * 1000),
                                             *(self._flood_key(m) for m in messages)])
        except (RedisError, OSError) as exc:
            self._degrade(exc)
            return [0] * len(messages)
        return [int(n) for n in counts]

    async def _each(self, messages: Sequence[InboundMessage], command) -> None:
        if not messages:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for m in messages:
                    command(pipe, self._seen_key(m))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            self._degrade(exc)

    def _degrade(self, exc: Exception) -> None:
        if not self.degraded:
            log.warning("edge: Redis unavailable (%s); accepting without edge dedupe and flood limits", exc)
        self.degraded = True
