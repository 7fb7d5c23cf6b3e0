"""CPU time per route-worker stage, measured from outside by wrapping the functions each stage calls (bench only)."""

from __future__ import annotations

import functools
import time
from collections import defaultdict
from collections.abc import Callable

STAGES = ("decode", "decide", "record", "encode", "redis", "kafka")
spent: dict[str, float] = defaultdict(float)  # stage -> CPU seconds of this thread


def _sync(fn: Callable, stage: str) -> Callable:
    @functools.wraps(fn)
    def timed(*args, **kwargs):
        began = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[stage] += time.thread_time() - began
    return timed


class _Steps:
    """Awaits a coroutine, counting the CPU of its own steps only (not what other tasks do while it waits)."""

    def __init__(self, coro, stage: str) -> None:
        self.coro, self.stage = coro, stage

    def __await__(self):
        value, error = None, None
        while True:
            began = time.thread_time()
            try:
                step = self.coro.send(value) if error is None else self.coro.throw(error)
            except StopIteration as done:
                return done.value
            finally:
                spent[self.stage] += time.thread_time() - began
            try:
                value, error = (yield step), None
            except BaseException as exc:  # noqa: BLE001 - handed to the coroutine, as await would
                value, error = None, exc


def _async(fn: Callable, stage: str) -> Callable:
    @functools.wraps(fn)
    async def timed(*args, **kwargs):
        return await _Steps(fn(*args, **kwargs), stage)
    return timed


def install() -> None:
    """Wrap the route worker's stages: its processor's calls, the Redis client and aiokafka's client coroutines
    (consume, produce, the sender and fetcher background tasks, commits)."""
    from aiokafka.consumer.consumer import AIOKafkaConsumer
    from aiokafka.consumer.fetcher import Fetcher
    from aiokafka.producer.producer import AIOKafkaProducer
    from aiokafka.producer.sender import Sender
    from redis.asyncio.client import Pipeline, Redis

    from workers.runtime import route_processor as rp
    from workers.runtime.batched_sends import BatchedSends

    for name, stage in (("decode_inbound", "decode"), ("decide", "decide"), ("record", "record"),
                        ("encode", "encode")):
        setattr(rp, name, _sync(getattr(rp, name), stage))
    BatchedSends.add = _sync(BatchedSends.add, "kafka")
    for cls, name, stage in ((Redis, "execute_command", "redis"), (Pipeline, "execute", "redis"),
                             (AIOKafkaProducer, "send", "kafka"), (AIOKafkaProducer, "send_batch", "kafka"), (Sender, "_sender_routine", "kafka"),
                             (AIOKafkaConsumer, "getmany", "kafka"), (AIOKafkaConsumer, "commit", "kafka"),
                             (Fetcher, "_fetch_requests_routine", "kafka")):
        setattr(cls, name, _async(getattr(cls, name), stage))


def snapshot() -> dict[str, float]:
    return dict(spent)
