"""Throughput of categorize + detect_abuse on one core over the labelled corpus, repeated."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from routing.abuse import detect_abuse
from routing.categorize import categorize

_SHARED = Path(os.environ.get("OMNIROUTE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
_CORPUS = _SHARED / "corpus" / "labelled-messages.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=_CORPUS)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    texts = [json.loads(line)["text"] for line in args.corpus.read_text(encoding="utf-8").splitlines() if line]
    # Vary each pass a little so per-token caches do not turn the benchmark into dictionary look-ups only.
    batch = [f"{t} #{i}" for i in range(args.repeat) for t in texts]
    for t in texts:  # warm-up: compile patterns, fill stem caches for the base vocabulary
        categorize(t), detect_abuse(t)
    start = time.perf_counter()
    for t in batch:
        categorize(t)
        detect_abuse(t)
    elapsed = time.perf_counter() - start
    print(f"categorize+detect_abuse: {len(batch)} texts in {elapsed:.2f}s = {len(batch) / elapsed:,.0f} texts/s")


if __name__ == "__main__":
    main()
