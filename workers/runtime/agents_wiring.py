"""Builds this issue's parts from an App: the deliver processor and the agents' API dependencies."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from redis.asyncio import Redis

from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from routing.policy import TenantPolicy
from workers.runtime.action_history import ActionHistory
from workers.runtime.api_channel import AgentsApiDeps
from workers.runtime.csat_store import CsatStore
from workers.runtime.deliver import DeliverProcessor
from workers.runtime.tokens import Authoriser, TokenStore

if TYPE_CHECKING:
    from workers.app import App


def deliver_processor(app: App, redis: Redis, session: aiohttp.ClientSession) -> DeliverProcessor:
    prefix = app.settings.redis_prefix
    return DeliverProcessor(redis, RedisWorkQueue(redis, prefix=prefix), app.sinks.bound(redis, prefix),
                            SinkClient(session), app.clock, prefix=prefix)


def agents_api_deps(operator_token: str | None, redis: Redis, prefix: str,
                    policies: dict[str, TenantPolicy]) -> AgentsApiDeps:
    """Scoped tokens from Redis (plus the operator's OMNIROUTE_API_TOKEN), the work queue, the action history."""
    return AgentsApiDeps(auth=Authoriser(operator_token, TokenStore(redis, prefix=prefix)),
                         queue=RedisWorkQueue(redis, prefix=prefix), history=ActionHistory(redis, prefix=prefix),
                         policies=policies, csat=CsatStore(redis, prefix=prefix))
