"""bench/scale.py's churn run: constant offered load while route worker processes join and leave (1 -> 2 -> 4 -> 2 -> 1).

On a fresh embedded broker: one process takes all partitions, then a paced publisher offers `rate` msg/s for
the whole run while the process count steps through `steps` (joins start processes, leaves SIGTERM the newest,
or SIGKILL them with --leave-signals KILL). After each step the run waits until the live processes hold every
partition exactly once (restored), then holds the count for `phase_s`. Printed per phase: offered and routed
msg/s and p50/p99 publish -> routed latency (messages published from `settle_s` after the split to the phase's
end); per step: how long until the split was stable, the pause (the longest publish -> routed wait of a message
published from 1 s before the step until `settle_s` after the split) and when the backlog was gone (the last
message waiting over `late_s` was routed). At the end the processes stop cleanly and the work items in Redis are
checked against a replay of the stream (bench/work_items_check.py): lost and duplicated messages, items opened
twice.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer

from contracts.topics import INBOUND
from pipeline import DECISION_TOPICS
from pipeline_load import Child, Record, percentile
from takeover import SeenObserver
from work_items_check import ItemsCheck, check
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics


@dataclass
class Window:
    label: str
    start: float  # perf_counter
    end: float


@dataclass
class Step:
    label: str
    at: float  # when processes were started or signalled
    stable: float  # when the live processes held every partition once


class Pool:
    """Route worker processes (bench/pipeline_child.py `route`) in one group; the newest leave first."""

    def __init__(self, run_dir: Path, name: str, cfg: dict, partitions: int,
                 leave: signal.Signals = signal.SIGTERM) -> None:
        self.run_dir, self.name, self.cfg, self.partitions, self.leave = run_dir, name, cfg, partitions, leave
        self.live: list[Child] = []
        self.leaving: list[Child] = []
        self._started = 0

    def resize(self, count: int) -> None:
        while len(self.live) < count:
            self.live.append(Child(self.run_dir, f"{self.name}-{self._started}", "route", self.cfg))
            self._started += 1
        while len(self.live) > count:
            child = self.live.pop()
            # SIGTERM: a clean stop (final checkpoint and commit, then LeaveGroup); SIGKILL: a crash, whose partitions
            # wait for its session to expire and replay from the last checkpoint
            os.killpg(child.proc.pid, self.leave)
            self.leaving.append(child)

    def split(self) -> list[list[int]] | None:
        """The live processes' partitions once they cover all partitions exactly once and the leavers are gone."""
        if any(c.proc.poll() is None for c in self.leaving):
            return None
        sets = [held(c) for c in self.live]
        if all(s for s in sets) and sorted(p for s in sets for p in s) == list(range(self.partitions)):
            return sets
        return None

    async def settled(self, timeout: float) -> list[list[int]]:
        deadline = time.monotonic() + timeout
        while (sets := self.split()) is None:
            failed = [c for c in self.live if c.proc.poll() is not None]
            if failed or time.monotonic() > deadline:
                raise RuntimeError(f"no stable split of {self.partitions} partitions among {len(self.live)} "
                                   f"processes ({[held(c) for c in self.live]}); logs in {self.run_dir}")
            await asyncio.sleep(0.05)
        return sets

    async def stop(self) -> list[dict]:
        return [await c.stop(timeout=60) for c in self.live + self.leaving]


def held(child: Child) -> list[int] | None:
    """The partitions a child last said it holds, restored and being decided (its `PARTITIONS` lines)."""
    lines = child.log.read_text(errors="replace").splitlines() if child.log.exists() else []
    found = [line for line in lines if line.startswith("PARTITIONS ")]
    return json.loads(found[-1][len("PARTITIONS "):])["partitions"] if found else None


@dataclass
class Publisher:
    """Offers `rate` msg/s on schedule until stopped; remembers each message's send time and partition."""

    bootstrap: str
    records: list[Record]
    rate: float
    observer: SeenObserver
    sent: list[tuple[str, float, asyncio.Future]] = field(default_factory=list)
    ran_out: bool = False

    async def run(self, stop: asyncio.Event) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, client_id="bench-churn")
        await producer.start()
        try:
            began, i = time.perf_counter(), 0
            while not stop.is_set():
                due = int((time.perf_counter() - began) * self.rate) + 1
                if due > len(self.records):
                    self.ran_out = True
                    break
                while i < due:
                    mid, key, value = self.records[i]
                    at = self.observer.sent_at[mid] = time.perf_counter()
                    self.sent.append((mid, at, await producer.send(INBOUND.name, value=value, key=key)))
                    i += 1
                await asyncio.sleep(0.002)
            await asyncio.gather(*(f for _, _, f in self.sent))
        finally:
            await producer.stop()

    def published(self) -> list[tuple[int, bytes]]:
        """(partition, value) of every acknowledged message, in publish order."""
        values = {mid: value for mid, _, value in self.records[:len(self.sent)]}
        return [(f.result().partition, values[mid]) for mid, _, f in self.sent]


def waits(publisher: Publisher, observer: SeenObserver, start: float, end: float) -> list[float]:
    """publish -> first routed sighting of the messages published in [start, end) that got a published decision."""
    return [observer.first_seen[mid] - at for mid, at, _ in publisher.sent
            if start <= at < end and mid in observer.first_seen]


async def drained(observer: SeenObserver, quiet_s: float, timeout: float) -> None:
    """Until no decision arrived for `quiet_s` (dropped messages publish none, so a count cannot say when)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if observer.last_seen and time.perf_counter() - observer.last_seen > quiet_s:
            return
        await asyncio.sleep(0.2)


async def churn_run(a, run_dir: Path, redis_url: str, prefix: str, records: list[Record], partitions: int,
                    policies: dict, topics: list, leave: str = "TERM") -> dict:
    steps = [int(x) for x in a.steps.split(",") if x.strip()]
    name = f"churn-p{partitions}-{leave.lower()}"
    broker = EmbeddedBroker(run_dir / f"broker-{name}")
    bootstrap = await broker.start()
    redis_prefix = f"{prefix}:{name}"
    pool: Pool | None = None
    try:
        await ensure_topics(bootstrap, topics)
        cfg = {"bootstrap": bootstrap, "broker_pid": broker.pid, "group": f"bench-{name}", "n": 0,
               "fetch_wait_ms": 100, "max_batch": 2000, "session_timeout_ms": a.session_timeout_ms,
               "redis_url": redis_url, "prefix": redis_prefix, "progress_s": 1.0}
        pool = Pool(run_dir, name, cfg, partitions, signal.Signals[f"SIG{leave.upper()}"])
        pool.resize(steps[0])
        await pool.settled(a.timeout)
        decision_parts = {t.name: partitions if t.partitions == INBOUND.partitions else t.partitions
                          for t in DECISION_TOPICS}
        observer = SeenObserver(bootstrap, decision_parts, 100, by_header=False)
        stop_observing, stop_load = asyncio.Event(), asyncio.Event()
        watching = asyncio.create_task(observer.run(stop_observing))
        publisher = Publisher(bootstrap, records, a.rate, observer)
        loading = asyncio.create_task(publisher.run(stop_load))
        phases: list[Window] = []
        moves: list[Step] = []
        try:
            phase_start = time.perf_counter()
            for before, after in zip(steps, steps[1:], strict=False):
                await asyncio.sleep(max(0.0, phase_start + a.phase_s - time.perf_counter()))
                at = time.perf_counter()
                phases.append(Window(f"{before} process(es)", phase_start + a.settle_s, at))
                pool.resize(after)
                await pool.settled(a.timeout)
                phase_start = time.perf_counter()
                moves.append(Step(f"{before} -> {after} ({'join' if after > before else 'leave'})", at, phase_start))
            await asyncio.sleep(max(0.0, phase_start + a.phase_s - time.perf_counter()))
            phases.append(Window(f"{steps[-1]} process(es)", phase_start + a.settle_s, time.perf_counter()))
        finally:
            stop_load.set()
            await loading
        await drained(observer, quiet_s=3.0, timeout=60)
        await pool.stop()  # final checkpoints: the items below are all written
        stop_observing.set()
        await asyncio.wait_for(watching, 10)
        items: ItemsCheck = await check(redis_url, redis_prefix, publisher.published(), policies)
    finally:
        if pool is not None:
            await pool.stop()
        await broker.stop()
    out_phases = []
    for w in phases:
        ws = waits(publisher, observer, w.start, w.end)
        offered = sum(1 for _, at, _ in publisher.sent if w.start <= at < w.end)
        routed = sum(1 for seen in observer.first_seen.values() if w.start <= seen < w.end)
        span = w.end - w.start
        out_phases.append({"label": w.label, "offered": offered / span, "routed": routed / span,
                           "p50_ms": percentile(ws, 50) * 1000 if ws else float("nan"),
                           "p99_ms": percentile(ws, 99) * 1000 if ws else float("nan"), "seconds": span})
    out_moves = []
    ends = [m.at - 1.0 for m in moves[1:]] + [phases[-1].end]
    for m, until in zip(moves, ends, strict=True):
        ws = waits(publisher, observer, m.at - 1.0, m.stable + a.settle_s)
        late = [observer.first_seen[mid] for mid, at, _ in publisher.sent if m.at - 1.0 <= at < until
                and mid in observer.first_seen and observer.first_seen[mid] - at > a.late_s]
        out_moves.append({"label": m.label, "stable_s": m.stable - m.at, "pause_s": max(ws, default=float("nan")),
                          "caught_up_s": max(late, default=m.at) - m.at})
    unseen = sum(1 for mid, _, _ in publisher.sent if mid not in observer.first_seen)
    return {"phases": out_phases, "moves": out_moves, "items": items, "published": len(publisher.sent),
            "unseen": unseen, "ran_out": publisher.ran_out, "republished": observer.seen - len(observer.first_seen)}
