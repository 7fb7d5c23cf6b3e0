"""Publish normalized inbound messages (CSAT answers to their own topic), acknowledged by the broker within a bound."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from redis.exceptions import RedisError

from contracts.csat import CsatRating
from contracts.errors import OmnirouteError
from contracts.inbound import InboundMessage
from contracts.topics import CSAT, INBOUND
from workers.runtime.codec import encode, inbound_key
from workers.runtime.csat_answers import CsatAnswers
from workers.runtime.customer_keys import CustomerKeys

log = logging.getLogger("omniroute.publish")


class BrokerUnavailable(OmnirouteError):
    """Kafka did not acknowledge in time: nothing may be answered as accepted; the caller should retry later."""


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


async def publish_within(producer: AIOKafkaProducer, messages: Sequence[InboundMessage],
                         customers: CustomerKeys | None, timeout_s: float, *,
                         answers: CsatAnswers | None = None) -> list[RecordMetadata]:
    """Publish and wait for every acknowledgement, or raise BrokerUnavailable after `timeout_s`.

    With `answers`, a message answering a pending CSAT survey goes to support.csat.v1 as a CsatRating instead
    of support.inbound.v1 (it opens no request); the metadata stays in the order of `messages`.
    A timed-out send may still reach the log later; the platform's retry is then a redelivery that the route
    worker drops by message id, so answering "try again" is always safe.
    """
    caught = await answers.catch(messages) if answers is not None else {}

    async def send_all() -> list[RecordMetadata]:
        rest = iter(await inbound_keys([m for i, m in enumerate(messages) if i not in caught], customers))
        futures = []
        for index, message in enumerate(messages):
            if index in caught:
                rating = caught[index][0]
                futures.append(await producer.send(CSAT.name, value=encode(rating), key=csat_key(rating)))
            else:
                futures.append(await producer.send(INBOUND.name, value=encode(message), key=next(rest)))
        return list(await asyncio.gather(*futures))

    try:
        written = await asyncio.wait_for(send_all(), timeout_s)
    except (TimeoutError, KafkaError) as exc:
        if caught:
            await answers.give_back(caught)
        raise BrokerUnavailable(f"Kafka did not acknowledge within {timeout_s:g} s ({type(exc).__name__})") from None
    if log.isEnabledFor(logging.INFO):  # the trace id (the message id) starts here; decisions carry it on
        for message, meta in zip(messages, written):
            log.info("published", extra={"trace_id": message.id, "tenant": message.tenant,
                                         "channel": str(message.channel), "partition": meta.partition,
                                         "offset": meta.offset})
    return written


def csat_key(rating: CsatRating) -> bytes:
    """tenant:work_item, as contracts.topics.CSAT says."""
    return f"{rating.tenant}:{rating.work_item_id}".encode()


async def inbound_keys(messages: Sequence[InboundMessage], customers: CustomerKeys | None = None) -> list[bytes]:
    """Record keys: by the linked customer when the index answers, else by each sender's own first identity."""
    if customers is not None:
        try:
            return await customers.keys_for(messages)
        except (RedisError, OSError) as exc:
            log.warning("customer index unavailable (%s): keyed by sender; cross-channel repeats may not merge", exc)
    return [inbound_key(m) for m in messages]


def new_producer(bootstrap: str, **options) -> AIOKafkaProducer:
    """acks=all, 5 ms linger; `options` (security, client id, idempotence: `kafka_options.producer_options`) win."""
    return AIOKafkaProducer(**({"bootstrap_servers": bootstrap, "acks": "all", "linger_ms": 5,
                                "client_id": "omniroute-publisher"} | options))
