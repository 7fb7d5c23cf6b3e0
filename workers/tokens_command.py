"""`omniroute tokens create|list|revoke`: per-tenant (and per-agent) API tokens in the stack's Redis, stored hashed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from contracts.errors import OmnirouteError
from workers.policy_files import load_policies
from workers.runtime.queue_reader import redis_for_cli
from workers.runtime.tokens import Principal, TokenStore
from workers.settings import Settings

T = TypeVar("T")


class TokensError(OmnirouteError):
    """The token command cannot run; one line saying why."""


def _with_store(settings: Settings, work: Callable[[TokenStore], Awaitable[T]]) -> T:
    found = redis_for_cli(settings)
    if found is None:
        raise TokensError("no running dev stack found and REDIS_URL is not set; start one with `omniroute dev`")
    url, prefix = found

    async def run() -> T:
        redis = Redis.from_url(url)
        try:
            return await work(TokenStore(redis, prefix=prefix))
        finally:
            await redis.aclose()
    try:
        return asyncio.run(run())
    except (OSError, RedisError) as exc:
        raise TokensError(f"cannot reach Redis ({exc})") from None


def create(settings: Settings, tenant: str, agent: str | None, label: str | None) -> tuple[Principal, str]:
    tenants = load_policies(settings.policy_dirs)
    if tenant not in tenants:
        raise TokensError(f"unknown tenant {tenant!r}; known: {', '.join(sorted(tenants))}")
    return _with_store(settings, lambda store: store.create(tenant, agent=agent, label=label))


def listed(settings: Settings) -> list[Principal]:
    return _with_store(settings, lambda store: store.list())


def revoke(settings: Settings, token_id: str) -> Principal:
    return _with_store(settings, lambda store: store.revoke(token_id))


def describe(p: Principal) -> str:
    return (f"{p.id}  tenant {p.tenant}" + (f"  agent {p.agent}" if p.agent else "")
            + (f"  ({p.label})" if p.label else "") + f"  created {p.created_at}")
