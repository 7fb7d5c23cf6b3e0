"""Kafka keys for inbound messages: one customer's messages share a partition across channels (a Redis index)."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from channels.sinks.redis_queue_lua import escape
from contracts.inbound import InboundMessage

# KEYS: none (the names are built from ARGV, like the queue scripts). ARGV: prefix, tenant, identity keys...
# The first identity already linked to a customer names the customer; else the first identity does. Every
# identity of the message is then linked to that customer, unless it already belongs to one.
_LINK = """
local base = ARGV[1] .. ':ident:' .. ARGV[2] .. ':'
local customer = nil
for i = 3, #ARGV do
  customer = redis.call('GET', base .. ARGV[i])
  if customer then break end
end
customer = customer or ARGV[3]
for i = 3, #ARGV do redis.call('SET', base .. ARGV[i], customer, 'NX') end
return customer
"""


class CustomerKeys:
    """`tenant:customer` record keys, where the customer is the first identity ever seen of a linked group.

    The route worker keeps routing state per partition, so a cross-channel repeat can only be merged when it
    lands on the partition of the customer's earlier messages. Keying by the sender's own first identity (the
    plain `inbound_key`) sends an email and a chat that names the same address to different partitions; this
    index sends them to one. Identities link when one message carries several (a chat visitor's email, a
    WhatsApp number). Two customers already keyed apart are not merged later: their state lives apart.
    """

    def __init__(self, redis: Redis, *, prefix: str = "omniroute") -> None:
        self._prefix = prefix
        self._link = redis.register_script(_LINK)
        self._redis = redis

    async def keys_for(self, messages: Sequence[InboundMessage]) -> list[bytes]:
        """One key per message, in one round trip."""
        if not messages:
            return []
        pipe = self._redis.pipeline(transaction=False)
        for m in messages:
            await self._link(args=[self._prefix, escape(m.tenant), *m.sender.identity_keys(m.channel)], client=pipe)
        customers = await pipe.execute()
        return [f"{m.tenant}:{_text(c)}".encode() for m, c in zip(messages, customers)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
