"""The `low_confidence` flag: new work whose category is a near tie between two candidates, shown in the trace.

The margin (routing.confidence.LOW_CONFIDENCE_MARGIN) was chosen on the corpora the categorization tests use;
`test_the_margin_separates_unsure_from_sure_categories` re-measures that choice, so a categorizer change that
makes the margin meaningless fails here instead of silently flagging the wrong work.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import routing.confidence
from routing.categorize import allowed_pool, categorize_brief
from routing.confidence import LOW_CONFIDENCE_MARGIN
from routing.textnorm import read
from routing_helpers import OFFICIAL, Stream, msg, policy

DATA = Path(__file__).parent / "data"
AMBIGUOUS = [  # each names two things a customer may want done; the trace must show both
    ("izonie", "chat", "My order hasn't arrived and I want to cancel it", {"returns_refunds", "order_status"}),
]
CLEAR = [
    ("alkonect", "chat", "I forgot my password and can't log in"),
    ("izonie", "chat", "Where is my parcel? The tracking number shows no movement since Monday"),
    ("conek", "whatsapp", "We were charged twice for our monthly plan this month"),
    ("izonie", "messenger", "Your app crashes every time I open my cart"),
]


def flags(decision) -> set[str]:
    return {f.value for f in decision.flags}


@pytest.mark.parametrize(("tenant", "channel", "text", "pair"), AMBIGUOUS)
def test_a_near_tie_is_flagged_with_both_candidates_in_the_trace(tenant, channel, text, pair) -> None:
    d = Stream(tenant)(msg(tenant, channel, text))
    assert d.action.value == "route" and "low_confidence" in flags(d)
    step = next(t for t in d.trace if t.rule == "categorize.low_confidence")
    named = {c for c in pair if c in step.detail}
    assert named == pair and d.category in pair, step.detail


@pytest.mark.parametrize(("tenant", "channel", "text"), CLEAR)
def test_a_clear_message_is_not_flagged(tenant, channel, text) -> None:
    d = Stream(tenant)(msg(tenant, channel, text))
    assert d.action.value == "route" and "low_confidence" not in flags(d)
    assert not any(t.rule == "categorize.low_confidence" for t in d.trace)


def _corpus() -> list[dict]:
    rows = []
    for name in ("unseen_messages.jsonl", "blind_messages.jsonl", "training_messages.jsonl"):
        rows += [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def test_the_flag_changes_no_routing(monkeypatch) -> None:
    """Every corpus message decided with the flag and without it (margin 0: never unsure) goes to the same place."""
    rows = _corpus()[::3]

    def decisions() -> list:
        return [Stream(r["tenant"])(msg(r["tenant"], r["channel"] if (r["tenant"], r["channel"]) in OFFICIAL
                                        else "email", r["text"], subject=r.get("subject"))) for r in rows]

    flagged = decisions()
    monkeypatch.setattr(routing.confidence, "LOW_CONFIDENCE_MARGIN", 0.0)
    plain = decisions()
    assert sum("low_confidence" in flags(d) for d in flagged) >= 10
    assert not any("low_confidence" in flags(d) for d in plain)
    for a, b in zip(flagged, plain):
        assert (a.action, a.category, a.queue, a.priority, a.sla) == (b.action, b.category, b.queue, b.priority, b.sla)
        assert flags(a) - {"low_confidence"} == flags(b)


def test_the_margin_separates_unsure_from_sure_categories() -> None:
    """Below the margin the category is wrong far more often than above it, on a share a person can review."""
    below, above = [], []
    for row in _corpus():
        pool = allowed_pool(policy(row["tenant"]).served_categories)
        if row["category"] not in pool:
            continue
        brief = categorize_brief(read(row["text"]), read(row["subject"]) if row.get("subject") else None, pool)
        (_, top), runner = brief.candidates
        unsure = runner is not None and top - runner[1] < LOW_CONFIDENCE_MARGIN
        (below if unsure else above).append(brief.category == row["category"])
    share = len(below) / (len(below) + len(above))
    acc_below, acc_above = sum(below) / len(below), sum(above) / len(above)
    print(f"\nlow_confidence: {len(below)} of {len(below) + len(above)} flagged ({share:.1%}); "
          f"right below the margin {acc_below:.1%}, above {acc_above:.1%}")
    assert 0.03 <= share <= 0.2
    assert acc_below <= 0.85 and acc_above >= 0.93
