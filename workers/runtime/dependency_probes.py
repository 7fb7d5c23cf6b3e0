"""Cheap questions to Kafka and Redis for readiness: cluster metadata, PING."""

from __future__ import annotations

from aiokafka.client import AIOKafkaClient
from redis.asyncio import Redis

from workers.runtime.readiness import Dependency

KAFKA_WITHOUT = "posts and webhooks answer 503 with Retry-After; nothing is acknowledged"
REDIS_WITHOUT = ("records keyed by sender (cross-channel repeats may not merge), edge dedupe and rate limits off "
                 "(the route worker still drops redelivered copies by message id)")


class KafkaProbe:
    """Asks the cluster for its metadata on a connection of its own (so a busy producer does not hide a dead broker)."""

    def __init__(self, bootstrap: str, **options) -> None:
        self._client = AIOKafkaClient(bootstrap_servers=bootstrap, **options)
        self._booted = False

    async def __call__(self) -> None:
        if not self._booted:
            await self._client.bootstrap()
            self._booted = True
        await self._client.fetch_all_metadata()

    async def close(self) -> None:
        await self._client.close()


def kafka_dependency(probe: KafkaProbe) -> Dependency:
    return Dependency("kafka", probe, required=True, without=KAFKA_WITHOUT)


def redis_dependency(redis: Redis, *, required: bool) -> Dependency:
    return Dependency("redis", redis.ping, required=required, without="" if required else REDIS_WITHOUT)
