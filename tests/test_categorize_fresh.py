"""Categorization on the fresh sets (tests/data/fresh_categorization*.yaml): reported, never tuned on.

Each message goes through `decide` with its tenant's shipped policy, so the category is the one agents would see
(restricted to the categories the tenant serves). The accuracy is printed for the README; a ratchet names any
message that was categorized right and no longer is. It is not a target: the set must not be tuned on.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ratchet import ratchet
from routing_helpers import Stream, msg, policy

DATA = Path(__file__).parent / "data"
SETS = {"fresh": DATA / "fresh_categorization.yaml", "fresh2": DATA / "fresh_categorization_2.yaml",
        "fresh3": DATA / "fresh_categorization_3.yaml", "fresh4": DATA / "fresh_categorization_4.yaml",
        "fresh5": DATA / "fresh_categorization_5.yaml",
        "fresh6": DATA / "fresh_categorization_6.yaml", "fresh7": DATA / "fresh_categorization_7.yaml",
        "fresh8": DATA / "fresh_categorization_8.yaml"}


def _rows(name: str) -> list[dict]:
    return yaml.safe_load(SETS[name].read_text(encoding="utf-8"))["messages"]


@pytest.mark.parametrize("name", SETS)
def test_fresh_set_shape(name: str) -> None:
    rows = _rows(name)
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    assert {r["tenant"] for r in rows} == {"alkonect", "izonie", "conek"}
    for row in rows:  # a label the tenant does not serve could never be right
        assert row["category"] in policy(row["tenant"]).served_categories, row["id"]
    boundaries = Counter(r["boundary"] for r in rows if r["boundary"] != "clear")
    assert len(boundaries) >= 10


@pytest.mark.parametrize("name", SETS)
def test_fresh_messages_are_in_no_set_that_is_tuned_on(name: str) -> None:
    tuned = {json.loads(line)["text"].strip().lower()
             for path in ("training_messages.jsonl", "boundary_training.jsonl", "unseen_messages.jsonl")
             for line in (DATA / path).read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not [row["id"] for row in _rows(name) if row["text"].strip().lower() in tuned]


@pytest.mark.parametrize("name", SETS)
def test_fresh_set_accuracy_is_reported(name: str) -> None:
    rows = _rows(name)
    misses, unsure, results = [], {True: 0, False: 0}, {}
    for row in rows:
        d = Stream(row["tenant"])(msg(row["tenant"], row["channel"], row["text"], subject=row.get("subject"),
                                      sender=f"fresh-{row['id']}"))
        flagged = "low_confidence" in {f.value for f in d.flags}
        unsure[d.category == row["category"]] += flagged
        results[row["id"]] = d.category == row["category"]
        if d.category != row["category"]:
            misses.append((row["id"], row["category"], d.category, " (low_confidence)" if flagged else "", row["text"]))
    hits = len(rows) - len(misses)
    pct = 100 * hits / len(rows)
    print(f"\ncategorize accuracy ({name}, through decide): {hits}/{len(rows)} ({pct:.1f}%); "
          f"low_confidence on {unsure[False]} of {len(misses)} misses and {unsure[True]} of {hits} hits")
    for miss in misses:
        print("  miss {}: want {}, got {}{}: {}".format(*miss))
    ratchet(f"categorize/{name}", results)


if __name__ == "__main__":  # python tests/test_categorize_fresh.py: the figure alone
    raise SystemExit(pytest.main(["-q", "-s", __file__, "-k", "accuracy"]))
