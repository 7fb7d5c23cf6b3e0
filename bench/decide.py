"""Benchmark: decide() + record() throughput on one core over a realistic mixed stream; prints figures."""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import routing  # noqa: E402
from routing.decide import decide  # noqa: E402
from routing.record import record  # noqa: E402
from routing.state import MemoryState  # noqa: E402
from routing_helpers import msg, policy  # noqa: E402

CHANNELS = {"alkonect": ["email", "chat"], "izonie": ["email", "chat", "messenger", "instagram", "tiktok"],
            "conek": ["email", "whatsapp"]}


def corpus_texts() -> list[str]:
    path = ROOT.parent / "shared" / "corpus" / "labelled-messages.jsonl"
    if path.exists():
        return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    return ["Where is my order ALK-120044?", "I was charged twice", "cannot log in"]


def build_stream(n: int, customers: int, seed: int = 7):
    rng = random.Random(seed)
    texts = corpus_texts()
    start = datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc)
    stream = []
    for i in range(n):
        tenant = rng.choice(list(CHANNELS))
        channel = rng.choice(CHANNELS[tenant])
        m = msg(tenant, channel, rng.choice(texts), sender=f"c{rng.randrange(customers)}")
        stream.append(m.model_copy(update={"received_at": start + timedelta(seconds=i * 7)}))
    return stream


def run(stream, *, with_record: bool) -> float:
    states = {t: MemoryState() for t in CHANNELS}
    policies = {t: policy(t) for t in CHANNELS}
    gc.collect()
    began = time.perf_counter()
    for m in stream:
        d = decide(m, states[m.tenant], m.received_at, policies[m.tenant])
        if with_record:
            record(states[m.tenant], m, d, policies[m.tenant])
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each kind; the median is printed")
    args = parser.parse_args()
    stream = build_stream(args.messages, args.customers)
    run(stream[:500], with_record=True)  # warm caches (holiday tables, compiled policies)
    decide_only = statistics.median(run(stream, with_record=False) for _ in range(args.repeat))
    full = statistics.median(run(stream, with_record=True) for _ in range(args.repeat))
    print(f"messages: {len(stream)}, customers: {args.customers}, one process, one core, median of {args.repeat}")
    print(f"routing core: {routing.BUILD} (routing.COMPILED={routing.COMPILED}; OMNIROUTE_PURE=1 for the pure one)")
    print(f"decide only:       {len(stream) / decide_only:10.0f} msg/s  ({decide_only / len(stream) * 1e6:.1f} us/msg)")
    print(f"decide + record:   {len(stream) / full:10.0f} msg/s  ({full / len(stream) * 1e6:.1f} us/msg)")


if __name__ == "__main__":
    main()
