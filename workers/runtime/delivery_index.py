"""Matching platforms' status callbacks to our sends, applied monotonically (never `read` back to `delivered`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import orjson
from redis.asyncio import Redis

from channels.sinks.redis_queue_lua import escape
from channels.sinks.redis_scripts import run_scripts
from contracts.channels import ChannelKind
from contracts.outbound import (
    STATUS_RANK,
    DeliveryEvent,
    OutboundMessage,
    PlatformStatus,
)

KEEP = timedelta(days=30)  # statuses arrive within days; read receipts can come much later, and are then dropped

# KEYS: the status key of one send. ARGV: rank, ttl ms -> 1 when the rank rose (one call per send: the keys of a
# batch are spread over the Redis Cluster: run_scripts sends them together).
_ADVANCE = """
if tonumber(ARGV[1]) <= tonumber(redis.call('GET', KEYS[1]) or '0') then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class DeliveryIndex:
    """provider message id -> our outbound message, written when a send is accepted, read by the webhook edge."""

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix
        self._advance = redis.register_script(_ADVANCE)

    def _sent_key(self, channel: ChannelKind, provider_id: str) -> str:
        return f"{self.prefix}:outbound-sent:{channel.value}:{escape(provider_id)}"

    def _rank_key(self, outbound_id: str) -> str:
        return f"{self.prefix}:outbound-status:{outbound_id}"

    async def remember(self, message: OutboundMessage, provider_id: str) -> None:
        """Note an accepted send (status `sent`), so its later statuses can be matched."""
        ms = int(KEEP.total_seconds() * 1000)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._sent_key(message.target.channel, provider_id),
                     orjson.dumps({"outbound_id": message.id, "tenant": message.tenant,
                                   "work_item_id": message.work_item_id,
                                   "conversation_key": message.target.conversation_key}), px=ms)
            pipe.set(self._rank_key(message.id), 1, px=ms, nx=True)
            await pipe.execute()

    async def conversations(self, channel: ChannelKind, provider_ids: Sequence[str]) -> dict[str, str]:
        """provider id of one of our sends -> the conversation it answered, for the ids the index knows."""
        if not provider_ids:
            return {}
        found = await self.redis.mget([self._sent_key(channel, p) for p in provider_ids])
        sent = {p: orjson.loads(raw) for p, raw in zip(provider_ids, found) if raw is not None}
        return {p: s["conversation_key"] for p, s in sent.items() if s.get("conversation_key")}

    async def match(self, channel: ChannelKind, statuses: Sequence[PlatformStatus]) -> tuple[list[DeliveryEvent], int]:
        """Delivery events for the statuses that move one of our sends forward, and how many matched no send."""
        if not statuses:
            return [], 0
        async with self.redis.pipeline(transaction=False) as pipe:  # not MGET: the keys are in different slots
            for s in statuses:
                pipe.get(self._sent_key(channel, s.provider_message_id))
            found = await pipe.execute()
        matched = [(s, orjson.loads(raw)) for s, raw in zip(statuses, found) if raw is not None]
        if not matched:
            return [], len(statuses)
        ttl = int(KEEP.total_seconds() * 1000)
        advanced = await run_scripts(self.redis, [
            (self._advance, [self._rank_key(sent["outbound_id"])], [STATUS_RANK[status.status], ttl])
            for status, sent in matched])
        events = [DeliveryEvent(outbound_id=sent["outbound_id"], tenant=sent["tenant"],
                                work_item_id=sent["work_item_id"], channel=channel, status=s.status, at=s.at,
                                provider_message_id=s.provider_message_id, error_code=s.error_code, error=s.error)
                  for (s, sent), moved in zip(matched, advanced) if moved]
        return events, len(statuses) - len(matched)
