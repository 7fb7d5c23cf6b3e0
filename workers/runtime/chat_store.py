"""Live-chat sessions in Redis: the session record, its numbered frame log (for replay) and the fan-out channel."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from redis.asyncio import Redis

from channels.chat import config
from channels.chat.wire import FrameType
from channels.sinks.redis_keys import escape, hash_tag

MAX_FRAMES = 500  # frames kept per session for replay; older ones are trimmed

# KEYS: session, seq, frames, presence of one session (one hash tag), and its away key when asked for.
# ARGV: fan-out channel, ttl ms, max frames, mode ("push" | "end"), session id, frame body (a JSON object without
# seq), end reason.
# Numbers the frame, stores it for replay, refreshes the session's life and publishes it in one step, so a
# reconnecting client and a live subscriber see the same numbering. When no visitor holds a presence lease
# (chat_presence) at that moment, the away key is set for the session's life. Returns the seq, 0 for an unknown
# session, -1 for an ended one ("end" on an ended session also answers -1: it is ended once).
_PUSH = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if state ~= 'open' then return -1 end
if ARGV[4] == 'end' then redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', ARGV[7]) end
local seq = redis.call('INCR', KEYS[2])
local frame = '{"seq":' .. seq .. ',' .. string.sub(ARGV[6], 2)
redis.call('ZADD', KEYS[3], seq, frame)
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if excess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, excess - 1) end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
redis.call('PUBLISH', ARGV[1], ARGV[5] .. '\\n' .. frame)
if KEYS[5] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if redis.call('ZCOUNT', KEYS[4], '(' .. now, '+inf') == 0 then redis.call('SET', KEYS[5], seq, 'PX', ARGV[2]) end
end
return seq
"""

# KEYS: session, seq. ARGV: fan-out channel, session id, frame body (a JSON object without seq).
# Publishes a live-only frame (typing) carrying the session's latest seq, without storing or numbering it.
# Returns 1, 0 for an unknown session, -1 for an ended one.
_PULSE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
if state ~= 'open' then return -1 end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2))
return 1
"""


@dataclass(frozen=True, slots=True)
class ChatSession:
    """A visitor's session as the gateway stored it."""

    session_id: str
    tenant: str
    visitor_id: str
    origin: str
    name: str | None
    email: str | None
    open: bool
    reason: str | None


class ChatStore:
    """Sessions, frames and the fan-out channel under `{prefix}:chat:`; every replica of the gateway shares them."""

    def __init__(self, redis: Redis, *, prefix: str, session_ttl: timedelta = config.SESSION_TTL) -> None:
        self.redis, self.prefix, self.session_ttl = redis, prefix, session_ttl
        self.channel = f"{prefix}:chat:fanout"
        self._push = redis.register_script(_PUSH)
        self._pulse = redis.register_script(_PULSE)

    def _key(self, kind: str, session_id: str) -> str:
        return f"{self.prefix}:chat:{kind}:{hash_tag(self.prefix, session_id)}"

    def key(self, kind: str, of: str) -> str:
        """A key of this store: `session`, `seq`, `frames`, `presence` of a session id (the session's hash tag,
        so its scripts stay in one Cluster slot); `message` of an inbound message id."""
        return self._key(kind, of)

    def away_key(self, session_id: str, outbound_id: str) -> str:
        return f"{self._key('away', session_id)}:{escape(outbound_id)}"

    async def create(self, tenant: str, origin: str, *, name: str | None, email: str | None) -> ChatSession:
        """A new open session with unguessable session and visitor ids."""
        session = ChatSession(session_id=f"cs_{secrets.token_urlsafe(18)}", tenant=tenant,
                              visitor_id=f"v_{secrets.token_urlsafe(12)}", origin=origin, name=name, email=email,
                              open=True, reason=None)
        fields = {"tenant": tenant, "visitor": session.visitor_id, "origin": origin, "state": "open",
                  "name": name or "", "email": email or ""}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("session", session.session_id), mapping=fields)
            pipe.pexpire(self._key("session", session.session_id), _ms(self.session_ttl))
            await pipe.execute()
        return session

    async def get(self, session_id: str) -> ChatSession | None:
        raw = await self.redis.hgetall(self._key("session", session_id))
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return ChatSession(session_id=session_id, tenant=f["tenant"], visitor_id=f["visitor"], origin=f["origin"],
                           name=f.get("name") or None, email=f.get("email") or None, open=f.get("state") == "open",
                           reason=f.get("reason") or None)

    async def touch(self, session_id: str) -> None:
        """The visitor is active: the session and its frames live another SESSION_TTL."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for kind in ("session", "seq", "frames"):
                pipe.pexpire(self._key(kind, session_id), _ms(self.session_ttl))
            await pipe.execute()

    async def push(self, session_id: str, kind: FrameType, at: datetime, *, away: str | None = None,
                   **fields: object) -> int:
        """Append a frame and fan it out; its seq, 0 for an unknown session, -1 for an ended one.

        With `away` (an outbound id), whether no visitor was connected as the frame was stored is remembered for
        `was_away`."""
        return await self._run(session_id, "push", kind, at, "", fields, away=away)

    async def pulse(self, session_id: str, kind: FrameType, at: datetime, **fields: object) -> int:
        """Fan out a live-only frame (never stored, never replayed) with the session's latest seq: 1 when the
        session is open, 0 when unknown, -1 when ended."""
        body = orjson.dumps({"type": kind.value, "at": at.isoformat(), **fields})
        keys = [self._key("session", session_id), self._key("seq", session_id)]
        return int(await self._pulse(keys=keys, args=[self.channel, session_id, body]))

    async def was_away(self, session_id: str, outbound_id: str) -> bool:
        """Whether the frame pushed with `away=outbound_id` was stored while no visitor was connected."""
        return bool(await self.redis.exists(self.away_key(session_id, outbound_id)))

    async def end(self, session_id: str, reason: str, at: datetime) -> int:
        """End an open session with a `session_ended` frame; its seq, or 0/-1 when unknown or already ended."""
        return await self._run(session_id, "end", FrameType.session_ended, at, reason, {"reason": reason})

    async def _run(self, session_id: str, mode: str, kind: FrameType, at: datetime, reason: str,
                   fields: dict, *, away: str | None = None) -> int:
        body = orjson.dumps({"type": kind.value, "at": at.isoformat(), **fields})
        keys = [self._key(kind, session_id) for kind in ("session", "seq", "frames", "presence")]
        keys += [self.away_key(session_id, away)] if away else []
        args = [self.channel, _ms(self.session_ttl), MAX_FRAMES, mode, session_id, body, reason]
        return int(await self._push(keys=keys, args=args))

    async def frames_after(self, session_id: str, last_seq: int) -> list[bytes]:
        """The stored frames with seq > last_seq, in order (JSON bytes)."""
        return list(await self.redis.zrangebyscore(self._key("frames", session_id), f"({last_seq}", "+inf"))

    async def last_seq(self, session_id: str) -> int:
        return int(await self.redis.get(self._key("seq", session_id)) or 0)

    async def remember_message(self, message_id: str, session_id: str) -> None:
        """Which session an inbound message came from (a decision names only the message)."""
        await self.redis.set(self._key("message", message_id), session_id, px=_ms(self.session_ttl))

    async def session_of_message(self, message_id: str) -> str | None:
        found = await self.redis.get(self._key("message", message_id))
        return found.decode() if found else None

    async def over_limit(self, what: str, who: str, limit: int, window: timedelta) -> bool:
        """Count one more `what` by `who` (an IP address) in a fixed window; True once over `limit`."""
        key = f"{self.prefix}:chat:rate:{what}:{escape(who)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, px=_ms(window))  # the window starts with the first count (INCR keeps it)
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count) > limit


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)
