"""BatchedSends on a real broker: every record lands once, on the partition `producer.send` picks, in order."""

from __future__ import annotations

import asyncio
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.topics import TopicSpec
from workers.runtime.batched_sends import BatchedSends
from workers.stack.partitioner import keyed_partition
from workers.stack.topics import ensure_topics


def test_records_keep_their_partition_and_order_across_hand_overs_and_cuts(kafka_bootstrap: str) -> None:
    topics = [f"test-batched-{uuid.uuid4().hex[:8]}-{i}" for i in range(2)]
    records = [(topics[i % 2], f"customer-{i % 7}".encode(), f"{i}".encode()) for i in range(3000)]

    async def body() -> tuple[list, dict[TopicPartition, list[bytes]], dict[TopicPartition, list[bytes]]]:
        await ensure_topics(kafka_bootstrap, [TopicSpec(name=t, key="k", value="v", partitions=4) for t in topics])
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", partitioner=keyed_partition)
        await producer.start()
        try:
            sends = BatchedSends(producer)
            await sends.learn_partitions(topics)
            cuts = []
            for n, (topic, key, value) in enumerate(records, 1):
                sends.add(topic, key, value)
                if n % 100 == 0:
                    sends.hand_over()
                    await asyncio.sleep(0)  # a yield, as the worker's loop gives the pump its turn
                if n % 1000 == 0:  # a worker's batch boundary
                    cuts.append(sends.cut())
            acks = [await asyncio.gather(*await cut) for cut in cuts]
            expected: dict[TopicPartition, list[bytes]] = {}
            for topic, key, value in records:  # where producer.send would have put each record
                ids = sorted(producer.client.cluster.partitions_for_topic(topic))
                expected.setdefault(TopicPartition(topic, keyed_partition(key, ids, ids)), []).append(value)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(*topics, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                                    group_id=None, enable_auto_commit=False)
        await consumer.start()
        got: dict[TopicPartition, list[bytes]] = {}
        try:
            deadline = asyncio.get_running_loop().time() + 60
            while sum(map(len, got.values())) < len(records) and asyncio.get_running_loop().time() < deadline:
                for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                    got.setdefault(tp, []).extend(r.value for r in batch)
        finally:
            await consumer.stop()
        return acks, expected, got

    acks, expected, got = asyncio.run(body())
    assert len(acks) == 3 and all(acks)  # each cut gave the futures of its batches, all acknowledged
    assert got == expected
