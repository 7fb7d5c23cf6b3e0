"""Publish normalized inbound messages to support.inbound.v1, acknowledged by the broker."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from contracts.inbound import InboundMessage
from contracts.topics import INBOUND
from workers.runtime.codec import encode, inbound_key
from workers.runtime.customer_keys import CustomerKeys


async def publish(producer: AIOKafkaProducer, messages: Sequence[InboundMessage],
                  customers: CustomerKeys | None = None) -> int:
    """Send in order and wait for every acknowledgement; returns how many were written.

    With `customers`, records are keyed by the linked customer (cross-channel repeats share a partition);
    without, by the sender's own first identity.
    """
    keys = await inbound_keys(messages, customers)
    futures = [await producer.send(INBOUND.name, value=encode(m), key=k) for m, k in zip(messages, keys)]
    for future in futures:
        await future
    return len(futures)


async def inbound_keys(messages: Sequence[InboundMessage], customers: CustomerKeys | None = None) -> list[bytes]:
    """Record keys: by the linked customer when there is an index, else by each sender's own first identity."""
    return await customers.keys_for(messages) if customers else [inbound_key(m) for m in messages]


def new_producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="omniroute-publisher")
