"""Keys written before the Redis Cluster hash tags, renamed in place to their tagged names (RENAMENX, TTLs kept).

Run once against a standalone Redis before the new version starts (and before moving to a Cluster). Chat away
marks (their new name needs the session) and keys that kept their name are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from redis.asyncio import Redis

from channels.sinks.redis_keys import escape, hash_tag, items_tag

_ROUTE_STATE = re.compile(r"^(?P<group>.+):(?P<topic>[^:]+):(?P<partition>\d+)(?P<rest>:v\d+:[^:]+)?$")
_ITEMS_FAMILIES = ("wq", "sla", "history")
_CHAT_KINDS = ("session", "seq", "frames", "presence", "message")


def tagged_name(prefix: str, key: str) -> str | None:
    """The name `key` has now, or None when it kept its name (or cannot be renamed)."""
    if not key.startswith(f"{prefix}:") or "{" in key:
        return None
    family, _, tail = key[len(prefix) + 1:].partition(":")
    base = f"{prefix}:{family}"
    if family in _ITEMS_FAMILIES and tail and not tail.startswith("decided:"):
        return f"{base}:{items_tag(prefix)}:{tail}"
    if family == "retention" and tail == "pending-idents":
        return f"{base}:{items_tag(prefix)}:{tail}"
    if family == "ident" and ":" in tail:
        tenant, _, identity = tail.partition(":")  # the tenant is escaped already
        return f"{base}:{{{escape(prefix)}:{tenant}}}:{identity}"
    if family == "edge" and tail.count(":") >= 2:
        kind, tenant, rest = tail.split(":", 2)
        return f"{base}:{{{escape(prefix)}:{tenant}}}:{kind}:{rest}" if kind in ("seen", "flood") else None
    if family == "chat" and ":" in tail:
        kind, _, of = tail.partition(":")
        return f"{base}:{kind}:{{{escape(prefix)}:{of}}}" if kind in _CHAT_KINDS else None
    if family == "route-state" and (m := _ROUTE_STATE.match(tail)):
        return f"{base}:{hash_tag(m['group'], m['topic'], m['partition'])}{m['rest'] or ''}"
    if family in ("api-tokens", "api-token-ids") and not tail:
        return f"{base}:{hash_tag(prefix, 'api-tokens')}"
    return None


@dataclass
class Renamed:
    renamed: int = 0
    taken: int = 0  # the tagged name exists already (written by the new version): the old key is left


async def rename_keys(redis: Redis, prefix: str, *, dry_run: bool = False) -> Renamed:
    """Rename every key under `prefix:` that has a tagged name now."""
    out = Renamed()
    async for raw in redis.scan_iter(match=f"{prefix}:*", count=1000):
        key = raw.decode()
        new = tagged_name(prefix, key)
        if new is None:
            continue
        if dry_run:
            out.renamed += 1
        elif await redis.renamenx(key, new):
            out.renamed += 1
        else:
            out.taken += 1
    return out


async def rename_at(url: str, prefix: str, *, dry_run: bool = False) -> Renamed:
    """`rename_keys` on the Redis at `url` (the CLI's entry)."""
    redis = Redis.from_url(url)
    try:
        return await rename_keys(redis, prefix, dry_run=dry_run)
    finally:
        await redis.aclose()
