"""Benchmark: the SLA worker's throughput and CPU per input record, one `omniroute worker sla` process.

On a fresh embedded broker and a unique Redis prefix: N routed decisions (Izonie messenger, deadlines hours away)
are published before the worker starts, and their work items written to Redis as the route worker would. Phase
"decisions": from the first clock the worker starts to the last (the deadline index grows to its full size).
Phase "replies": with the worker running, a reply action for a share of the items is published in one burst;
each stops a first-response clock and publishes a `met` event through the outbox (Kafka acks=all); measured from
the first stopped clock to the last. Printed per phase: records/s and the worker process's CPU per record (user +
system from /proc, between the two moments, so start-up and group join are left out).

`--before REV` runs the same bench first against a `git archive` of REV (the worker code as it was then) and
prints both and the ratio after/before. Times nothing in tests. Run: .venv/bin/python bench/sla.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from redis.asyncio import Redis  # noqa: E402

from channels.sinks.redis_keys import items_tag  # noqa: E402
from channels.sinks.redis_queue import RedisWorkQueue  # noqa: E402
from contracts.decision import RouteDecision  # noqa: E402
from contracts.topics import AGENT_ACTIONS, ALL_TOPICS, ROUTED  # noqa: E402
from contracts.workitem import AgentAction, AgentActionKind, SlaClockKind  # noqa: E402
from routing.decide import decide  # noqa: E402
from routing.state import MemoryState  # noqa: E402
from routing.work_items import opened_item  # noqa: E402
from routing_helpers import msg, policy  # noqa: E402
from workers.runtime.codec import encode  # noqa: E402
from workers.runtime.publisher import new_producer  # noqa: E402
from workers.runtime.sla_store import clocks_of  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.procs import spawn, stop_process, tail  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=5_000, help="routed decisions (one work item each)")
    p.add_argument("--replies", type=float, default=0.5, help="share of the items that get a reply action")
    p.add_argument("--before", default=None, help="a git revision to measure first (e.g. the commit before the move)")
    p.add_argument("--redis-url", default=None)
    p.add_argument("--timeout", type=float, default=300, help="seconds a phase may take before the bench gives up")
    return p.parse_args()


@dataclass
class Phase:
    name: str
    records: int
    seconds: float
    cpu_s: float

    def line(self) -> str:
        return (f"{self.name:<9} {self.records:>6} records  {self.records / self.seconds:>8,.0f} records/s  "
                f"{self.cpu_s / self.records * 1e6:>7,.0f} µs CPU per record")


def build(n: int) -> tuple[list[RouteDecision], list, int]:
    """N decisions due hours from now, their items, and the deadline-index entries they make."""
    lagos = ZoneInfo("Africa/Lagos")
    at = datetime.now(lagos).replace(tzinfo=None, microsecond=0).isoformat()
    run = uuid.uuid4().hex[:6]
    decisions, items, entries = [], [], 0
    for i in range(n):
        message = msg("izonie", "messenger", f"Where is my order IZ-{10000 + i}? It has not arrived",
                      sender=f"sla-bench-{run}-{i}", at=at)
        decision = decide(message, MemoryState(), message.received_at, policy("izonie"))
        assert isinstance(decision, RouteDecision) and decision.sla is not None
        decisions.append(decision)
        items.append(opened_item(message, decision))
        entries += sum(1 + (warn is not None) for _, _, _, warn in clocks_of(decision.sla))
    return decisions, items, entries


def first_response_entries(decision: RouteDecision) -> int:
    return sum(1 + (warn is not None) for kind, _, _, warn in clocks_of(decision.sla)
               if kind == SlaClockKind.first_response)


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


async def watch(redis: Redis, key: str, start: int, target: int, pid: int, name: str, records: int,
                timeout: float, log: Path) -> Phase:
    """From the first change of the index's size to `target`: wall time and the worker's CPU."""
    deadline = time.monotonic() + timeout
    began = cpu0 = None
    while True:
        size = await redis.zcard(key)
        now = time.monotonic()
        if began is None and size != start:
            began, cpu0 = now, cpu_of(pid)
        if size == target:
            return Phase(name, records, now - began, cpu_of(pid) - cpu0)
        if now > deadline:
            raise SystemExit(f"{name}: index at {size} of {target} after {timeout:g}s; worker log:\n{tail(log, 30)}")
        await asyncio.sleep(0.01)


async def measure(tree: Path, label: str, args: argparse.Namespace, run_dir: Path, redis_url: str) -> list[Phase]:
    broker = EmbeddedBroker(run_dir / f"broker-{label}")
    bootstrap = await broker.start()
    prefix = f"omniroute-bench-sla-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    proc = None
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        decisions, items, entries = build(args.records)
        await RedisWorkQueue(redis, prefix=prefix).upsert_many(items)
        producer = new_producer(bootstrap)
        await producer.start()
        try:
            sends = [await producer.send(ROUTED.name, value=encode(d), key=f"{d.tenant}:{d.customer}".encode())
                     for d in decisions]
            await asyncio.gather(*sends)
            env = {**os.environ, "PYTHONPATH": str(tree), "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                   "REDIS_URL": redis_url, "OMNIROUTE_REDIS_PREFIX": prefix, "OMNIROUTE_KAFKA_BROKER": "embedded"}
            log = run_dir / f"worker-{label}.log"
            # -P: the tree on PYTHONPATH, not the current directory, provides `workers` (the --before run)
            proc = spawn([sys.executable, "-P", "-m", "workers.cli", "worker", "sla"], log, env=env)
            index = index_key(tree, prefix)
            phases = [await watch(redis, index, 0, entries, proc.pid, "decisions", len(decisions), args.timeout, log)]
            replied = decisions[: int(len(decisions) * args.replies)]
            if replied:
                sends = []
                for d in replied:
                    action = AgentAction(kind=AgentActionKind.reply, work_item_id=d.work_item_id, tenant=d.tenant,
                                         agent_id="ann", at=datetime.now(ZoneInfo("UTC")))
                    sends.append(await producer.send(AGENT_ACTIONS.name, value=encode(action),
                                                     key=f"{d.tenant}:{d.work_item_id}".encode()))
                target = entries - sum(first_response_entries(d) for d in replied)
                waiting = asyncio.create_task(watch(redis, index, entries, target, proc.pid, "replies", len(replied),
                                                    args.timeout, log))
                await asyncio.gather(*sends)
                phases.append(await waiting)
            return phases
        finally:
            await producer.stop()
    finally:
        if proc is not None:
            await stop_process(proc)
        await delete_prefix(redis_url, prefix)
        await redis.aclose()
        await broker.stop()


def index_key(tree: Path, prefix: str) -> str:
    """The deadline index's key as the tree's SlaStore names it (a hash tag was added to it after 976f920)."""
    store = (tree / "workers" / "runtime" / "sla_store.py").read_text()
    return f"{prefix}:sla:{items_tag(prefix)}:due" if "items_tag(prefix)" in store else f"{prefix}:sla:due"


def archive(rev: str, into: Path) -> Path:
    """The repository's files at `rev`, unpacked (the worker runs from them through PYTHONPATH)."""
    into.mkdir(parents=True)
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    return into


async def main() -> None:
    args = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="omniroute-bench-sla-"))
    redis = await ensure_redis(args.redis_url, run_dir / "redis")
    results: dict[str, list[Phase]] = {}
    try:
        trees = [(f"before ({args.before})", archive(args.before, run_dir / "before"))] if args.before else []
        trees.append(("this tree", ROOT))
        for label, tree in trees:
            print(f"{label}: {args.records} decisions, {int(args.records * args.replies)} replies", flush=True)
            results[label] = await measure(tree, label.split()[0], args, run_dir, redis.url)
            for phase in results[label]:
                print("  " + phase.line(), flush=True)
    finally:
        await redis.stop()
    if len(results) == 2:
        (_, before), (_, after) = results.items()
        for b, a in zip(before, after):
            speed = (a.records / a.seconds) / (b.records / b.seconds)
            cpu = (a.cpu_s / a.records) / (b.cpu_s / b.records)
            print(f"{a.name}: records/s after/before {speed:.2f}x, CPU per record after/before {cpu:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
