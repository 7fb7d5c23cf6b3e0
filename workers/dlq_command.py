"""`omniroute dlq list|replay`: events a sink did not take within its retry budget, and sending them again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from contracts.sinks import SinkDeadLetter
from contracts.topics import SINK_DEAD_LETTER, SINK_REPLAY
from workers.runtime.deliver import delivered_mark
from workers.runtime.publisher import new_producer
from workers.settings import Settings
from workers.worker_command import Target, find_target


@dataclass(frozen=True)
class Letter:
    letter: SinkDeadLetter
    delivered: bool  # the sink has taken the event since (a replay, or a later redelivery)

    def describe(self) -> str:
        e = self.letter.event
        state = "delivered since" if self.delivered else "pending"
        return (f"{self.letter.at.isoformat(timespec='seconds')}  {e.tenant}/{self.letter.sink}  {e.type.value}  "
                f"{e.item.id}  {e.id}  {state}  after {self.letter.attempts} attempt(s): {self.letter.error}")


async def read_letters(target: Target, *, tenant: str | None = None, sink: str | None = None,
                       event_id: str | None = None) -> list[Letter]:
    """Every dead letter on the topic, newest state first checked against the sinks' delivered marks."""
    consumer = AIOKafkaConsumer(bootstrap_servers=target.bootstrap, group_id=None, enable_auto_commit=False,
                                fetch_max_wait_ms=100)
    await consumer.start()
    letters: dict[tuple[str, str, str], SinkDeadLetter] = {}
    try:
        await consumer.topics()  # loads the cluster metadata partitions_for_topic reads
        tps = [TopicPartition(SINK_DEAD_LETTER.name, p)
               for p in sorted(consumer.partitions_for_topic(SINK_DEAD_LETTER.name) or [])]
        if tps:
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for record in records:
                        letter = SinkDeadLetter.model_validate_json(record.value)
                        letters[(letter.event.tenant, letter.sink, letter.event.id)] = letter  # the latest
    finally:
        await consumer.stop()
    chosen = [v for (t, s, e), v in letters.items() if (tenant in (None, t)) and (sink in (None, s))
              and (event_id in (None, e))]
    redis = Redis.from_url(target.redis_url)
    try:
        marks = [await redis.exists(delivered_mark(target.redis_prefix, v.event.tenant, v.sink, v.event.id))
                 for v in chosen]
    finally:
        await redis.aclose()
    return [Letter(v, bool(m)) for v, m in zip(chosen, marks)]


async def replay(target: Target, letters: list[Letter]) -> int:
    """Hand the pending letters to the deliver processors (support.sink-replay.v1); returns how many."""
    pending = [letter.letter for letter in letters if not letter.delivered]
    producer = new_producer(target.bootstrap)
    await producer.start()
    try:
        for letter in pending:
            await producer.send_and_wait(SINK_REPLAY.name, value=letter.model_dump_json().encode(),
                                         key=f"{letter.event.tenant}:{letter.event.item.id}".encode())
    finally:
        await producer.stop()
    return len(pending)


def run_list(settings: Settings, **filters: str | None) -> list[Letter]:
    return asyncio.run(read_letters(find_target(settings), **filters))


def run_replay(settings: Settings, **filters: str | None) -> int:
    target = find_target(settings)
    return asyncio.run(replay(target, asyncio.run(read_letters(target, **filters))))
