"""Kafka keys for inbound messages: messages routing may merge share a partition across channels (a Redis index)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from channels.sinks.redis_keys import tenant_tag
from channels.sinks.redis_scripts import run_scripts
from contracts.inbound import InboundMessage
from routing.decide import merge_references
from routing.policy import TenantPolicy

# KEYS: the index entries of the message's references (`ref:...`), then of its identity keys (one tenant: one
# hash tag). ARGV: the number of references, then the identities the keys name. The first entry already linked
# names the customer, so a reference wins over the sender's own identities, as it does in `find_merge_target`;
# when none is linked, the first identity names it. Every key of the message is then linked to that customer,
# unless it already is to one.
_LINK = """
local customer = nil
for i = 1, #KEYS do
  customer = redis.call('GET', KEYS[i])
  if customer then break end
end
customer = customer or ARGV[2 + tonumber(ARGV[1])]
for i = 1, #KEYS do redis.call('SET', KEYS[i], customer, 'NX') end
return customer
"""


def ident_key(prefix: str, tenant: str, identity: str) -> str:
    """The index entry of one identity (`email:...`, `ref:...`), under its tenant's hash tag."""
    return f"{prefix}:ident:{tenant_tag(prefix, tenant)}:{identity}"


class CustomerKeys:
    """`tenant:customer` record keys, where the customer is the first identity ever seen of a linked group.

    The route worker keeps routing state per partition, so a repeat can only be merged when it lands on the
    partition of the item it repeats. Keying by the sender's own first identity (the plain `inbound_key`) sends
    an email and a chat that names the same address to different partitions; this index sends them to one.
    Identities link when one message carries several (a chat visitor's email, a WhatsApp number). With the
    tenants' `policies`, order references link too (per tenant, found as `decide` finds them): a message naming
    an order goes where the first message naming it went, so two people writing about one order merge as they do
    in the dry-run. A group is where messages are placed, not who routing thinks wrote them (routing state keeps
    its own customers), and two groups already keyed apart are not joined later.
    """

    def __init__(self, redis: Redis, *, prefix: str = "omniroute",
                 policies: Mapping[str, TenantPolicy] | None = None) -> None:
        self._prefix = prefix
        self._policies = policies or {}
        self._link = redis.register_script(_LINK)
        self._redis = redis

    async def keys_for(self, messages: Sequence[InboundMessage]) -> list[bytes]:
        """One key per message, in one round trip."""
        if not messages:
            return []
        calls = []
        for m in messages:
            policy = self._policies.get(m.tenant)
            refs = [f"ref:{r}" for r in sorted(merge_references(m, policy))] if policy else []
            names = [*refs, *m.sender.identity_keys(m.channel)]
            calls.append((self._link, [ident_key(self._prefix, m.tenant, n) for n in names], [len(refs), *names]))
        customers = await run_scripts(self._redis, calls)
        return [f"{m.tenant}:{_text(c)}".encode() for m, c in zip(messages, customers)]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
