"""Categorisation and abuse detection on our own held-out messages (tests/data/unseen_messages.jsonl).

The set was written in three batches, each before the lexicon was tuned against it; `batch` records which.
It covers the three tenants' domains and pairs frustrated-but-civil messages with abusive ones.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from ratchet import case_ids, ratchet

from routing.abuse import detect_abuse
from routing.categorize import CATEGORIES, categorize

DATA = Path(__file__).parent / "data" / "unseen_messages.jsonl"


@pytest.fixture(scope="module")
def unseen() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_held_out_set_shape(unseen: list[dict]) -> None:
    assert len(unseen) >= 80
    per_category = Counter(row["category"] for row in unseen)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 10
    assert {row["tenant"] for row in unseen} == {"alkonect", "izonie", "conek"}
    assert sum(row["abusive"] for row in unseen) >= 12


def test_categorize_accuracy_on_unseen(unseen: list[dict]) -> None:
    misses, results = [], {}
    for case, row in zip(case_ids(unseen), unseen):
        got = categorize(row["text"], row.get("subject")).category
        results[case] = got == row["category"]
        if got != row["category"]:
            misses.append((row["batch"], row["category"], got, row["text"]))
    hits = len(unseen) - len(misses)
    pct = 100 * hits / len(unseen)
    print(f"\ncategorize accuracy (unseen): {hits}/{len(unseen)} ({pct:.1f}%)")
    for miss in misses:
        print("  miss (batch {}): want {}, got {}: {}".format(*miss))
    ratchet("categorize/unseen", results)


def test_abuse_precision_on_unseen(unseen: list[dict]) -> None:
    fp = [row["text"] for row in unseen if not row["abusive"] and detect_abuse(row["text"]).abusive]
    tp = sum(1 for row in unseen if row["abusive"] and detect_abuse(row["text"]).abusive)
    positives = sum(row["abusive"] for row in unseen)
    print(f"\nabuse (unseen) precision: {tp}/{tp + len(fp)} recall: {tp}/{positives}")
    assert not fp  # precision 100%
    ratchet("abuse/unseen", {case: detect_abuse(row["text"]).abusive
                             for case, row in zip(case_ids(unseen), unseen) if row["abusive"]})
