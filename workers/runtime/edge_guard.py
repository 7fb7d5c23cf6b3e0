"""Edge idempotency and per-sender flood limits in Redis: redeliveries and floods stop before Kafka."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum

from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.sinks.redis_keys import escape, tenant_tag
from channels.sinks.redis_scripts import run_scripts
from contracts.inbound import InboundMessage

log = logging.getLogger("omniroute.edge")
CLAIM_TTL = timedelta(minutes=2)  # a claim whose request died with its process lets a redelivery in after this


class Admission(StrEnum):
    new = "new"  # claimed here: publish it, then confirm (or release on failure)
    duplicate = "duplicate"  # published before (or dropped for good): acknowledge, publish nothing
    in_flight = "in_flight"  # another request is publishing it right now
    rate_limited = "rate_limited"  # the sender is over the edge limit: dropped for good


# KEYS: (seen key, flood key) per message, all of one tenant (one hash tag). ARGV: claim ms, window ms, limit,
# keep ms. One call decides a tenant's messages of a body: redeliveries and copies in flight are told apart from
# new messages, and only new messages count against their sender's flood window.
_ADMIT = """
local out = {}
for i = 1, #KEYS, 2 do
  local seen, flood = KEYS[i], KEYS[i + 1]
  local state = redis.call('GET', seen)
  if state == 'done' then
    out[#out + 1] = 'duplicate'
  elseif state then
    out[#out + 1] = 'in_flight'
  else
    local n = redis.call('INCR', flood)
    if n == 1 then redis.call('PEXPIRE', flood, ARGV[2]) end
    if n > tonumber(ARGV[3]) then
      redis.call('SET', seen, 'done', 'PX', ARGV[4])
      out[#out + 1] = 'rate_limited'
    else
      redis.call('SET', seen, 'pending', 'PX', ARGV[1])
      out[#out + 1] = 'new'
    end
  end
end
return out
"""


class EdgeGuard:
    """First sight of a provider message id claims it; the claim becomes lasting once Kafka acknowledged.

    A copy that arrives while the first is still being published waits for it (`settle`): it is acknowledged
    once the first one is, and takes over if the first failed and released its claim. A claim left by a
    process that died expires after CLAIM_TTL, so the platform's later retry is taken: nothing is lost.
    When Redis is unreachable the guard admits everything (the route worker's dedupe is the second line) and
    says so: the edge keeps accepting while Kafka does.
    """

    def __init__(self, redis: Redis, *, prefix: str, poll_s: float = 0.05) -> None:
        self.redis, self.prefix, self.poll_s = redis, prefix, poll_s
        self._admit = redis.register_script(_ADMIT)
        self.degraded = False

    def _seen_key(self, m: InboundMessage) -> str:
        return f"{self.prefix}:edge:{tenant_tag(self.prefix, m.tenant)}:seen:{m.channel.value}:" \
            f"{escape(m.provider_message_id)}"

    def _flood_key(self, m: InboundMessage) -> str:
        return f"{self.prefix}:edge:{tenant_tag(self.prefix, m.tenant)}:flood:" \
            f"{escape(m.sender.identity_keys(m.channel)[0])}"

    def _keys(self, m: InboundMessage) -> tuple[str, str]:
        return self._seen_key(m), self._flood_key(m)

    async def admit(self, messages: Sequence[InboundMessage], *, window: timedelta, limit: int,
                    keep: timedelta) -> list[Admission]:
        """One Admission per message, in one round trip (one script call per tenant: its keys share a slot)."""
        if not messages:
            return []
        args: list = [_ms(CLAIM_TTL), _ms(window), limit, _ms(keep)]
        by_tenant: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            by_tenant.setdefault(m.tenant, []).append(i)
        calls = [(self._admit, [key for i in indexes for key in self._keys(messages[i])], args)
                 for indexes in by_tenant.values()]
        try:
            answers = await run_scripts(self.redis, calls)
        except (RedisError, OSError) as exc:
            self._degrade(exc)
            return [Admission.new] * len(messages)
        self.degraded = False
        out: list[Admission] = [Admission.new] * len(messages)
        for indexes, answered in zip(by_tenant.values(), answers):
            for i, a in zip(indexes, answered):
                out[i] = Admission(a.decode() if isinstance(a, bytes) else a)
        return out

    async def settle(self, messages: Sequence[InboundMessage], timeout_s: float) -> list[bool | None]:
        """Wait for copies in flight: True once published, False when released (ours to take), None at the timeout."""
        keys = [self._seen_key(m) for m in messages]
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:  # one GET each: tenants' slots differ
                    for key in keys:
                        pipe.get(key)
                    states = await pipe.execute()
            except (RedisError, OSError) as exc:
                self._degrade(exc)
                return [False] * len(messages)
            settled = [True if s == b"done" else False if s is None else None for s in states]
            if None not in settled or asyncio.get_running_loop().time() >= deadline:
                return settled
            await asyncio.sleep(self.poll_s)

    async def confirm(self, messages: Sequence[InboundMessage], keep: timedelta) -> None:
        await self._each(messages, lambda pipe, key: pipe.set(key, b"done", px=_ms(keep)))

    async def release(self, messages: Sequence[InboundMessage]) -> None:
        await self._each(messages, lambda pipe, key: pipe.delete(key))

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


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
