"""Retrying a step that failed on Redis or Kafka, with capped exponential backoff, until it succeeds or stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from aiokafka.errors import KafkaError, KafkaTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from workers.runtime.health import Health

log = logging.getLogger("omniroute.retry")
T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    first_s: float = 0.1
    cap_s: float = 5.0

    def delays(self) -> Iterator[float]:
        delay = self.first_s
        while True:
            yield delay
            delay = min(delay * 2, self.cap_s)


def dependency_of(exc: BaseException) -> str | None:
    """"redis" or "kafka" when `exc` is a fault that goes away by itself (the server restarts, the broker answers
    again); None for everything else, which is a bug or a refusal that retrying would only repeat."""
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):  # BusyLoadingError (AOF replay) is one
        return "redis"
    if isinstance(exc, KafkaTimeoutError) or (isinstance(exc, KafkaError) and exc.retriable):
        return "kafka"
    return None


async def retrying(what: str, attempt: Callable[[], Awaitable[T]], health: Health, stop: asyncio.Event,
                   backoff: Backoff = Backoff()) -> T:
    """`attempt()`'s result, calling it again after each transient fault; other faults are raised at once.

    Once `stop` is set a transient fault is raised too (after one more attempt), so a worker told to stop during
    an outage stops instead of waiting for the dependency; what it did not commit is done again by the next run.
    `attempt` must be safe to repeat: the workers only retry steps whose effects are idempotent.
    """
    delays, failed = backoff.delays(), set()
    while True:
        try:
            result = await attempt()
        except Exception as exc:
            dependency = dependency_of(exc)
            if dependency is None or stop.is_set():
                raise
            health.failing(dependency, exc)
            failed.add(dependency)
            delay = next(delays)
            log.warning("%s: %s failed (%s: %s); retrying in %.1f s", what, dependency, type(exc).__name__, exc, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            continue
        for dependency in failed:
            health.ok(dependency)
        return result
