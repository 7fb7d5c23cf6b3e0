"""The SLA processor on the faust App: an agent on routed decisions and agent actions, a timer for deadlines.

The agent hands each record to `SlaProcessor.apply` with its topic, partition and offset (the scripts skip a
record applied before) and drains the outbox after an action; faust commits the offset only after that, so a
crash re-delivers at least what was not finished. The timer claims due deadlines and drains the outbox, and the
first tick publishes whatever a previous run left there. Events go out through the App's producer (acks=all)
with the `event-id` header; records that are not their topic's contract become dead letters. Redis and broker
faults are retried with backoff inside the step (the processor's health says so meanwhile, for /readyz); other
faults stop the App. No faust table: the clocks live in Redis (tables are not trusted on the embedded broker).
"""

from __future__ import annotations

import asyncio
import logging

import faust

from contracts.topics import AGENT_ACTIONS, DEAD_LETTER, ROUTED, SLA_EVENTS
from workers.runtime.flow_metrics import timed
from workers.runtime.retry import retrying
from workers.runtime.route_processor import dead_letter
from workers.runtime.sla_processor import SlaProcessor
from workers.stack.faust_compat import raw_topic

log = logging.getLogger("omniroute.sla")
TICK_EVERY_S = 0.5


def register_sla(app: faust.App, processor: SlaProcessor, *, tick_every_s: float = TICK_EVERY_S) -> None:
    """`sla`: decisions and actions -> clock transitions in Redis -> support.sla-events.v1; `sla-tick` fires deadlines."""
    inputs = raw_topic(app, ROUTED.name, AGENT_ACTIONS.name)
    events, dead = raw_topic(app, SLA_EVENTS.name), raw_topic(app, DEAD_LETTER.name)
    never = asyncio.Event()  # faust stops the agent by cancelling it: retries need no stop signal of their own
    health = processor.dependencies

    async def publish(key: bytes, value: bytes, headers: list[tuple[str, bytes]]):  # noqa: ANN202 - faust's future
        return await events.send(key=key, value=value, headers=headers)

    async def drain() -> None:
        await retrying("sla: outbox", lambda: processor.drain(publish), health, never)

    async def handle(event) -> None:  # noqa: ANN001 - a faust event
        message = event.message
        where = (message.topic, message.partition, message.offset)
        try:
            outbox = await retrying("sla: applying a record", lambda: processor.apply(*where, event.value), health,
                                    never)
        except ValueError as exc:  # undecodable input: dead-lettered, the agent goes on
            processor.stats.skipped += 1
            await (await dead.send(key=event.key, value=dead_letter(exc, event.key, event.value, where)))
            return
        if outbox:
            await drain()

    @app.agent(inputs, name="sla")
    async def sla(stream) -> None:  # noqa: ANN001 - a faust stream
        async for event in stream.events():
            with timed("sla"):
                await handle(event)
            processor.stats.records += 1

    @app.timer(tick_every_s, name="sla-tick")
    async def tick() -> None:
        await retrying("sla: tick", lambda: processor.tick(publish), health, never)

    @app.on_partitions_assigned.connect
    async def assigned(app: faust.App, assigned: set, **kwargs) -> None:  # noqa: ANN003 - faust's signal
        processor.ready.set()
