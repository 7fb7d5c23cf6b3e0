"""Which chat sessions have a visitor connected right now, across every gateway replica (leases in Redis).

Each open WebSocket holds a lease in the session's presence set, scored by its expiry on Redis's own clock (so
replicas with skewed clocks agree). The gateway renews the lease while the socket is open and drops it when the
socket closes; a replica that dies leaves leases that lapse after `config.PRESENCE_LEASE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.chat import config
from workers.runtime.chat_store import ChatStore

log = logging.getLogger("omniroute.chat")

# KEYS: the presence key. ARGV: connection id ("" to only count), lease ms ("0" to drop the connection).
# Returns how many connections hold an unexpired lease afterwards.
_LEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local lease = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  if lease > 0 then
    redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
    redis.call('PEXPIRE', KEYS[1], lease)
  else
    redis.call('ZREM', KEYS[1], ARGV[1])
  end
end
return redis.call('ZCARD', KEYS[1])
"""


class ChatPresence:
    """Leases of connected visitors under the chat store's `presence` keys."""

    def __init__(self, store: ChatStore, *, lease: timedelta = config.PRESENCE_LEASE,
                 refresh: timedelta = config.PRESENCE_REFRESH) -> None:
        self.store, self.lease, self.refresh = store, lease, refresh
        self._lease = store.redis.register_script(_LEASE)

    async def connected(self, session_id: str) -> bool:
        """Whether any gateway holds a live WebSocket of this session now."""
        return await self._run(session_id, "", 0) > 0

    @contextlib.asynccontextmanager
    async def holding(self, session_id: str) -> AsyncIterator[None]:
        """Hold a lease for one WebSocket while the block runs; Redis faults only cost the lease (logged)."""
        connection = secrets.token_hex(8)
        await self._hold(session_id, connection)  # present before the first frame is pushed to the socket
        renew = asyncio.create_task(self._renew(session_id, connection), name="chat-presence")
        try:
            yield
        finally:
            renew.cancel()
            await asyncio.gather(renew, return_exceptions=True)
            with contextlib.suppress(RedisError, OSError):
                await self._run(session_id, connection, 0)

    async def _renew(self, session_id: str, connection: str) -> None:
        while True:
            await asyncio.sleep(self.refresh.total_seconds())
            await self._hold(session_id, connection)

    async def _hold(self, session_id: str, connection: str) -> None:
        try:
            await self._run(session_id, connection, int(self.lease.total_seconds() * 1000))
        except (RedisError, OSError) as exc:
            log.warning("chat presence of %s not renewed (%s): a reply may also go by mail", session_id, exc)

    async def _run(self, session_id: str, connection: str, lease_ms: int) -> int:
        return int(await self._lease(keys=[self.store.key("presence", session_id)], args=[connection, lease_ms]))
