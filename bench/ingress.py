"""Benchmark: signed WhatsApp webhooks per second through one ingress process, against a trivial route on it.

One `omniroute worker ingress` process (verify the signature, edge dedupe and flood count in Redis, customer
key, Kafka acknowledgement) on the embedded broker; the load generator is this process (aiohttp, a fixed
number of connections). Phase A: GET /healthz (the trivial route on the same server). Phase B: POST
/webhooks/whatsapp/conek, every request a new signed message from its own sender. Prints requests/s, p50/p99
latency, the ratio B/A and the ingress's CPU per request. Figures, not a test: the machine is shared.
Run: .venv/bin/python bench/ingress.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from webhook_payloads import signed, whatsapp_body  # noqa: E402

from contracts.topics import ALL_TOPICS  # noqa: E402
from workers.stack.broker import EmbeddedBroker  # noqa: E402
from workers.stack.procs import free_port, spawn, stop_process, wait_ready  # noqa: E402
from workers.stack.redis_server import delete_prefix, ensure_redis  # noqa: E402
from workers.stack.topics import ensure_topics  # noqa: E402

SECRET = "bench-secret"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10, help="length of each phase")
    p.add_argument("--warmup-seconds", type=float, default=1)
    p.add_argument("--connections", type=int, default=32, help="concurrent requests in flight")
    p.add_argument("--profile", type=Path, help="record the ingress with py-spy during the webhook phase (.svg flame graph, .txt collapsed stacks)")
    return p.parse_args()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def phase(name: str, base: str, make, args: argparse.Namespace, pid: int) -> dict:
    """Drive requests from `make()` -> (method, path, body, headers) with N connections; count what answered OK."""
    latencies: list[float] = []
    errors: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=args.connections)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def one_client(until: float, measure_from: float) -> None:
            while (start := time.monotonic()) < until:
                method, path, body, headers = make()
                async with http.request(method, base + path, data=body, headers=headers) as answer:
                    await answer.read()
                    if answer.status != 200:
                        errors[answer.status] = errors.get(answer.status, 0) + 1
                    elif start >= measure_from:
                        latencies.append(time.monotonic() - start)

        began = time.monotonic()
        measure_from = began + args.warmup_seconds
        cpu_before, cpu_at = None, None

        async def mark_cpu() -> None:
            nonlocal cpu_before, cpu_at
            await asyncio.sleep(args.warmup_seconds)
            cpu_before, cpu_at = cpu_seconds(pid), time.monotonic()

        until = measure_from + args.seconds
        await asyncio.gather(mark_cpu(), *(one_client(until, measure_from) for _ in range(args.connections)))
        cpu = cpu_seconds(pid) - (cpu_before or 0)
    n = len(latencies)
    rate = n / args.seconds
    ordered = sorted(latencies)
    result = {"name": name, "rate": rate, "n": n, "errors": errors,
              "p50": statistics.median(ordered) * 1000 if n else float("nan"),
              "p99": ordered[int(0.99 * (n - 1))] * 1000 if n else float("nan"),
              "cpu_us": cpu / n * 1e6 if n else float("nan")}
    print(f"{name}: {rate:,.0f} req/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
          f"ingress CPU {result['cpu_us']:.0f} us/request" + (f", non-200 answers {errors}" if errors else ""))
    return result


async def main() -> None:
    args = parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="omniroute-bench-ingress-"))
    broker = EmbeddedBroker(run_dir / "broker")
    bootstrap = await broker.start()
    redis = await ensure_redis(os.environ.get("REDIS_URL"), run_dir / "redis")
    prefix = f"omniroute-bench-{uuid.uuid4().hex[:8]}"
    port = free_port()
    log = run_dir / "ingress.log"
    proc = None
    try:
        await ensure_topics(bootstrap, ALL_TOPICS)
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "REDIS_URL": redis.url,
               "OMNIROUTE_REDIS_PREFIX": prefix, "OMNIROUTE_HTTP_PORT": str(port),
               "CONEK_WHATSAPP_APP_SECRET": SECRET}
        proc = spawn([sys.executable, "-m", "workers.cli", "worker", "ingress"], log, env=env)
        await wait_ready(proc, log, "ingress: listening", timeout=60, name="ingress")
        base = f"http://127.0.0.1:{port}"
        print(f"one ingress process (pid {proc.pid}) on {base}; embedded broker {bootstrap}; redis {redis.url}; "
              f"{args.connections} connections, {args.seconds:g} s per phase after {args.warmup_seconds:g} s warm-up; "
              f"{os.cpu_count()} cores shared by broker, Redis, ingress and this load generator")
        trivial = await phase("trivial route (GET /healthz)", base, lambda: ("GET", "/healthz", None, {}), args,
                              proc.pid)
        counter = itertools.count()

        def webhook():
            n = next(counter)
            raw = whatsapp_body(f"wamid.bench-{n}-{uuid.uuid4().hex[:6]}", sender=f"2783{n:07d}")
            return "POST", "/webhooks/whatsapp/conek", raw, signed(raw, SECRET)

        profiler = None
        if args.profile:
            profiler = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("py-spy")), "record", "-p", str(proc.pid), "-o", str(args.profile),
                "-d", str(int(args.seconds + args.warmup_seconds)), "-r", "200",
                "-f", "raw" if args.profile.suffix == ".txt" else "flamegraph", stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL)
        signed_run = await phase("signed WhatsApp webhooks (verify, edge dedupe, Kafka ack)", base, webhook, args,
                                 proc.pid)
        if profiler is not None:
            await profiler.wait()
            print(f"profile: {args.profile}")
        print(f"ratio webhook/trivial: {signed_run['rate'] / trivial['rate']:.2f} "
              f"(aim >= 0.5); signed requests/s per process: {signed_run['rate']:,.0f} (aim >= 1,500)")
    finally:
        if proc is not None:
            await stop_process(proc)
        await delete_prefix(redis.url, prefix)
        await redis.stop()
        await broker.stop()


if __name__ == "__main__":
    asyncio.run(main())
