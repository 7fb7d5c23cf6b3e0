"""Many calls of registered Lua scripts at once: one pipeline on a Redis server, concurrent calls on a Cluster.

redis-py refuses scripts in a Cluster pipeline (their keys decide the node, and a node may lack the script), so
there each call goes by itself (loading the script where it is missing), a bounded number at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript

CONCURRENT = 32  # calls in flight at once on a Cluster


async def run_scripts(redis, calls: Sequence[tuple[AsyncScript, list, list]]) -> list:
    """The results of `script(keys=..., args=...)` for each (script, keys, args), in order."""
    if isinstance(redis, RedisCluster):
        out: list = []
        for start in range(0, len(calls), CONCURRENT):
            out += await asyncio.gather(*(script(keys=keys, args=args)
                                          for script, keys, args in calls[start:start + CONCURRENT]))
        return out
    async with redis.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            await script(keys=keys, args=args, client=pipe)
        return await pipe.execute()
