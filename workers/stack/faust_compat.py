"""faust-streaming on the embedded broker: the fetch wait it hard-codes, lowered like our own consumers'.

faust's aiokafka driver builds its consumer with `fetch_max_wait_ms=1500`. Tansu does not answer a waiting
fetch early when data arrives, so every record would wait up to 1.5 s; our aiokafka loops use
OMNIROUTE_FETCH_MAX_WAIT_MS (100 ms) for the same reason. The patch sets that value on the consumer faust
creates, before it starts (aiokafka reads it when its fetcher starts).
"""

from __future__ import annotations

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

_original = faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer
_fetch_wait_ms = 1500


def set_faust_fetch_wait(ms: int) -> None:
    global _fetch_wait_ms
    _fetch_wait_ms = ms
    faust_aiokafka.AIOKafkaConsumerThread._create_worker_consumer = _patched


def _patched(self, transport):  # noqa: ANN001 - faust's own signature
    consumer = _original(self, transport)
    consumer._fetch_max_wait_ms = _fetch_wait_ms  # noqa: SLF001 - no public setting exists
    return consumer


def raw_topic(app: faust.App, *names: str) -> faust.TopicT:
    """Topics read and written as raw bytes: our codecs (pydantic, orjson) decode, not faust's serializers."""
    return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
