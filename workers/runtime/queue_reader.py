"""Read the queues for operators: find the dev stack's Redis, list open items by SLA due, each queue's CSAT."""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.workitem import WorkItem
from workers.runtime.csat_store import CsatStore, QueueCsat
from workers.settings import Settings
from workers.stack import statefile


def redis_for_cli(settings: Settings) -> tuple[str, str] | None:
    """(url, key prefix): REDIS_URL if set, else the running dev stack's Redis, else None."""
    if settings.redis_url:
        return settings.redis_url, settings.redis_prefix
    running = statefile.read_live(settings.state_file)
    return (running.redis_url, running.redis_prefix) if running else None


async def open_items(url: str, prefix: str, tenant: str | None,
                     limit: int | None = None) -> tuple[list[WorkItem], int]:
    """The first `limit` open items by SLA due (all with None), and how many are open in all."""
    redis = Redis.from_url(url)
    try:
        queue = RedisWorkQueue(redis, prefix=prefix)
        total = await queue.count_open(tenant=tenant)
        return await queue.list_open(tenant=tenant, limit=limit), total
    except RedisConnectionError as exc:
        raise OSError(str(exc)) from None
    finally:
        await redis.aclose()


async def queue_csat(url: str, prefix: str, tenant: str | None, since: datetime) -> list[QueueCsat]:
    """Each queue's CSAT (average rating and count) since `since`."""
    redis = Redis.from_url(url)
    try:
        return await CsatStore(redis, prefix=prefix).by_queue(since, tenant)
    except RedisConnectionError as exc:
        raise OSError(str(exc)) from None
    finally:
        await redis.aclose()
