"""Benchmark: raw aiokafka passthrough vs the route worker on one embedded broker, latency, state memory.

Prints figures; times nothing in tests. Run: .venv/bin/python bench/pipeline.py [--help]
Workers run as child processes (bench/pipeline_child.py); this process preloads, paces load and observes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import aiokafka

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]  # build_stream and the test builders behind it

from decide import build_stream  # noqa: E402
from pipeline_load import Child, Observer, Record, drain, paced_load, percentile, preload  # noqa: E402

import routing  # noqa: E402
from contracts.topics import ALL_TOPICS, DEAD_LETTER, INBOUND, QUARANTINE, REJECTED, ROUTED, TopicSpec  # noqa: E402
from workers.runtime.codec import encode, inbound_key  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402

PASSTHROUGH = TopicSpec(name="omniroute-bench.passthrough.v1", key="as inbound", value="bytes",
                        partitions=INBOUND.partitions)
DECISION_TOPICS = (ROUTED, REJECTED, QUARANTINE, DEAD_LETTER)
VARIANTS = {"none": "raw passthrough + commit (L)", "orjson": "raw passthrough + orjson decode/re-encode",
            "pydantic": "raw passthrough + InboundMessage decode/encode (codec)"}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=50_000, help="records preloaded for the throughput runs")
    p.add_argument("--customers", type=int, default=5_000, help="distinct customers in the mixed stream")
    p.add_argument("--raw-repeats", type=int, default=3, help="plain passthrough runs (median is L)")
    p.add_argument("--variants", default="orjson,pydantic", help="extra passthrough variants ('' for none)")
    p.add_argument("--rate", type=float, default=2000, help="msgs/s offered in the latency runs")
    p.add_argument("--latency-seconds", type=float, default=10)
    p.add_argument("--warmup-seconds", type=float, default=1, help="latency samples of the first seconds dropped")
    p.add_argument("--conversations", type=int, default=100_000)
    p.add_argument("--fetch-wait-ms", type=int, default=100)
    p.add_argument("--max-batch", type=int, default=2000)
    p.add_argument("--session-timeout-ms", type=int, default=6000, help="Tansu holds JoinGroup for half of it")
    p.add_argument("--timeout", type=float, default=180, help="per worker run, seconds")
    p.add_argument("--route-replicas", default="1,2",
                   help="route worker process counts to measure (one consumer group, partitions shared out)")
    p.add_argument("--latency-route-replicas", type=int, default=2,
                   help="route worker processes in the latency run (one cannot keep up with 2,000 msg/s here)")
    p.add_argument("--profile", metavar="FILE", default=None,
                   help="cProfile the one-process route run (after its first batch) into FILE (pstats format)")
    p.add_argument("--redis-url", default=None, help="default: 127.0.0.1:6379 if it answers, else a throwaway one")
    for phase in ("throughput", "route", "latency", "memory"):
        p.add_argument(f"--skip-{phase}", action="store_true")
    return p.parse_args()


def build_records(n: int, customers: int) -> list[Record]:
    """build_stream's mixed three-tenant stream, moved so its last message was received now, pre-encoded."""
    stream = build_stream(n, customers)
    shift = datetime.now(timezone.utc) - stream[-1].received_at
    moved = (m.model_copy(update={"received_at": m.received_at + shift}) for m in stream)
    return [(m.id, inbound_key(m), encode(m)) for m in moved]


def k(x: float) -> str:
    return f"{x:,.0f}"


def cpu_note(r: dict) -> str:
    if "cpu_us_per_msg" not in r:
        return ""
    broker = f", broker {r['broker_cpu_us_per_msg']:.0f} us/msg" if "broker_cpu_us_per_msg" in r else ""
    return f"  [worker CPU {r['cpu_us_per_msg']:.0f} us/msg{broker}; {r['measured']:,} msgs in {r['wall_s']:.1f} s]"


class Bench:
    def __init__(self, args: argparse.Namespace, run_dir: Path, redis_url: str, prefix: str) -> None:
        self.args, self.run_dir, self.redis_url, self.prefix = args, run_dir, redis_url, prefix

    def cfg(self, bootstrap: str, broker: EmbeddedBroker, group: str, n: int) -> dict:
        a = self.args
        return {"bootstrap": bootstrap, "broker_pid": broker.pid, "group": group, "n": n,
                "fetch_wait_ms": a.fetch_wait_ms, "max_batch": a.max_batch, "session_timeout_ms": a.session_timeout_ms,
                "redis_url": self.redis_url}

    async def worker_run(self, name: str, mode: str, cfg: dict) -> dict:
        child = Child(self.run_dir, name, mode, cfg)
        try:
            return await child.finish(self.args.timeout)
        finally:
            await child.stop()

    async def passthrough(self, bootstrap: str, broker: EmbeddedBroker, name: str, decode: str, n: int) -> dict:
        cfg = {**self.cfg(bootstrap, broker, f"bench-{name}", n), "decode": decode, "out": PASSTHROUGH.name}
        return await self.worker_run(name, "passthrough", cfg)

    async def throughput(self, records: list[Record]) -> None:
        a = self.args
        broker = EmbeddedBroker(self.run_dir / "broker-throughput")
        bootstrap = await broker.start()
        try:
            await ensure_topics(bootstrap, [*ALL_TOPICS, PASSTHROUGH])
            print(f"preload produce (pre-encoded, batched, acks=all): {k(await preload(bootstrap, records))} msg/s")
            n, raws = len(records), []
            for i in range(a.raw_repeats):
                r = await self.passthrough(bootstrap, broker, f"raw-{i}", "none", n)
                raws.append(r)
                print(f"(a) {VARIANTS['none']}, run {i + 1}: {self.rate(r)}{cpu_note(r)}")
            rates = [r["rate"] for r in raws if "rate" in r and "error" not in r]
            raw_rate = statistics.median(rates) if rates else None
            if raw_rate:
                print(f"(a) L = median raw passthrough + commit: {k(raw_rate)} msg/s over {len(rates)} run(s)")
            for decode in filter(None, a.variants.split(",")):
                r = await self.passthrough(bootstrap, broker, f"raw-{decode}", decode, n)
                ratio = f" ({r['rate'] / raw_rate:.2f} of L)" if raw_rate and "rate" in r else ""
                print(f"(a) {VARIANTS[decode]}: {self.rate(r)}{ratio}{cpu_note(r)}")
            if a.skip_route:
                return
            for replicas in sorted({int(x) for x in a.route_replicas.split(",") if x.strip()}):
                r = await (self.route_one(bootstrap, broker, n) if replicas == 1
                           else self.route_replicas(bootstrap, broker, n, replicas))
                what = "route worker" if replicas == 1 else f"route worker x{replicas} processes (one group)"
                print(f"(b) {what} end to end (decode, decide, record, produce, Redis, commit): "
                      f"{self.rate(r)}{cpu_note(r)}")
                if "stage_cpu_us_per_msg" in r:
                    stages = r["stage_cpu_us_per_msg"]
                    rest = r["cpu_us_per_msg"] - sum(stages.values())
                    print("    worker CPU us/msg by stage: " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items())
                          + f", rest {rest:.0f} (event loop, work items, state checkpoints, logging)")
                if "by_action" in r:
                    print(f"    decisions: {dict(sorted(r['by_action'].items()))}, dead-lettered {r['dead_lettered']}, "
                          f"batches {r['batches']}" + (f", partitions per process {r['split']}" if "split" in r else ""))
                label = "ratio route/raw" + ("" if replicas == 1 else f" with {replicas} route processes")
                if raw_rate and "rate" in r and "error" not in r:
                    print(f"{label}: {r['rate'] / raw_rate:.3f}")
                else:
                    print(f"{label}: n/a (a run failed)")
        finally:
            await broker.stop()

    async def route_one(self, bootstrap: str, broker: EmbeddedBroker, n: int) -> dict:
        cfg = {**self.cfg(bootstrap, broker, "bench-route-tp", n), "prefix": f"{self.prefix}:tp",
               "profile": self.args.profile}
        return await self.worker_run("route-throughput", "route", cfg)

    async def route_replicas(self, bootstrap: str, broker: EmbeddedBroker, n: int, replicas: int) -> dict:
        """N route processes in one consumer group, started together; stopped once they decided n records."""
        cfg = {**self.cfg(bootstrap, broker, f"bench-route-x{replicas}", 0), "prefix": f"{self.prefix}:x{replicas}",
               "progress_s": 0.25}
        children = [Child(self.run_dir, f"route-x{replicas}-{i}", "route", cfg) for i in range(replicas)]
        try:
            deadline = time.monotonic() + self.args.timeout
            while (time.monotonic() < deadline and sum(c.progress() for c in children) < n
                   and all(c.proc.poll() is None for c in children)):
                await asyncio.sleep(0.1)
            results = [await c.stop() for c in children]
        finally:
            for c in children:
                await c.stop()
        failed = [r for r in results if "error" in r or "rate" not in r]
        if failed:
            return {"error": failed[0].get("error", "no result"), "count": sum(r.get("count", 0) for r in results)}
        measured = sum(r["measured"] for r in results)
        wall = max(r["t_end"] for r in results) - min(r["t0"] for r in results)
        by_action: dict[str, int] = {}
        for r in results:
            for act, v in r["by_action"].items():
                by_action[act] = by_action.get(act, 0) + v
        return {"rate": measured / wall, "measured": measured, "wall_s": wall, "by_action": by_action,
                "cpu_us_per_msg": sum(r["cpu_us_per_msg"] * r["measured"] for r in results) / measured,
                "dead_lettered": sum(r["dead_lettered"] for r in results),
                "batches": sum(r["batches"] for r in results), "split": "+".join(str(r["partitions"]) for r in results)}

    @staticmethod
    def rate(r: dict) -> str:
        if "rate" in r and "error" not in r:
            return f"{k(r['rate'])} msg/s"
        return f"FAILED ({r.get('error', '?')}; {r.get('count', 0):,} processed)"

    async def latency(self, records: list[Record], mode: str) -> None:
        """One hop at the offered rate: publish -> worker -> output topic, timed by an observer here."""
        a = self.args
        broker = EmbeddedBroker(self.run_dir / f"broker-latency-{mode}")
        bootstrap = await broker.start()
        try:
            await ensure_topics(bootstrap, [*ALL_TOPICS, PASSTHROUGH])
            if mode == "route":
                topics, cfg = DECISION_TOPICS, {"prefix": f"{self.prefix}:lat"}
            else:
                topics, cfg = (PASSTHROUGH,), {"decode": "none", "out": PASSTHROUGH.name}
            observer = Observer(bootstrap, {t.name: t.partitions for t in topics}, a.fetch_wait_ms,
                                by_header=mode != "route")
            stop_observing = asyncio.Event()
            watching = asyncio.create_task(observer.run(stop_observing))
            count = a.latency_route_replicas if mode == "route" else 1
            children = [Child(self.run_dir, f"latency-{mode}-{i}", mode if mode == "route" else "passthrough",
                              {**self.cfg(bootstrap, broker, f"bench-lat-{mode}", 0), **cfg}) for i in range(count)]
            try:
                for child in children:
                    await child.ready(timeout=60)
                began, ended = await paced_load(bootstrap, records, a.rate, observer)
                await drain(observer, len(records) if mode != "route" else None)
                result = combined([await child.stop() for child in children])
            finally:
                stop_observing.set()
                for child in children:
                    await child.stop()
                await asyncio.wait_for(watching, 10)
            self.print_latency(mode, observer, began, ended, len(records), result)
        finally:
            await broker.stop()

    def print_latency(self, mode: str, obs: Observer, began: float, ended: float, published: int,
                      result: dict) -> None:
        offered = published / (ended - began)
        kept = [lat * 1000 for sent, lat in obs.latencies if sent >= began + self.args.warmup_seconds]
        what = ("raw aiokafka hop (passthrough)" if mode != "route"
                else f"route worker x{self.args.latency_route_replicas} processes, publish -> decision on "
                     "routed/rejected/quarantine")
        if not kept:
            print(f"latency {what}: no samples ({result.get('error', '')})")
            return
        print(f"latency {what} at {k(offered)} msg/s offered: p50 {percentile(kept, 50):.0f} ms, "
              f"p99 {percentile(kept, 99):.0f} ms, max {max(kept):.0f} ms  [{len(kept):,} samples]")
        expected = published
        if mode == "route" and "by_action" in result:
            expected = sum(v for act, v in result["by_action"].items() if act != "drop") + result["dead_lettered"]
        cores = f"; CPU over the run: worker {result['worker_cores']:.2f} core" if "worker_cores" in result else ""
        cores += f", broker {result['broker_cores']:.2f} core" if "broker_cores" in result else ""
        print(f"    published {published:,}, seen {obs.seen:,} of {expected:,} expected outputs "
              f"({', '.join(f'{t}={n:,}' for t, n in sorted(obs.per_topic.items()))}), "
              f"unmatched {obs.unmatched}{cores}")
        lag = obs.last_seen - ended
        if lag > 1.0:
            print(f"    the worker did not keep up: the last output came {lag:.1f} s after the last publish "
                  f"(the latency above is mostly queueing)")

    async def memory(self) -> None:
        n = self.args.conversations
        r = await self.worker_run("memory", "memory", {"conversations": n})
        if "open_items" not in r or not r["open_items"]:
            print(f"worker RSS per 100k open conversations: FAILED ({r.get('error', '?')})")
            return
        items, delta = r["open_items"], r["rss_after"] - r["rss_before"]
        print(f"worker RSS per 100k open conversations: {delta / items * 100_000 / 2**20:,.0f} MiB  "
              f"[{items:,} open items from {r['messages']:,} messages of distinct customers; "
              f"RSS {r['rss_before'] / 2**20:.0f} -> {r['rss_after'] / 2**20:.0f} MiB; "
              f"decide+record {k(r['decide_record_rate'])} msg/s]")
        print(f"    routing state in Redis (hash entries: key + orjson value, before Redis's own overhead): "
              f"{r['state_bytes'] / items * 100_000 / 2**20:.1f} MiB per 100k open conversations")


def combined(results: list[dict]) -> dict:
    """Several children's results as one: counts summed, cores summed; the first error wins."""
    if len(results) == 1:
        return results[0]
    out: dict = {"by_action": {}, "dead_lettered": 0, "worker_cores": 0.0}
    for r in results:
        if "error" in r:
            return r
        for act, v in r.get("by_action", {}).items():
            out["by_action"][act] = out["by_action"].get(act, 0) + v
        out["dead_lettered"] += r.get("dead_lettered", 0)
        out["worker_cores"] += r.get("worker_cores", 0.0)
        if "broker_cores" in r:
            out["broker_cores"] = r["broker_cores"]
    return out


def print_conditions(a: argparse.Namespace, redis_url: str) -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"conditions: {a.messages:,} messages ({a.customers:,} customers, three tenants, mixed channels), "
          f"{INBOUND.partitions} partitions, fetch_max_wait {a.fetch_wait_ms} ms, max batch {a.max_batch}, "
          f"session timeout {a.session_timeout_ms} ms; routing core {routing.BUILD} (the workers import the same)")
    print(f"machine: {cores} cores usable (os.cpu_count {os.cpu_count()}), load average {os.getloadavg()[0]:.2f}; "
          f"Python {platform.python_version()}, aiokafka {aiokafka.__version__}; broker Tansu (embedded, memory://), "
          f"Redis {redis_url}")
    print("broker, workers (child processes) and this load generator/observer share the cores; "
          "each broker phase uses a fresh broker (its memory engine never frees memory)")


async def main() -> None:
    a = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="omniroute-bench-"))
    redis = await ensure_redis(a.redis_url, run_dir)
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    bench = Bench(a, run_dir, redis.url, prefix)
    started, failed = time.monotonic(), True
    try:
        print_conditions(a, redis.url)
        latency_n = int(a.rate * a.latency_seconds)
        records = build_records(max(a.messages, latency_n), a.customers)
        if not a.skip_throughput:
            await bench.throughput(records[:a.messages])
        if not a.skip_latency:
            for mode in ("raw", "route"):
                await bench.latency(records[:latency_n], mode)
        if not a.skip_memory:
            await bench.memory()
        failed = False
    finally:
        removed = await delete_prefix(redis.url, prefix)
        await redis.stop()
        if failed:
            print(f"child and broker logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        print(f"done in {time.monotonic() - started:.0f} s; removed {removed:,} Redis keys under {prefix}:")


if __name__ == "__main__":
    asyncio.run(main())
