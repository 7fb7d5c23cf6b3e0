"""A pass-rate ratchet: the cases that pass are recorded, and a test fails when one of them stops passing.

A floor (say 90%) under a measured 99% hides regressions; a ratchet names each one. New passes are printed;
record them with OMNIROUTE_RATCHET_UPDATE=1 (the record file shows the change in review).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

RECORDS = Path(__file__).resolve().parent / "data" / "ratchet"


def ratchet(group: str, results: Mapping[str, bool]) -> None:
    """Fail when a case recorded as passing for `group` fails now; print the rate and any new passes."""
    assert results, f"no cases found for {group}"
    passing = {case for case, ok in results.items() if ok}
    path = RECORDS / (group.replace("/", "__") + ".json")
    print(f"\nconformance {group}: {len(passing)}/{len(results)} ({100 * len(passing) / len(results):.1f}%)")
    if os.environ.get("OMNIROUTE_RATCHET_UPDATE") == "1" or not path.exists():
        if not path.exists() and os.environ.get("CI"):
            raise AssertionError(f"{path} is missing: record it with OMNIROUTE_RATCHET_UPDATE=1 and commit it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sorted(passing), indent=1) + "\n")
        return
    recorded = set(json.loads(path.read_text()))
    lost = sorted(recorded - passing)
    gained = sorted(passing - recorded)
    if gained:
        print(f"  newly passing (record with OMNIROUTE_RATCHET_UPDATE=1): {gained}")
    assert not lost, f"{group}: {len(lost)} case(s) that passed before fail now: {lost}"


def case_ids(rows: Iterable[Mapping]) -> list[str]:
    """Stable ids for rows without one: a hash of tenant and text (numbered on repeats), so inserting a row
    elsewhere in the file does not rename the others."""
    ids, seen = [], {}
    for row in rows:
        base = row.get("id") or hashlib.sha1(f"{row.get('tenant', '')}|{row['text']}".encode()).hexdigest()[:10]
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids
