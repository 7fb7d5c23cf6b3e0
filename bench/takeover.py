"""Benchmark: how long a route replica's partitions pause when it is SIGKILLed or SIGTERMed (issue 14 §4).

Per scenario, on a fresh embedded broker: two `omniroute worker route` processes in one group (8 partitions
split 4+4), a paced stream of messages, then one replica is stopped with the scenario's signal while the stream
goes on. Printed per scenario: the longest publish -> decision wait (first sighting on routed/rejected/quarantine)
for messages on the stopped replica's partitions (the pause), the same on the survivor's own partitions (a
rebalance pauses those too), the p99 before the stop, and when the survivor said it holds all 8 partitions.
Times nothing in tests. Run: .venv/bin/python bench/takeover.py [--help]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiokafka
from aiokafka import AIOKafkaProducer

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]

from pipeline import DECISION_TOPICS, build_records  # noqa: E402
from pipeline_load import Observer, Record, percentile  # noqa: E402

from contracts.topics import ALL_TOPICS, INBOUND  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.procs import spawn, stop_process, tail  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402

PARTITIONS_LINE = re.compile(r"route worker: (?:ready, )?partitions ([\d,]+|none)")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--session-timeouts", default="10000,4000",
                   help="OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS values to compare (default first)")
    p.add_argument("--signals", default="KILL,TERM", help="how the replica is stopped, one scenario each")
    p.add_argument("--rate", type=float, default=200, help="msgs/s offered (low: the pause, not queueing, is measured)")
    p.add_argument("--before-s", type=float, default=4, help="seconds of load before the stop")
    p.add_argument("--after-s", type=float, default=3, help="seconds of load once the stopped partitions flow again")
    p.add_argument("--max-after-s", type=float, default=45, help="cap on the load after the stop")
    p.add_argument("--customers", type=int, default=5_000)
    p.add_argument("--redis-url", default=None)
    return p.parse_args()


class Replica:
    """One `omniroute worker route` process; its partitions read from the lines it prints."""

    def __init__(self, run_dir: Path, name: str, env: dict[str, str]) -> None:
        self.name, self.log = name, run_dir / f"{name}.log"
        self.proc = spawn([sys.executable, "-m", "workers.cli", "worker", "route"], self.log, env=env)

    def partitions(self) -> set[int] | None:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        found = PARTITIONS_LINE.findall(text)
        if not found:
            return None
        return set() if found[-1] == "none" else {int(x) for x in found[-1].split(",")}


class SeenObserver(Observer):
    """The pipeline observer, also noting when each message's decision was first seen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.first_seen: dict[str, float] = {}

    def _match(self, record, seen: float) -> None:
        import orjson

        mid = orjson.loads(record.value).get("message_id")
        if mid:
            self.first_seen.setdefault(mid, seen)
        super()._match(record, seen)


async def wait_until(predicate, timeout: float, what: str, replicas: list[Replica]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for r in replicas:
            if r.proc.poll() is not None:
                raise RuntimeError(f"{r.name} exited (rc={r.proc.returncode}):\n{tail(r.log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}:\n" + "\n".join(tail(r.log) for r in replicas))
        await asyncio.sleep(0.1)


async def scenario(a: argparse.Namespace, run_dir: Path, redis_url: str, prefix: str, records: list[Record],
                   sig: signal.Signals, session_ms: int) -> dict:
    name = f"{sig.name.lower()}-{session_ms}"
    broker = EmbeddedBroker(run_dir / f"broker-{name}")
    bootstrap = await broker.start()
    replicas: list[Replica] = []
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "REDIS_URL": redis_url,
               "OMNIROUTE_REDIS_PREFIX": f"{prefix}:{name}", "OMNIROUTE_KAFKA_SESSION_TIMEOUT_MS": str(session_ms),
               "OMNIROUTE_HEALTH_PORT": "0", "OMNIROUTE_LOG_LEVEL": "WARNING", "OMNIROUTE_LOG_FORMAT": "console",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        replicas = [Replica(run_dir, f"{name}-replica-{i}", env) for i in range(2)]

        def split() -> bool:
            held = [r.partitions() for r in replicas]
            return all(held) and set().union(*held) == set(range(INBOUND.partitions)) and not held[0] & held[1]

        await wait_until(split, 90, "two replicas sharing the partitions", replicas)
        victim, survivor = replicas
        victim_parts, survivor_parts = victim.partitions() or set(), survivor.partitions() or set()
        observer = SeenObserver(bootstrap, {t.name: t.partitions for t in DECISION_TOPICS}, 100, by_header=False)
        stop_observing = asyncio.Event()
        watching = asyncio.create_task(observer.run(stop_observing))
        try:
            sent, stopped_at, all_at = await load(a, bootstrap, records, observer, victim, survivor, victim_parts, sig)
            await asyncio.sleep(1.0)  # the last decisions reach the observer
        finally:
            stop_observing.set()
            await asyncio.wait_for(watching, 10)
        return summarize(observer, sent, stopped_at, all_at, victim_parts, survivor_parts) | {"name": name}
    finally:
        for r in replicas:
            await stop_process(r.proc, sig=signal.SIGTERM, timeout=20)
        await broker.stop()


async def load(a: argparse.Namespace, bootstrap: str, records: list[Record], observer: SeenObserver,
               victim: Replica, survivor: Replica, victim_parts: set[int], sig: signal.Signals) -> tuple:
    """Publish at the rate; stop the victim after `before_s`; go on until its partitions flow again (+ after_s)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, client_id="bench-takeover")
    await producer.start()
    sent: dict[str, tuple[float, asyncio.Future]] = {}
    stopped_at = recovered_at = all_at = None
    try:
        began, i = time.perf_counter(), 0
        while i < len(records):
            now = time.perf_counter()
            if stopped_at is None and now - began >= a.before_s:
                os.killpg(victim.proc.pid, sig)
                stopped_at = now
            if stopped_at is not None:
                if all_at is None and survivor.partitions() == set(range(INBOUND.partitions)):
                    all_at = now
                if recovered_at is None and flowing_again(observer, sent, stopped_at, victim_parts):
                    recovered_at = now
                if (recovered_at is not None and now - recovered_at >= a.after_s) or now - stopped_at >= a.max_after_s:
                    break
            due = min(len(records), int((now - began) * a.rate) + 1)
            while i < due:
                mid, key, value = records[i]
                observer.sent_at[mid] = time.perf_counter()
                sent[mid] = (observer.sent_at[mid], await producer.send(INBOUND.name, value=value, key=key))
                i += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*(f for _, f in sent.values()))
    finally:
        await producer.stop()
    if stopped_at is None:
        raise RuntimeError("ran out of records before the stop; raise --rate or lower --before-s")
    return sent, stopped_at, all_at


def flowing_again(observer: SeenObserver, sent: dict, stopped_at: float, victim_parts: set[int]) -> bool:
    """Every partition of the stopped replica has a decision for a message published after the stop."""
    flowing: set[int] = set()
    for mid, (at, fut) in sent.items():
        if at > stopped_at and fut.done() and not fut.exception() and mid in observer.first_seen:
            flowing.add(fut.result().partition)
    return victim_parts <= flowing


def summarize(observer: SeenObserver, sent: dict, stopped_at: float, all_at: float | None,
              victim_parts: set[int], survivor_parts: set[int]) -> dict:
    waits: dict[str, list[float]] = {"before": [], "victim": [], "survivor": []}
    unseen = 0
    for mid, (at, fut) in sent.items():
        seen = observer.first_seen.get(mid)
        if seen is None:
            unseen += 1
            continue
        wait = seen - at
        if at < stopped_at - 1.0:
            waits["before"].append(wait)
        part = fut.result().partition
        if at >= stopped_at - 1.0 or seen >= stopped_at:  # in flight or published during the takeover
            waits["victim" if part in victim_parts else "survivor"].append(wait)
    return {"pause_s": max(waits["victim"], default=float("nan")),
            "survivor_max_s": max(waits["survivor"], default=float("nan")),
            "before_p99_ms": percentile(waits["before"], 99) * 1000 if waits["before"] else float("nan"),
            "all_partitions_after_s": (all_at - stopped_at) if all_at else float("nan"),
            "published": len(sent), "unseen": unseen, "victim_parts": sorted(victim_parts)}


async def main() -> None:
    a = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="omniroute-takeover-"))
    redis = await ensure_redis(a.redis_url, run_dir)
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    sessions = [int(x) for x in a.session_timeouts.split(",") if x.strip()]
    sigs = [signal.Signals[f"SIG{s.strip().upper()}"] for s in a.signals.split(",") if s.strip()]
    started, failed = time.monotonic(), True
    print(f"conditions: 2 `omniroute worker route` replicas, {INBOUND.partitions} partitions, {a.rate:.0f} msg/s "
          f"offered, stop after {a.before_s:.0f} s of load; embedded broker (Tansu, fresh per scenario), aiokafka "
          f"{aiokafka.__version__}, Redis {redis.url}; {len(os.sched_getaffinity(0))} cores shared by all of it")
    print("pause = longest publish -> decision wait of a message on the stopped replica's partitions "
          "(published from 1 s before the stop on)")
    try:
        n = int(a.rate * (a.before_s + a.max_after_s + 5))
        records = build_records(n, a.customers)
        results = []
        for session_ms in sessions:
            for sig in sigs:
                r = await scenario(a, run_dir, redis.url, prefix, records, sig, session_ms)
                results.append((session_ms, sig, r))
                print(f"session timeout {session_ms:>6} ms, SIG{sig.name[3:]:<4}: pause {r['pause_s']:5.1f} s on "
                      f"partitions {r['victim_parts']}; survivor's own partitions max {r['survivor_max_s']:4.1f} s; "
                      f"p99 before {r['before_p99_ms']:.0f} ms; survivor held all 8 after "
                      f"{r['all_partitions_after_s']:.1f} s; {r['published']:,} published, {r['unseen']} without "
                      "a decision seen", flush=True)
        base = {sig: r for s, sig, r in results if s == sessions[0]}
        for session_ms, sig, r in results:
            if session_ms != sessions[0] and sig in base and base[sig]["pause_s"] > 0:
                print(f"SIG{sig.name[3:]}: pause with {session_ms} ms / with {sessions[0]} ms = "
                      f"{r['pause_s'] / base[sig]['pause_s']:.2f}")
        failed = False
    finally:
        removed = await delete_prefix(redis.url, prefix)
        await redis.stop()
        if failed:
            print(f"replica and broker logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
        print(f"done in {time.monotonic() - started:.0f} s; removed {removed:,} Redis keys under {prefix}:")


if __name__ == "__main__":
    asyncio.run(main())
