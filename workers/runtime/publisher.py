"""Publish normalized inbound messages to support.inbound.v1, acknowledged by the broker."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from contracts.inbound import InboundMessage
from contracts.topics import INBOUND
from workers.runtime.codec import encode, inbound_key


async def publish(producer: AIOKafkaProducer, messages: Sequence[InboundMessage]) -> int:
    """Send in order and wait for every acknowledgement; returns how many were written."""
    futures = [await producer.send(INBOUND.name, value=encode(m), key=inbound_key(m)) for m in messages]
    for future in futures:
        await future
    return len(futures)


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="omniroute-publisher")
