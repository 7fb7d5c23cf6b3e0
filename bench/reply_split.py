"""Reply splitting on hostile bodies: time per body at n and 2n lines, so a quadratic path shows as a ratio near 4."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from channels.email.reply import split_reply  # noqa: E402

LINES = ["plain words in a long body", "> quoted line", "- item", "Re: x:"]


def _seconds(body: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        split_reply(body)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    for line in LINES:
        small, large = (_seconds("Top\n\n" + "\n".join([line] * n)) for n in (10_000, 20_000))
        print(f"reply split {line!r:30}: 10k lines {small * 1000:7.1f} ms, 20k {large * 1000:7.1f} ms, "
              f"ratio {large / small:.2f} (linear ~2)")
    hostile = "x\n" + ("On " + "1, " * 50_000 + "wrote\n") * 5 + ">" * 100_000
    print(f"reply split over-long header lines (~1 MB): {_seconds(hostile) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
