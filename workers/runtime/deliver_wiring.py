"""Builds the deliver processor from an App's settings and sinks (kept out of the composition root's body)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from redis.asyncio import Redis

from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from workers.runtime.deliver import DeliverProcessor

if TYPE_CHECKING:
    from workers.app import App


def deliver_processor(app: App, redis: Redis, session: aiohttp.ClientSession) -> DeliverProcessor:
    prefix = app.settings.redis_prefix
    return DeliverProcessor(redis, RedisWorkQueue(redis, prefix=prefix), app.sinks, SinkClient(session), app.clock,
                            prefix=prefix)
