"""The parent side of bench/pipeline.py: child processes, preloading, paced load and the output observer."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contracts.topics import INBOUND
from workers.stack.procs import spawn, stop_process, tail, wait_ready

CHILD = Path(__file__).with_name("pipeline_child.py")
Record = tuple[str, bytes, bytes]  # message id, key, encoded InboundMessage


class Child:
    """One child of pipeline_child.py in its own process group, its output in a log file."""

    def __init__(self, run_dir: Path, name: str, mode: str, cfg: dict) -> None:
        self.name, self.log = name, run_dir / f"{name}.log"
        self.proc = spawn([sys.executable, CHILD, mode, json.dumps(cfg)], self.log, death_signal=signal.SIGTERM)

    async def ready(self, timeout: float) -> None:
        await wait_ready(self.proc, self.log, "READY", timeout=timeout, name=self.name)

    async def finish(self, timeout: float) -> dict:
        """Wait for the child to end by itself; on timeout stop it and return what it reported so far."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        timed_out = self.proc.poll() is None
        await self.stop()
        result = self.result()
        if timed_out:
            result["error"] = f"timed out after {timeout:.0f} s"
        return result

    async def stop(self, timeout: float = 30.0) -> dict:
        """SIGTERM (a clean stop that still reports), SIGKILL after `timeout`."""
        await stop_process(self.proc, sig=signal.SIGTERM, timeout=timeout)
        return self.result()

    def progress(self) -> int:
        """Records the child has reported so far."""
        return self.result().get("count", 0)

    def result(self) -> dict:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        for tag in ("RESULT ", "PROGRESS "):
            found = [line for line in lines if line.startswith(tag)]
            if found:
                out = json.loads(found[-1][len(tag):])
                if tag == "PROGRESS ":
                    out["error"] = f"no result (rc={self.proc.returncode})"
                return out
        return {"error": f"rc={self.proc.returncode}; log {self.log}:\n{tail(self.log)}"}


async def preload(bootstrap: str, records: list[Record]) -> float:
    """Produce the records to support.inbound.v1, batched and acknowledged; returns msgs/s."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        began = time.perf_counter()
        sends = [await producer.send(INBOUND.name, value=value, key=key) for _, key, value in records]
        await asyncio.gather(*sends)
        return len(records) / (time.perf_counter() - began)
    finally:
        await producer.stop()


@dataclass
class Observer:
    """Reads output topics from the start and matches each record to the publish time of its input.

    `by_header`: the input's message id travels in the `mid` header (raw hop); otherwise it is the
    `message_id` of the decision in the value (route worker).
    """

    bootstrap: str
    topics: dict[str, int]  # name -> partitions
    fetch_wait_ms: int
    by_header: bool
    sent_at: dict[str, float] = field(default_factory=dict)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (sent at, latency s)
    per_topic: dict[str, int] = field(default_factory=dict)
    unmatched: int = 0
    last_seen: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="earliest", fetch_max_wait_ms=self.fetch_wait_ms)
        await consumer.start()
        try:
            consumer.assign([TopicPartition(t, p) for t, n in self.topics.items() for p in range(n)])
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=self.fetch_wait_ms)
                seen = time.perf_counter()
                for tp, records in batch.items():
                    self.per_topic[tp.topic] = self.per_topic.get(tp.topic, 0) + len(records)
                    for r in records:
                        self._match(r, seen)
                if batch:
                    self.last_seen = seen
        finally:
            await consumer.stop()

    def _match(self, record, seen: float) -> None:
        if self.by_header:
            mid = next((v.decode() for k, v in record.headers if k == "mid"), None)
        else:
            mid = orjson.loads(record.value).get("message_id")
        sent = self.sent_at.get(mid) if mid else None
        if sent is None:
            self.unmatched += 1
        else:
            self.latencies.append((sent, seen - sent))

    @property
    def seen(self) -> int:
        return sum(self.per_topic.values())


async def paced_load(bootstrap: str, records: list[Record], rate: float, observer: Observer) -> tuple[float, float]:
    """Publish at `rate` msgs/s on schedule (catching up if late); returns when the load started and ended."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="bench-load")
    await producer.start()
    try:
        began, sends, i = time.perf_counter(), [], 0
        while i < len(records):
            due = min(len(records), int((time.perf_counter() - began) * rate) + 1)
            while i < due:
                mid, key, value = records[i]
                observer.sent_at[mid] = time.perf_counter()
                sends.append(await producer.send(INBOUND.name, value=value, key=key, headers=[("mid", mid.encode())]))
                i += 1
            await asyncio.sleep(0.002)
        await asyncio.gather(*sends)
        return began, observer.sent_at[records[-1][0]]
    finally:
        await producer.stop()


async def drain(observer: Observer, expected: int | None, quiet_s: float = 2.0, timeout: float = 20.0) -> None:
    """Until `expected` records were seen, else until nothing arrived for `quiet_s`, at most `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if expected is not None and observer.seen >= expected:
            return
        if observer.last_seen and time.perf_counter() - observer.last_seen > quiet_s:
            return
        await asyncio.sleep(0.1)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]
