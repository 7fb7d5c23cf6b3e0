"""Redis key names: ids made safe to embed, and the Redis Cluster hash tags that keep one script's keys in one slot.

A Cluster hashes only the first non-empty `{...}` of a key, so every key a script or a MULTI touches carries the
same tag: per work-item store (`items_tag`), per tenant, per chat session or per routing-state partition.
"""

from __future__ import annotations


def escape(part: str) -> str:
    """Make a tenant, queue or item id safe to embed in a ':'-separated key name."""
    return part.replace("%", "%25").replace(":", "%3A")


def hash_tag(*parts: str) -> str:
    """`{a:b}` from the escaped parts: the keys that carry it share one Cluster slot."""
    return "{" + ":".join(escape(p) for p in parts) + "}"


def items_tag(prefix: str) -> str:
    """The tag of the work items, their SLA clocks, deadline index, outbox and action histories.

    One tag because their scripts are atomic across those keys (a claim, an SLA transition, a retention delete)
    and address items by id alone: the deployment's work-item data lives in one slot (one Cluster master).
    """
    return hash_tag(prefix, "items")


def tenant_tag(prefix: str, tenant: str) -> str:
    """The tag of one tenant's edge claims, flood counters and customer-key index: spread over the Cluster by tenant."""
    return hash_tag(prefix, tenant)
