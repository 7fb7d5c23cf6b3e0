"""Benchmark: CPU time per inbound record through RouteProcessor.process, in process (no broker, no Redis).

Decode, decide, record, work item, automatic answer, encode, over bench/decide.py's stream as encoded records;
prints which build of the routing core ran (OMNIROUTE_PURE=1 for the pure one). Run: .venv/bin/python bench/route_cpu.py
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import routing  # noqa: E402
from decide import build_stream  # noqa: E402
from routing.state import MemoryState  # noqa: E402
from workers.policy_files import load_policies  # noqa: E402
from workers.runtime.codec import encode, inbound_key  # noqa: E402
from workers.runtime.route_processor import RouteProcessor  # noqa: E402


class _Clock:
    def __init__(self, t) -> None:
        self.t = t

    def now(self):
        return self.t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    stream = build_stream(args.messages, args.customers)
    records = [(inbound_key(m), encode(m)) for m in stream]
    clock = _Clock(stream[0].received_at)
    processor = RouteProcessor(load_policies(ROOT / "deploy" / "policies"), clock)

    def run(records) -> None:
        state = MemoryState()
        for i, (key, value) in enumerate(records):
            clock.t = stream[i].received_at
            processor.process(state, key, value, ("t", 0, i))

    run(records[:2000])  # warm caches (compiled policies, holiday tables)
    began = time.process_time()
    run(records)
    elapsed = time.process_time() - began
    print(f"routing core: {routing.BUILD}")
    print(f"route processor: {elapsed / len(records) * 1e6:.1f} us CPU per record ({len(records)} records)")


if __name__ == "__main__":
    main()
