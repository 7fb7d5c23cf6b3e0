"""Benchmark: route worker throughput as 1 -> 2 -> 4 processes in one group, over 8 and 16 partitions, and
the same under a constant offered load while processes join and leave (the churn run, bench/churn.py).

Per setting, on a fresh embedded broker: start the processes (bench/pipeline_child.py `route`, the RouteWorker as
it is), wait until they have shared the partitions out and restored them, then publish a fixed stream of
messages and measure from the first decided record to the last: msg/s, the ratio to 1 process over the same
partition count, worker CPU per message, and the cores the workers and the broker used. Records decided in
total are compared with those published (more: a rebalance replayed some; fewer: lost). Times nothing in tests.
The churn run (after the throughput runs; --skip-throughput / --skip-churn) is described in bench/churn.py.
Run: .venv/bin/python bench/scale.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiokafka

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from churn import churn_run, held  # noqa: E402
from pipeline import build_records  # noqa: E402
from pipeline_child import proc_cpu_s  # noqa: E402
from pipeline_load import Child, Record, preload  # noqa: E402

from contracts.topics import ALL_TOPICS, INBOUND  # noqa: E402
from workers.policy_files import load_policies  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--processes", default="1,2,4", help="route worker process counts")
    p.add_argument("--partitions", default="8,16", help="partition counts of the keyed topics (one broker each run)")
    p.add_argument("--messages", type=int, default=16_000, help="records published per run, after the split")
    p.add_argument("--customers", type=int, default=5_000)
    p.add_argument("--session-timeout-ms", type=int, default=6000, help="Tansu holds JoinGroup for half of it")
    p.add_argument("--timeout", type=float, default=90, help="per run, seconds")
    p.add_argument("--redis-url", default=None)
    p.add_argument("--skip-throughput", action="store_true", help="only the churn run")
    p.add_argument("--skip-churn", action="store_true", help="only the throughput runs")
    p.add_argument("--churn-partitions", default="8,16", help="partition counts of the churn run (one broker each)")
    p.add_argument("--rate", type=float, default=250, help="churn run: msg/s offered (under one process's capacity)")
    p.add_argument("--steps", default="1,2,4,2,1", help="churn run: process counts in turn (joins, then leaves)")
    p.add_argument("--phase-s", type=float, default=15, help="churn run: seconds at each count once split")
    p.add_argument("--settle-s", type=float, default=5,
                   help="churn run: seconds after a split before a phase's latency counts (the pause window ends there)")
    p.add_argument("--leave-signals", default="TERM,KILL",
                   help="churn run: how leaving processes stop, one churn run each (KILL: a crash, replayed from the "
                        "last checkpoint)")
    p.add_argument("--late-s", type=float, default=1.0, help="churn run: a wait above this is backlog, not normal")
    return p.parse_args()


def topics_with(partitions: int):
    """The production topics, the keyed ones (inbound's partition count) at `partitions`."""
    return [t.model_copy(update={"partitions": partitions}) if t.partitions == INBOUND.partitions else t
            for t in ALL_TOPICS]


async def run(a: argparse.Namespace, run_dir: Path, redis_url: str, prefix: str, records: list[Record],
              processes: int, partitions: int) -> dict:
    name = f"p{partitions}-x{processes}"
    broker = EmbeddedBroker(run_dir / f"broker-{name}")
    bootstrap = await broker.start()
    children: list[Child] = []
    try:
        await ensure_topics(bootstrap, topics_with(partitions))
        cfg = {"bootstrap": bootstrap, "broker_pid": broker.pid, "group": f"bench-scale-{name}", "n": 0,
               "fetch_wait_ms": 100, "max_batch": 2000, "session_timeout_ms": a.session_timeout_ms,
               "redis_url": redis_url, "prefix": f"{prefix}:{name}", "progress_s": 0.25}
        children = [Child(run_dir, f"{name}-{i}", "route", cfg) for i in range(processes)]
        deadline = time.monotonic() + a.timeout
        while True:  # every process holds restored partitions, together all of them, none twice
            sets = [held(c) for c in children]
            if all(sets) and sorted(p for s in sets for p in s) == list(range(partitions)):
                break
            if time.monotonic() > deadline or any(c.proc.poll() is not None for c in children):
                return {"error": f"no stable split: {sets}"}
            await asyncio.sleep(0.2)
        split = "+".join(str(len(s)) for s in sets)
        broker_cpu0, began = proc_cpu_s(broker.pid), time.monotonic()
        await preload(bootstrap, records)
        while sum(c.progress() for c in children) < len(records) and time.monotonic() < deadline:
            if any(c.proc.poll() is not None for c in children):
                break
            await asyncio.sleep(0.1)
        broker_cpu = (proc_cpu_s(broker.pid) or 0) - (broker_cpu0 or 0)
        elapsed = time.monotonic() - began
        results = [await c.stop() for c in children]
    finally:
        for c in children:
            await c.stop()
        await broker.stop()
    failed = [r for r in results if "error" in r or "rate" not in r]
    if failed:
        return {"error": failed[0].get("error", "no result")}
    measured = sum(r["measured"] for r in results)
    wall = max(r["t_end"] for r in results) - min(r["t0"] for r in results)
    return {"rate": measured / wall, "decided": sum(r["count"] for r in results), "split": split,
            "cpu_us_per_msg": sum(r["cpu_us_per_msg"] * r["measured"] for r in results) / measured,
            "worker_cores": sum(r["cpu_us_per_msg"] * r["measured"] for r in results) / 1e6 / wall,
            "broker_cores": broker_cpu / elapsed}


async def main() -> None:
    a = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="omniroute-scale-"))
    redis = await ensure_redis(a.redis_url, run_dir)
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    started, failed = time.monotonic(), True
    cores = len(os.sched_getaffinity(0))
    print(f"conditions: {a.messages:,} messages per run ({a.customers:,} customers, three tenants), published "
          f"once the processes have split the partitions; session timeout {a.session_timeout_ms} ms; fresh "
          f"embedded broker (Tansu, memory://) per run; Redis {redis.url}; Python {platform.python_version()}, "
          f"aiokafka {aiokafka.__version__}")
    print(f"machine: {cores} cores usable, load average {os.getloadavg()[0]:.2f}; broker, Redis, the workers and "
          "this publisher share them, so more processes than cores cannot add throughput here")
    try:
        if not a.skip_throughput:
            await throughput(a, run_dir, redis.url, prefix)
        if not a.skip_churn:
            await churn(a, run_dir, redis.url, prefix)
        failed = False
    finally:
        removed = await delete_prefix(redis.url, prefix)
        await redis.stop()
        if failed:
            print(f"child and broker logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        print(f"done in {time.monotonic() - started:.0f} s; removed {removed:,} Redis keys under {prefix}:")


async def throughput(a: argparse.Namespace, run_dir: Path, redis_url: str, prefix: str) -> None:
    records = build_records(a.messages, a.customers)
    for partitions in [int(x) for x in a.partitions.split(",") if x.strip()]:
        one = None
        for processes in [int(x) for x in a.processes.split(",") if x.strip()]:
            r = await run(a, run_dir, redis_url, prefix, records, processes, partitions)
            if "error" in r:
                print(f"{partitions:>2} partitions, {processes} process(es): FAILED ({r['error']})")
                continue
            one = r["rate"] if processes == 1 else one
            ratio = f", {r['rate'] / one:.2f}x of 1 process" if one else ""
            print(f"{partitions:>2} partitions, {processes} process(es) [{r['split']}]: {r['rate']:,.0f} msg/s"
                  f"{ratio}; worker CPU {r['cpu_us_per_msg']:.0f} us/msg, workers {r['worker_cores']:.2f} "
                  f"cores, broker {r['broker_cores']:.2f} cores; decided {r['decided']:,} of "
                  f"{len(records):,} published", flush=True)


async def churn(a: argparse.Namespace, run_dir: Path, redis_url: str, prefix: str) -> None:
    steps = [int(x) for x in a.steps.split(",") if x.strip()]
    records = build_records(int(a.rate * (len(steps) * a.phase_s + (len(steps) - 1) * 20 + 10)), a.customers)
    policies = load_policies(ROOT / "deploy" / "policies")
    print(f"churn: {a.rate:,.0f} msg/s offered throughout; processes {' -> '.join(map(str, steps))} "
          f"(joins start processes, leaves signal the newest), {a.phase_s:g} s at each count once split; latency "
          f"from {a.settle_s:g} s after each split", flush=True)
    runs = [(leave.strip().upper(), int(p)) for leave in a.leave_signals.split(",") if leave.strip()
            for p in a.churn_partitions.split(",") if p.strip()]
    for leave, partitions in runs:
        r = await churn_run(a, run_dir, redis_url, prefix, records, partitions, policies, topics_with(partitions),
                            leave)
        print(f"churn, {partitions} partitions, leaving by SIG{leave}: {r['published']:,} published"
              f"{' (ran out of records: raise the count)' if r['ran_out'] else ''}, {r['unseen']:,} without a "
              f"published decision (drops publish none), {r['republished']:,} decisions published again "
              "(replays after a rebalance; consumers dedupe on message_id)")
        for p in r["phases"]:
            print(f"  {p['label']:<14} offered {p['offered']:,.0f} msg/s, routed {p['routed']:,.0f} msg/s, latency "
                  f"p50 {p['p50_ms']:.0f} ms, p99 {p['p99_ms']:.0f} ms ({p['seconds']:.1f} s measured)")
        for m in r["moves"]:
            print(f"  {m['label']:<18} split stable after {m['stable_s']:.1f} s, pause {m['pause_s']:.1f} s, "
                  f"backlog gone {m['caught_up_s']:.1f} s after the step")
        print(f"  work items: {r['items'].describe()} -> {'CLEAN' if r['items'].clean else 'NOT CLEAN'}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
