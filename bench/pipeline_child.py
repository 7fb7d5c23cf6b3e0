"""Child processes of bench/pipeline.py: a raw aiokafka passthrough, the route worker, the state-memory probe.

Usage: python bench/pipeline_child.py MODE JSON_CONFIG. Prints `READY` once partitions are assigned,
`PROGRESS {...}` every few seconds and `RESULT {...}` at the end; SIGTERM stops it cleanly.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import json
import logging
import os
import random
import resource
import signal
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def emit(tag: str, payload: dict | None = None) -> None:
    print(tag if payload is None else f"{tag} {json.dumps(payload)}", flush=True)


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_cpu_s(pid: int | None) -> float | None:
    """CPU seconds another process (the broker) has used so far, from /proc."""
    if not pid:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Rate and CPU from the end of the first batch (joins and warm-up excluded) to the last record."""

    def __init__(self, target: int, broker_pid: int | None, progress_s: float = 5.0) -> None:
        self.target, self.broker_pid, self.progress_s = target, broker_pid, progress_s
        self.count = 0
        self.start: tuple[float, int, float, float | None] | None = None
        self._progress_at = time.monotonic()
        self._last_at = 0.0  # when the count last moved (replicas are measured up to their last record)

    @property
    def done(self) -> bool:
        return 0 < self.target <= self.count

    def update(self, count: int) -> None:
        now = time.monotonic()
        if count != self.count:
            self._last_at = now
        self.count = count
        if self.start is None and count:
            self.start = (now, count, cpu_s(), proc_cpu_s(self.broker_pid))
        if now - self._progress_at >= self.progress_s:
            self._progress_at = now
            emit("PROGRESS", {"count": count})

    def result(self, **extra) -> dict:
        out = {"count": self.count, **extra}
        if self.start is None or self.count <= self.start[1]:
            return out
        t0, n0, c0, b0 = self.start
        end = time.monotonic() if self.done else self._last_at
        n, wall, cpu = self.count - n0, end - t0, cpu_s() - c0
        out.update(rate=n / wall, measured=n, wall_s=wall, cpu_us_per_msg=cpu / n * 1e6, worker_cores=cpu / wall,
                   t0=t0, t_end=end)
        b1 = proc_cpu_s(self.broker_pid)
        if b0 is not None and b1 is not None:
            out.update(broker_cpu_us_per_msg=(b1 - b0) / n * 1e6, broker_cores=(b1 - b0) / wall)
        return out


def stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def transform(decode: str):
    """What the passthrough does to each value: nothing, an orjson round trip, or the contract's codec."""
    if decode == "none":
        return lambda v: v
    import orjson

    if decode == "orjson":
        return lambda v: orjson.dumps(orjson.loads(v))
    from workers.runtime.codec import decode_inbound, encode

    return lambda v: encode(decode_inbound(v))


async def passthrough(cfg: dict) -> None:
    """consume support.inbound.v1 -> produce to cfg["out"] (headers kept) -> commit, batch by batch."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from contracts.topics import INBOUND

    change, wait, batch_max = transform(cfg["decode"]), cfg["fetch_wait_ms"], cfg["max_batch"]
    stop = stop_event()
    # the same client settings as RouteWorker, so the difference is the work per record
    producer = AIOKafkaProducer(bootstrap_servers=cfg["bootstrap"], acks="all", linger_ms=5,
                                max_batch_size=256 * 1024, client_id="bench-passthrough")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id="bench-passthrough",
        enable_auto_commit=False, auto_offset_reset="earliest", fetch_max_wait_ms=wait, max_poll_records=batch_max,
        session_timeout_ms=cfg["session_timeout_ms"], heartbeat_interval_ms=1000,
        rebalance_timeout_ms=cfg["session_timeout_ms"])
    consumer.subscribe([INBOUND.name])
    meter, ready, n = Meter(cfg["n"], cfg["broker_pid"]), False, 0
    await producer.start()
    await consumer.start()
    try:
        while not stop.is_set() and not meter.done:
            batch = await consumer.getmany(timeout_ms=wait, max_records=batch_max)
            if not ready and consumer.assignment():
                ready = True
                emit("READY")
            if not batch:
                continue
            sends = [await producer.send(cfg["out"], value=change(r.value), key=r.key, headers=list(r.headers) or None)
                     for records in batch.values() for r in records]
            await asyncio.gather(*sends)
            await consumer.commit()
            n += len(sends)
            meter.update(n)
        result = meter.result()
    finally:
        await consumer.stop()
        await producer.stop()
    emit("RESULT", result)


async def route(cfg: dict) -> None:
    """RouteWorker as it is, watched from outside through its stats."""
    import stage_cpu
    from workers.policy_files import load_policies
    from workers.runtime.route_worker import RouteWorker, RouteWorkerConfig

    stage_cpu.install()
    config = RouteWorkerConfig(
        bootstrap=cfg["bootstrap"], redis_url=cfg["redis_url"], group=cfg["group"], redis_prefix=cfg["prefix"],
        fetch_max_wait_ms=cfg["fetch_wait_ms"], max_batch=cfg["max_batch"],
        session_timeout_ms=cfg["session_timeout_ms"], client_id="bench-route")
    worker = RouteWorker(config, load_policies(ROOT / "deploy" / "policies"))
    stop, worker_stop = stop_event(), asyncio.Event()
    task = asyncio.create_task(worker.run(worker_stop))
    meter, ready = Meter(cfg["n"], cfg["broker_pid"], cfg.get("progress_s", 5.0)), False
    stages0: dict[str, float] | None = None
    held: list[int] | None = None
    profiler = cProfile.Profile() if cfg.get("profile") else None
    while not task.done() and not stop.is_set() and not meter.done:
        if not ready and worker.ready.is_set():
            ready = True
            emit("READY")
        if ready and sorted(tp.partition for tp in worker.partitions) != held:
            held = sorted(tp.partition for tp in worker.partitions)
            emit("PARTITIONS", {"partitions": held})  # restored and being decided (bench/scale.py waits for a split)
        meter.update(worker.stats.records)
        if stages0 is None and meter.start is not None:
            stages0 = stage_cpu.snapshot()  # the stages are measured over what the meter measures
            if profiler is not None:
                profiler.enable()
        await asyncio.sleep(0.01)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(cfg["profile"])
    s = worker.stats
    result = meter.result(by_action=s.by_action, dead_lettered=s.dead_lettered, batches=s.batches,
                          opened=s.opened, merged=s.merged, partitions=len(worker.partitions))
    if stages0 is not None and result.get("measured"):
        now = stage_cpu.snapshot()
        result["stage_cpu_us_per_msg"] = {k: (now.get(k, 0.0) - stages0.get(k, 0.0)) / result["measured"] * 1e6
                                          for k in stage_cpu.STAGES}
    worker_stop.set()
    await asyncio.wait_for(task, 60)  # final checkpoint; re-raises whatever stopped the worker
    emit("RESULT", result)


def rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory(cfg: dict) -> None:
    """RSS growth of MemoryState holding N conversations of distinct customers (decide + record, no broker)."""
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]
    import orjson
    from decide import CHANNELS, corpus_texts
    from routing.decide import decide
    from routing.record import record
    from routing.state import MemoryState
    from routing.state_snapshot import snapshot
    from routing_helpers import msg, policy

    rng, texts, n = random.Random(11), corpus_texts(), cfg["conversations"]
    policies = {t: policy(t) for t in CHANNELS}
    start = datetime.now(timezone.utc) - timedelta(seconds=n)

    def feed(states: dict[str, MemoryState], count: int, who: str) -> None:
        for i in range(count):
            tenant = rng.choice(list(CHANNELS))
            m = msg(tenant, rng.choice(CHANNELS[tenant]), rng.choice(texts), sender=f"{who}{i}")
            m = m.model_copy(update={"received_at": start + timedelta(seconds=i)})
            record(states[tenant], m, decide(m, states[tenant], m.received_at, policies[tenant]), policies[tenant])

    feed({t: MemoryState() for t in CHANNELS}, 1000, "warm")  # imports, caches, compiled policies
    gc.collect()
    before = rss_bytes()
    states = {t: MemoryState() for t in CHANNELS}
    began = time.perf_counter()
    feed(states, n, "conv")
    took = time.perf_counter() - began
    for s in states.values():
        s.take_changes()  # the route worker hands its changes to Redis every second
    gc.collect()
    after = rss_bytes()
    # as the route worker keeps it in Redis: one hash entry (key + orjson value) per state entry
    stored = sum(len(key) + len(orjson.dumps(value)) for s in states.values()
                 for table, entries in snapshot(s).items() if table != "v" for key, value in entries.items())
    emit("RESULT", {"messages": n, "open_items": sum(len(s.items) for s in states.values()),
                    "rss_before": before, "rss_after": after, "decide_record_rate": n / took,
                    "state_bytes": stored})


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    mode, cfg = sys.argv[1], json.loads(sys.argv[2])
    if mode == "memory":
        memory(cfg)
    else:
        asyncio.run({"passthrough": passthrough, "route": route}[mode](cfg))


if __name__ == "__main__":
    main()
