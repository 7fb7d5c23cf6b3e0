"""Categorisation and abuse detection measured on the team's labelled corpus (shared/corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ratchet import case_ids, ratchet

from routing.abuse import detect_abuse
from routing.categorize import CATEGORIES, categorize


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> list[dict]:
    path = shared_dir / "corpus" / "labelled-messages.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_labels_are_canonical(corpus: list[dict]) -> None:
    assert corpus
    assert {row["category"] for row in corpus} <= set(CATEGORIES)


def test_categorize_accuracy_on_corpus(corpus: list[dict]) -> None:
    found = [categorize(row["text"]).category for row in corpus]
    misses = [(row["text"], row["category"], g) for row, g in zip(corpus, found) if row["category"] != g]
    hits = len(corpus) - len(misses)
    pct = 100 * hits / len(corpus)
    print(f"\ncategorize accuracy: {hits}/{len(corpus)} ({pct:.1f}%)")
    for text, want, got in misses:
        print(f"  miss: want {want}, got {got}: {text}")
    ratchet("categorize/corpus", {i: row["category"] == g for i, row, g in zip(case_ids(corpus), corpus, found)})


def test_abuse_precision_and_recall_on_corpus(corpus: list[dict]) -> None:
    flagged = [detect_abuse(row["text"]).abusive for row in corpus]
    tp = sum(f and row["abusive"] for f, row in zip(flagged, corpus))
    fp = sum(f and not row["abusive"] for f, row in zip(flagged, corpus))
    positives = sum(row["abusive"] for row in corpus)
    precision = tp / (tp + fp) if tp + fp else 1.0
    print(f"\nabuse precision: {tp}/{tp + fp} ({100 * precision:.0f}%) recall: {tp}/{positives}")
    assert positives > 0
    assert fp == 0, [row["text"] for f, row in zip(flagged, corpus) if f and not row["abusive"]]  # precision 100%
    ratchet("abuse/corpus", {i: f for i, f, row in zip(case_ids(corpus), flagged, corpus) if row["abusive"]})


def test_confidence_is_a_probability_and_scores_cover_all_categories(corpus: list[dict]) -> None:
    for row in corpus:
        result = categorize(row["text"])
        assert 0.0 <= result.confidence <= 1.0
        assert set(result.scores) == set(CATEGORIES)
        assert result.evidence, row["text"]
