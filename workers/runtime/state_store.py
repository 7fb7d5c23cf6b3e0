"""Per-partition routing state in Redis, stored together with the offset it reflects."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import orjson
from redis.asyncio import Redis

from routing.state import MemoryState
from routing.state_snapshot import restore, snapshot


@dataclass(frozen=True)
class Restored:
    state: MemoryState
    next_offset: int  # the first offset the state has NOT seen


class PartitionStateStore:
    """The state of a partition and the next offset to read, written in one SET so they never disagree."""

    def __init__(self, redis: Redis, *, group: str, prefix: str = "omniroute") -> None:
        self.redis, self.group, self.prefix = redis, group, prefix

    def _key(self, topic: str, partition: int) -> str:
        return f"{self.prefix}:route-state:{self.group}:{topic}:{partition}"

    async def load(self, topic: str, partition: int) -> Restored | None:
        raw = await self.redis.get(self._key(topic, partition))
        if raw is None:
            return None
        data = orjson.loads(zlib.decompress(raw))
        return Restored(state=restore(data["state"]), next_offset=int(data["next_offset"]))

    async def save_many(self, entries: dict[tuple[str, int], tuple[MemoryState, int]]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for (topic, partition), (state, next_offset) in entries.items():
                blob = orjson.dumps({"next_offset": next_offset, "state": snapshot(state)})
                pipe.set(self._key(topic, partition), zlib.compress(blob, 1))
            await pipe.execute()
