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
   physical product ("the blender stopped working") count for `returns_refunds`, not `technical`; seller and
   "fake" words in a shopper's question whether the sellers are genuine ("are the sellers verified? I'm worried
   about fakes") count for `general`, not `seller_support`/`returns_refunds`.
5. A desire negation ("I don't want a refund", "no need to cancel") damps the cues right after it.
6. Exact ties go to the more specific, money-related team (see `_TIE_ORDER`).
7. Who is writing outranks the topic: a writer who says they sell on the platform ("seller here", "I'm a vendor",
   "my listings", "the buyer claims ...") is `seller_support` over order, delivery, return, money and how-to
   topics (`writer_role`); a seller's user access and platform faults keep their own categories.

Intent frames (`INTENT_FRAMES` in lexicon_categories) model what the customer asks to be done rather than the
words it is asked in: a requested action and its object with a few filler words between ("stop order ALK-1",
"switch us from Growth to Basic", "give our intern access to the dashboard"), or who is writing ("customers paid
for my items": a seller). They run as pattern cues; the ones that ask for a cancellation or money back count as
remedy requests for rule 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import NamedTuple

import pydantic.main  # noqa: F401  (for mypyc: the module BaseModel is defined in, which the compiled class body reads)
from pydantic import BaseModel, ConfigDict, Field

from routing.lexicon_categories import CATEGORY_LEXICONS, PATTERN_CUES, REDIRECTS, REMEDY_FRAME_LABELS, SELLER_WRITER
from routing.textnorm import Cue, PhraseIndex, Tokens, read, stem

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
                          "end my subscription", "end our subscription"}) | REMEDY_FRAME_LABELS
_REMEDY_OVERRIDES = ("order_status", "shipping_delivery", "technical", "account_access", "general")
ROLE_MARGIN = 0.5
_SELLER_OVERRIDES = ("order_status", "shipping_delivery", "returns_refunds", "payment_billing", "general")
_SELLER_WRITER = re.compile(SELLER_WRITER)
_DESIRE_NEGATIONS = frozenset({("not", "want"), ("not", "ask"), ("not", "need"), ("no", "need"), ("not", "look"),
                               ("not", "request"), ("not", "interest"), ("instead", "of"), ("rather", "than")})
_DAMP_WINDOW = 4

_INDEX = PhraseIndex(CATEGORY_LEXICONS)
_PATTERNS = [(cat, w, label, re.compile(rx), frozenset(trig)) for cat, w, label, rx, trig in PATTERN_CUES]
_REDIRECTS = [({(src, p): dst for p in phrases}, frozenset(map(stem, need)), frozenset(map(stem, veto)))
              for src, phrases, dst, need, veto in REDIRECTS]
# Which patterns a trigger word wakes; untriggered patterns all need a digit (checked once per text).
_TRIGGERED = {t: tuple(i for i, p in enumerate(_PATTERNS) if t in p[4]) for p in _PATTERNS for t in p[4]}
_ALWAYS = tuple(i for i, p in enumerate(_PATTERNS) if not p[4])
_TRIGGER_WORDS = frozenset(_TRIGGERED)
_DIGIT = re.compile(r"\d")
_NEGATION_FIRST = frozenset(a for a, _ in _DESIRE_NEGATIONS)
_REDIRECT_WORDS = frozenset().union(*(need for _, need, _ in _REDIRECTS))


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
    scores, evidence = _score(read(text), read(subject) if subject else None)
    return _decide(scores, evidence, allowed)


def allowed_pool(allowed: Collection[str] | None) -> tuple[str, ...]:
    """The canonical categories `allowed` keeps, in canonical order."""
    return CATEGORIES if allowed is None else tuple(c for c in CATEGORIES if c in allowed)


class Brief(NamedTuple):
    """`categorize_brief`'s answer: the category, its confidence, the first six evidence cues, and the two best
    candidates of the pool with their scores (the runner-up is None when the pool has one category)."""

    category: str
    confidence: float
    evidence: list[str]
    candidates: tuple[tuple[str, float], tuple[str, float] | None]


def categorize_brief(body: Tokens, subject: Tokens | None, pool: tuple[str, ...]) -> Brief:
    """`categorize` of already-read parts restricted to `pool`, with the top two candidates."""
    if not pool:
        raise ValueError("allowed names no canonical category: []")
    scores, cues = _score(body, subject)
    ranked = sorted([(-scores[c], _TIE_RANK[c], c) for c in pool])  # ranks are unique: names never compared
    winner = ranked[0][2]
    top = scores[winner]
    ordered = sorted(cues, key=lambda c: (c[0] != winner, -c[1]))[:6] if len(cues) > 1 else cues
    evidence = [f"{cat}+{_short(weight)}:{label}" for cat, weight, label in ordered]
    if top <= 0:
        fallback = "general" if "general" in pool else pool[0]
        runner = next((c for *_, c in ranked if c != fallback), None)
        return Brief(fallback, 0.0, [*evidence, f"fallback:{fallback} (no allowed category has evidence)"][:6],
                     _candidates(scores, fallback, runner))
    runner = ranked[1][2] if len(ranked) > 1 else None
    second = scores[runner] if runner else 0.0
    confidence = (1.0 - math.exp(-top / 3.0)) * top / (top + max(second, 0.0))
    if len(evidence) < 6 and pool is not CATEGORIES and winner != min(
            CATEGORIES, key=lambda c: (-scores[c], _TIE_RANK[c])):
        evidence.append(f"restricted to allowed: {winner}")
    return Brief(winner, round(confidence, 3), evidence, _candidates(scores, winner, runner))


def _candidates(scores: dict[str, float], first: str, second: str | None) -> tuple:
    return (first, scores[first]), ((second, scores[second]) if second else None)


def _short(weight: float) -> str:
    """`f"{weight:.3g}"`, remembered: cue weights repeat."""
    text = _SHORT.get(weight)
    if text is None:
        if len(_SHORT) >= 4096:
            _SHORT.clear()
        text = _SHORT[weight] = f"{weight:.3g}"
    return text


_SHORT: dict[float, str] = {}


def _score(body: Tokens, subject: Tokens | None) -> tuple[dict[str, float], list[_Cue]]:
    scores = dict.fromkeys(CATEGORIES, 0.0)
    scores["general"] = GENERAL_PRIOR
    evidence: list[_Cue] = []
    remedy = _score_part(body, 1.0, scores, evidence)
    if subject is not None:
        remedy |= _score_part(subject, SUBJECT_FACTOR, scores, evidence)
    seller = writer_role(body.norm, subject.norm if subject is not None else "") == "seller"
    _apply_rules(scores, evidence, remedy, seller)
    return scores, evidence


def _lift(scores: dict[str, float], evidence: list[_Cue], category: str, over: tuple[str, ...], margin: float,
          label: str) -> None:
    """Lift `category` `margin` above the best of `over` (nothing when it is there already)."""
    floor = max(scores[c] for c in over) + margin
    lift = floor - scores[category]
    if lift > 0:
        evidence.append((category, lift, label))
        scores[category] = floor


def writer_role(body: str, subject: str) -> str | None:
    """`"seller"` when the writer says they sell on the platform (in the body or the subject), else None."""
    return "seller" if _SELLER_WRITER.search(body) or _SELLER_WRITER.search(subject) else None


def _score_part(part: Tokens, factor: float, scores: dict[str, float], evidence: list[_Cue]) -> bool:
    """Add the cues of one text part to `scores`; returns whether an undamped remedy request fired."""
    norm, toks, stemmed = part
    tokset = set(stemmed)
    damped = _damped_positions(stemmed) if not _NEGATION_FIRST.isdisjoint(tokset) else ()
    redirects: dict[tuple[str, str], str] = {}
    if not _REDIRECT_WORDS.isdisjoint(tokset):
        for table, need, veto in _REDIRECTS:
            if not tokset.isdisjoint(need) and tokset.isdisjoint(veto):
                redirects.update(table)
    remedy = False
    hits = _INDEX.matches(stemmed)
    for start, _, cue in _select_matches(hits) if len(hits) > 1 else hits:
        weight = cue.weight * factor
        if weight == 0:
            continue
        category = redirects.get((cue.category, cue.phrase), cue.category) if redirects else cue.category
        if start in damped:
            weight *= DAMPING
            label = f"{cue.phrase} (damped)"
        else:
            label = cue.phrase
            if label in _REMEDY_CUES:
                remedy = True
        scores[category] += weight
        evidence.append((category, weight, label))
    woken = [i for tok in _TRIGGER_WORDS.intersection(toks) for i in _TRIGGERED[tok]]
    if _DIGIT.search(norm):
        woken += _ALWAYS
    for i in sorted(set(woken)):
        category, weight, label, rx, _ = _PATTERNS[i]
        if rx.search(norm):
            scores[category] += weight * factor
            remedy |= label in _REMEDY_CUES
            evidence.append((category, weight * factor, f"<{label}>"))
    return remedy


def _select_matches(hits: list[tuple[int, int, Cue]]) -> list[tuple[int, int, Cue]]:
    """Within a category keep the longest (then heaviest) phrase where phrases overlap; the index k keeps ties in
    the order they were found."""
    order = sorted([(start - end, -cue.weight, start, k) for k, (start, end, cue) in enumerate(hits)])
    taken: dict[str, set[int]] = {}
    kept = []
    for *_, k in order:
        hit = hits[k]
        span = range(hit[0], hit[1])
        used = taken.get(hit[2].category)
        if used is None:
            taken[hit[2].category] = set(span)
            kept.append(hit)
        elif used.isdisjoint(span):
            used.update(span)
            kept.append(hit)
    return kept


def _damped_positions(stemmed: list[str]) -> set[int]:
    out: set[int] = set()
    for i in range(len(stemmed) - 1):
        if (stemmed[i], stemmed[i + 1]) in _DESIRE_NEGATIONS:
            out.update(range(i + 2, i + 2 + _DAMP_WINDOW))
    return out


def _apply_rules(scores: dict[str, float], evidence: list[_Cue], remedy: bool, seller_writer: bool) -> None:
    if scores["seller_support"] >= SELLER_CONTEXT_MIN:
        scores["seller_support"] += SELLER_BONUS
        evidence.append(("seller_support", SELLER_BONUS, "<rule: seller context outranks topic>"))
    if remedy:
        _lift(scores, evidence, "returns_refunds", _REMEDY_OVERRIDES, REMEDY_MARGIN,
              "<rule: remedy request outranks the problem>")
    if seller_writer:
        _lift(scores, evidence, "seller_support", _SELLER_OVERRIDES, ROLE_MARGIN, "<rule: the writer is a seller>")


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
