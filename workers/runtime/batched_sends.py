"""A batch's records filled into one aiokafka batch per partition and handed to the producer in order."""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.producer.message_accumulator import BatchBuilder

from workers.stack.partitioner import keyed_partition


class BatchedSends:
    """`add` appends a record to its partition's open batch (well under a microsecond, against tens for
    `producer.send`); `hand_over` seals the open batches and queues them for one background task that passes
    them to the producer one after another, so each partition's records keep their order across batches.

    While that task is still busy with earlier batches, `hand_over` leaves the open ones open: under load the
    batches grow instead of queueing up. `cut` seals everything added so far and gives a future for the
    futures of those batches (an exception in one when the producer refused its batch), to await the acks.
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._partitions: dict[str, list[int]] = {}  # topic -> its partition ids, sorted (as the partitioner sees)
        self._open: dict[tuple[str, int], BatchBuilder] = {}
        self._queued: deque[tuple[str, int, BatchBuilder] | asyncio.Future] = deque()  # batches and cuts, in order
        self._handed: list[asyncio.Future] = []  # the producer's futures since the last cut
        self._pump: asyncio.Task | None = None

    async def learn_partitions(self, topics: Iterable[str]) -> None:
        """The partition ids of `topics`, fetching the metadata when the producer has none yet."""
        for topic in topics:
            self._partitions[topic] = sorted(await self._producer.partitions_for(topic))

    def refresh_partitions(self) -> None:
        """The partition ids as the producer's metadata (refreshed in the background) has them now."""
        cluster = self._producer.client.cluster
        for topic in self._partitions:
            ids = cluster.partitions_for_topic(topic)
            if ids:
                self._partitions[topic] = sorted(ids)

    def add(self, topic: str, key: bytes | None, value: bytes) -> None:
        ids = self._partitions[topic]
        at = (topic, keyed_partition(key, ids, ids) if key is not None else random.choice(ids))
        builder = self._open.get(at)
        if builder is None:
            builder = self._open[at] = self._producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value) is None:  # full: seal it, start the next one
            self._queued.append((*at, builder))
            builder = self._open[at] = self._producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value) is None:
                raise ValueError(f"a record of {len(value)} bytes for {topic} does not fit in an empty batch")

    def hand_over(self) -> None:
        """Seal the open batches and pass them on, if the task is idle (else they keep filling meanwhile)."""
        if self._busy():
            return
        self._seal_open()
        self._pump_queued()

    def cut(self) -> asyncio.Future[list[asyncio.Future]]:
        """Everything added so far sealed; the future gives those batches' futures once all are with the producer."""
        ticket: asyncio.Future[list[asyncio.Future]] = asyncio.get_running_loop().create_future()
        self._seal_open()
        self._queued.append(ticket)
        self._pump_queued()
        return ticket

    def cancel(self) -> None:
        """Stop passing batches on (the worker is stopping on a failure: nothing after it is committed)."""
        if self._pump is not None:
            self._pump.cancel()

    def _busy(self) -> bool:
        return self._pump is not None and not self._pump.done()

    def _seal_open(self) -> None:
        self._queued.extend((topic, partition, b) for (topic, partition), b in self._open.items())
        self._open = {}

    def _pump_queued(self) -> None:
        if self._queued and not self._busy():  # a busy task takes what is queued behind it
            self._pump = asyncio.create_task(self._pass_on())

    async def _pass_on(self) -> None:
        try:
            while self._queued:
                item = self._queued.popleft()
                if isinstance(item, asyncio.Future):
                    item.set_result(self._handed)
                    self._handed = []
                    continue
                topic, partition, builder = item
                try:
                    future = await self._producer.send_batch(builder, topic, partition=partition)
                except KafkaError as exc:  # no metadata, or a full queue while the broker is away: an unacked send
                    future = asyncio.get_running_loop().create_future()
                    future.set_exception(exc)
                self._handed.append(future)
        except BaseException as exc:  # the cuts waiting behind must not wait for ever
            for item in self._queued:
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_exception(exc if isinstance(exc, Exception) else RuntimeError("batch hand-over stopped"))
            self._queued.clear()
            raise
