"""Each work item's accepted agent actions, oldest first, kept as long as the item (shown by GET .../work-items/{id})."""

from __future__ import annotations

from redis.asyncio import Redis

from channels.sinks.redis_queue import RESOLVED_TTL_SECONDS
from channels.sinks.redis_keys import escape, items_tag
from contracts.workitem import AgentAction
from workers.runtime.codec import encode

KEEP_S = RESOLVED_TTL_SECONDS  # the retention job deletes it with its item; this is the backstop


class ActionHistory:
    def __init__(self, redis: Redis, *, prefix: str) -> None:
        self.redis, self.prefix = redis, prefix

    def _key(self, item_id: str) -> str:
        return history_key(self.prefix, item_id)

    async def remember(self, action: AgentAction) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(self._key(action.work_item_id), encode(action))
            pipe.expire(self._key(action.work_item_id), KEEP_S)
            await pipe.execute()

    async def of(self, item_id: str) -> list[AgentAction]:
        return [AgentAction.model_validate_json(raw) for raw in await self.redis.lrange(self._key(item_id), 0, -1)]


def history_key(prefix: str, item_id: str) -> str:
    """The Redis list holding one item's actions (with the items' hash tag: the retention job deletes it with them)."""
    return f"{prefix}:history:{items_tag(prefix)}:{escape(item_id)}"
