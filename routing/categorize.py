"""Categorise a support message into one of the eight canonical categories by weighted lexicon cues.

Scoring: every lexicon phrase and pattern that fires adds its weight to its category (the subject line counts
1.5x); `general` starts with a small prior so it wins when nothing else fires. Then the tie-break rules:

1. Seller context outranks the topic: a vendor talking about logging in to the seller dashboard, a payout to
   their bank or a buyer's return is `seller_support` (the seller team owns vendor accounts and disputes).
2. A remedy request outranks the problem it is about: "the parcel never came, I want my money back" and
   "your outage stopped our messages, can we get a refund?" are `returns_refunds`. Payment faults are not
   overridden: "charged twice, refund the extra" stays `payment_billing` by weight ("charged twice" = 4).
3. "Cancel my subscription/order" and downgrades are `returns_refunds`; "why was my order cancelled?" is a
   status question (`order_status`).
4. Context redirects: "deliver"/"arrive" words and status words ("pending", "stuck") about messages
   (webhooks, templates, SMS) count for `technical`, not shipping/order status; fault words about a
   physical product ("the blender stopped working") count for `returns_refunds`, not `technical`.
5. A desire negation ("I don't want a refund", "no need to cancel") damps the cues right after it.
6. Exact ties go to the more specific, money-related team (see `_TIE_ORDER`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, Field

from routing.lexicon_categories import CATEGORY_LEXICONS, PATTERN_CUES, REDIRECTS
from routing.textnorm import Hit, PhraseIndex, normalise, stem, words

CATEGORIES: tuple[str, ...] = tuple(CATEGORY_LEXICONS)
_TIE_ORDER = ("payment_billing", "returns_refunds", "seller_support", "account_access", "shipping_delivery",
              "order_status", "technical", "general")
_TIE_RANK = {c: i for i, c in enumerate(_TIE_ORDER)}

GENERAL_PRIOR = 1.0
SUBJECT_FACTOR = 1.5
SELLER_CONTEXT_MIN, SELLER_BONUS = 2.5, 2.0
REMEDY_MARGIN = 0.5
DAMPING = 0.25
_REMEDY_CUES = frozenset({"refund", "refunded", "refund request", "money back", "my money back", "reimburse",
                          "downgrade", "return my money", "return request", "send it back", "send them back",
                          "cancel my subscription", "cancel subscription", "cancel the order", "cancel my order",
                          "cancel <order/subscription>", "change to a lower plan", "stop a subscription/renewal",
                          "end my subscription", "end our subscription"})
_REMEDY_OVERRIDES = ("order_status", "shipping_delivery", "technical", "account_access", "general")
_DESIRE_NEGATIONS = frozenset({("not", "want"), ("not", "ask"), ("not", "need"), ("no", "need"), ("not", "look"),
                               ("not", "request"), ("not", "interest"), ("instead", "of"), ("rather", "than")})
_DAMP_WINDOW = 4

_INDEX = PhraseIndex(CATEGORY_LEXICONS)
_PATTERNS = [(cat, w, label, re.compile(rx), frozenset(trig)) for cat, w, label, rx, trig in PATTERN_CUES]
_REDIRECTS = [({(src, p): dst for p in phrases}, frozenset(map(stem, need)), frozenset(map(stem, veto)))
              for src, phrases, dst, need, veto in REDIRECTS]


_Cue = tuple[str, float, str]  # (category, weight added, cue label)


class CategoryResult(BaseModel):
    """The chosen category, how sure we are, every category's score and the cues that fired."""

    model_config = ConfigDict(frozen=True)

    category: str
    confidence: float = Field(ge=0.0, le=1.0)
    scores: dict[str, float]
    evidence: list[str]


def categorize(text: str, subject: str | None = None, *, allowed: Collection[str] | None = None) -> CategoryResult:
    """Pick the best canonical category for `text` (and an optional e-mail `subject`).

    `allowed` restricts the answer to the categories a tenant serves; the best-scoring allowed one wins, and
    `general` (or the first allowed category) when none of them has any evidence. Raises ValueError when
    `allowed` names no canonical category.
    """
    scores = dict.fromkeys(CATEGORIES, 0.0)
    scores["general"] = GENERAL_PRIOR
    evidence: list[_Cue] = []
    remedy = _score_part(text, 1.0, scores, evidence)
    if subject:
        remedy |= _score_part(subject, SUBJECT_FACTOR, scores, evidence)
    _apply_rules(scores, evidence, remedy)
    return _decide(scores, evidence, allowed)


def _score_part(raw: str, factor: float, scores: dict[str, float], evidence: list[_Cue]) -> bool:
    """Add the cues of one text part to `scores`; returns whether an undamped remedy request fired."""
    norm = normalise(raw)
    toks = words(norm)
    stemmed = [stem(t) for t in toks]
    damped = _damped_positions(stemmed)
    tokset = set(stemmed)
    redirects: dict[tuple[str, str], str] = {}
    for table, need, veto in _REDIRECTS:
        if not tokset.isdisjoint(need) and tokset.isdisjoint(veto):
            redirects.update(table)
    remedy = False
    for hit in _select(_INDEX.scan(stemmed)):
        weight = hit.cue.weight * factor
        if weight == 0:
            continue
        category = redirects.get((hit.cue.category, hit.cue.phrase), hit.cue.category)
        is_damped = hit.start in damped
        if is_damped:
            weight *= DAMPING
        elif hit.cue.phrase in _REMEDY_CUES:
            remedy = True
        scores[category] += weight
        evidence.append((category, weight, f"{hit.cue.phrase}{' (damped)' if is_damped else ''}"))
    plain = set(toks)
    for category, weight, label, rx, triggers in _PATTERNS:
        if triggers and triggers.isdisjoint(plain):
            continue
        if rx.search(norm):
            scores[category] += weight * factor
            remedy |= label in _REMEDY_CUES
            evidence.append((category, weight * factor, f"<{label}>"))
    return remedy


def _select(hits: list[Hit]) -> list[Hit]:
    """Within a category keep the longest (then heaviest) phrase where phrases overlap."""
    taken: dict[str, set[int]] = {}
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, -h.cue.weight, h.start)):
        used = taken.setdefault(hit.cue.category, set())
        span = range(hit.start, hit.end)
        if used.isdisjoint(span):
            used.update(span)
            kept.append(hit)
    return kept


def _damped_positions(stemmed: list[str]) -> set[int]:
    out: set[int] = set()
    for i in range(len(stemmed) - 1):
        if (stemmed[i], stemmed[i + 1]) in _DESIRE_NEGATIONS:
            out.update(range(i + 2, i + 2 + _DAMP_WINDOW))
    return out


def _apply_rules(scores: dict[str, float], evidence: list[_Cue], remedy: bool) -> None:
    if scores["seller_support"] >= SELLER_CONTEXT_MIN:
        scores["seller_support"] += SELLER_BONUS
        evidence.append(("seller_support", SELLER_BONUS, "<rule: seller context outranks topic>"))
    if remedy:
        floor = max(scores[c] for c in _REMEDY_OVERRIDES) + REMEDY_MARGIN
        lift = floor - scores["returns_refunds"]
        if lift > 0:
            evidence.append(("returns_refunds", lift, "<rule: remedy request outranks the problem>"))
            scores["returns_refunds"] = floor


def _explain(cues: list[_Cue], winner: str) -> list[str]:
    """Cue strings, the winner's heaviest first, so a truncated trace still shows why."""
    ordered = sorted(cues, key=lambda c: (c[0] != winner, -c[1]))
    return [f"{cat}+{weight:.3g}:{label}" for cat, weight, label in ordered]


def _decide(scores: dict[str, float], cues: list[_Cue], allowed: Collection[str] | None) -> CategoryResult:
    pool = list(CATEGORIES) if allowed is None else [c for c in CATEGORIES if c in allowed]
    if not pool:
        raise ValueError(f"allowed names no canonical category: {sorted(allowed or ())}")
    ranked = sorted(pool, key=lambda c: (-scores[c], _TIE_RANK[c]))
    top = scores[ranked[0]]
    evidence = _explain(cues, ranked[0])
    rounded = {c: round(s, 3) for c, s in scores.items()}
    if top <= 0:
        fallback = "general" if "general" in pool else pool[0]
        return CategoryResult(category=fallback, confidence=0.0, scores=rounded,
                              evidence=[*evidence, f"fallback:{fallback} (no allowed category has evidence)"])
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = (1.0 - math.exp(-top / 3.0)) * top / (top + max(second, 0.0))
    if allowed is not None and ranked[0] != max(CATEGORIES, key=lambda c: (scores[c], -_TIE_RANK[c])):
        evidence = [*evidence, f"restricted to allowed: {ranked[0]}"]
    return CategoryResult(category=ranked[0], confidence=round(confidence, 3), scores=rounded, evidence=evidence)
