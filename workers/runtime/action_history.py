"""Each work item's accepted agent actions, oldest first, kept 30 days (shown by GET .../work-items/{id})."""

from __future__ import annotations

from redis.asyncio import Redis

from channels.sinks.redis_queue_lua import escape
from contracts.workitem import AgentAction
from workers.runtime.codec import encode

KEEP_S = 30 * 24 * 3600


class ActionHistory:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    def _key(self, item_id: str) -> str:
        return f"{self.prefix}:history:{escape(item_id)}"

    async def remember(self, action: AgentAction) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(self._key(action.work_item_id), encode(action))
            pipe.expire(self._key(action.work_item_id), KEEP_S)
            await pipe.execute()

    async def of(self, item_id: str) -> list[AgentAction]:
        return [AgentAction.model_validate_json(raw) for raw in await self.redis.lrange(self._key(item_id), 0, -1)]
