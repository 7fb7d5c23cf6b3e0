"""API credentials: tokens scoped to one tenant (optionally one agent) or an operator's, stored hashed in Redis."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from redis.asyncio import Redis

from channels.sinks.redis_keys import hash_tag
from contracts.errors import OmnirouteError

ALL_TENANTS = "*"


class TokenError(OmnirouteError):
    """A token operation that cannot be done (unknown id); the message says which."""


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: one tenant (or every tenant for an operator), maybe one agent."""

    id: str
    tenant: str  # ALL_TENANTS for an operator credential
    agent: str | None = None
    label: str | None = None
    created_at: str = ""

    def reaches(self, tenant: str) -> bool:
        return self.tenant in (ALL_TENANTS, tenant)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """`{prefix}:api-tokens:{tag}`: sha256(token) -> principal; the token itself is shown once and never stored.

    Both hashes carry one hash tag, so creating and revoking stay single-slot transactions on a Redis Cluster.
    """

    def __init__(self, redis: Redis, *, prefix: str) -> None:
        tag = hash_tag(prefix, "api-tokens")
        self.redis, self.key, self.ids = redis, f"{prefix}:api-tokens:{tag}", f"{prefix}:api-token-ids:{tag}"

    async def create(self, tenant: str, *, agent: str | None = None, label: str | None = None) -> tuple[Principal, str]:
        token = "omr_" + secrets.token_urlsafe(32)
        principal = Principal(id="tok_" + secrets.token_hex(6), tenant=tenant, agent=agent, label=label,
                              created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        digest = _digest(token)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, digest, orjson.dumps(principal.__dict__))
            pipe.hset(self.ids, principal.id, digest)
            await pipe.execute()
        return principal, token

    async def lookup(self, token: str) -> Principal | None:
        if not token:
            return None
        raw = await self.redis.hget(self.key, _digest(token))
        return Principal(**orjson.loads(raw)) if raw else None

    async def list(self) -> list[Principal]:
        rows = await self.redis.hvals(self.key)
        return sorted((Principal(**orjson.loads(r)) for r in rows), key=lambda p: (p.tenant, p.created_at, p.id))

    async def revoke(self, token_id: str) -> Principal:
        digest = await self.redis.hget(self.ids, token_id)
        raw = await self.redis.hget(self.key, digest) if digest else None
        if not raw:
            raise TokenError(f"no token with id {token_id!r}; `omniroute tokens list` shows the ids")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self.key, digest)
            pipe.hdel(self.ids, token_id)
            await pipe.execute()
        return Principal(**orjson.loads(raw))


class Authoriser:
    """Bearer tokens: the operator's OMNIROUTE_API_TOKEN (every tenant) and the store's scoped tokens."""

    def __init__(self, operator_token: str | None, store: TokenStore | None = None) -> None:
        self.operator_token, self.store = operator_token, store

    @property
    def enabled(self) -> bool:
        return bool(self.operator_token) or self.store is not None

    async def principal(self, authorization: str) -> Principal | None:
        given = authorization.removeprefix("Bearer ").strip()
        if not given:
            return None
        if self.operator_token and hmac.compare_digest(given.encode(), self.operator_token.encode()):
            return Principal(id="env", tenant=ALL_TENANTS, label="OMNIROUTE_API_TOKEN")
        return await self.store.lookup(given) if self.store is not None else None
