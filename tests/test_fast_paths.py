"""The shortcuts routing takes for speed give exactly what the plain computation gives."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.decision import SlaTargets
from contracts.inbound import Sender
from routing import escalation, references, textnorm
from routing.calendar import BusinessCalendar
from routing.categorize import _INDEX, CATEGORIES, allowed_pool, categorize, categorize_brief
from routing.compiled import any_of, compile_policy
from routing.dedupe import identity_keys
from routing.lexicon_categories import CATEGORY_LEXICONS
from routing.policy.models import CalendarSpec, HolidaySpec, SlaRule, SlaTarget
from routing.sla import compute_sla
from routing.similarity import fingerprint
from routing_helpers import msg, policy

DATA = Path(__file__).parent / "data"
TEXTS = [json.loads(line)["text"] for name in ("unseen_messages.jsonl", "blind_messages.jsonl")
         for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
# Characters IGNORECASE folds onto ASCII letters (ſ=s, K=k, ı/İ=i), quotes, dashes, digits of other scripts.
ODD = ["\u017f", "\u212a", "\u0131", "\u0130", "\u2019", "`", "\u2014", "\u0663", "\u00b2", "#", "@", "://", "www."]
PHRASES = [
    "escalate this", "Escalation please", "let me speak to your manager", "I want a supervisor", "put me through to "
    "a team leader", "can I talk with somebody in charge", "take this higher", "take it to the top", "your boss",
    "the head of sales", "someone with authority", "person in charge", "speak to the supervisor", "talk to a "
    "manager", "talk to your superior", "speak to a senior agent", "talk to a team lead", "speak to the head of "
    "support", "talk to someone senior", "talk to higher authorities", "speak to management", "speak to your boss",
    "speak to the person in charge", "speak to the escalations team", "can I speak to somebody senior",
    "take this further up", "take it to your superiors", "I filed a chargeback", "charge-back",
    "I will dispute the charge with my bank", "asked my card issuer to reverse the payment", "order 12345",
    "txn id: T9981", "invoice #44512", "ref ALK-120044", "tracking no. IZ-30021", "#123456", "ALK-99881",
    "sellers", "the vendor", "a merchant", "shop owner", "visit https://x.io/a or mail a@b.co", "www.izonie.com",
]
words = st.sampled_from([w for t in TEXTS[:200] for w in t.split()] + PHRASES + ODD)
texts = st.one_of(st.sampled_from(TEXTS + PHRASES),
                  st.lists(words, min_size=0, max_size=25).map(" ".join),
                  st.text(alphabet=st.sampled_from("abcekrsıſİKK #-12@.:/'`\u2019 "), max_size=40))


def _affirmed_plain(rx: re.Pattern[str], guard: re.Pattern[str], text: str) -> bool:
    norm = " ".join(text.replace("\u2019", "'").split())
    return any(not guard.search(norm, max(0, m.start() - 60), m.start()) for m in rx.finditer(norm))


def _references_plain(text: str, tenant: tuple[re.Pattern[str], ...]) -> set[str]:
    found = {references._norm(m.group(0)) for p in tenant for m in p.finditer(text)}
    found |= {references._norm(m.group(1)) for m in references._GENERIC.finditer(text)}
    found |= {references._norm(m.group(1)) for m in references._HASHED.finditer(text)}
    return {r for r in found if r not in references._STOP and any(ch.isdigit() for ch in r)}


def _check_prefilters(text: str) -> None:
    assert escalation.detect_escalation_request(text) == _affirmed_plain(
        escalation._ESCALATION, escalation._NEGATED, text)
    assert escalation.detect_chargeback(text) == _affirmed_plain(
        escalation._CHARGEBACK, escalation._NEGATED_OR_ASKED, text)
    tenant = references.compile_reference_patterns([r"\bALK-\d{4,}\b", r"\bIZ-\d{4,}\b"])
    assert references.extract_references(text, tenant) == _references_plain(text, tenant)
    assert textnorm.normalise(text) == textnorm._URL.sub(" ", text.translate(textnorm._QUOTES).lower())


@settings(max_examples=400, deadline=None)
@given(texts)
def test_keyword_prefilters_never_hide_a_match(text: str) -> None:
    _check_prefilters(text)


@pytest.mark.parametrize("phrase", PHRASES)
def test_prefilters_keep_every_known_phrase_and_its_odd_spellings(phrase: str) -> None:
    for text in (phrase, phrase.upper(), phrase.replace("s", "\u017f"), phrase.replace("k", "\u212a")):
        _check_prefilters(text)


@settings(max_examples=300, deadline=None)
@given(texts, st.one_of(st.none(), texts), st.sampled_from([None, ["general", "technical"], CATEGORIES[:-2]]))
def test_brief_categorisation_matches_the_full_result(text: str, subject: str | None, allowed) -> None:
    full = categorize(text, subject, allowed=allowed)
    brief = categorize_brief(textnorm.read(text), textnorm.read(subject) if subject else None, allowed_pool(allowed))
    assert brief[:3] == (full.category, full.confidence, full.evidence[:6])
    (first, top), runner = brief.candidates
    assert (first, round(top, 3)) == (full.category, full.scores[full.category])
    if runner is not None:  # the runner-up is the best other allowed category
        assert runner[0] != first
        assert round(runner[1], 3) == max(full.scores[c] for c in allowed_pool(allowed) if c != first)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_read_and_phrase_matches_agree_with_the_plain_steps(text: str) -> None:
    read = textnorm.read(text)
    norm = textnorm.normalise(text)
    assert read == (norm, textnorm.words(norm), textnorm.stems(norm))
    toks = read.stems
    expected = []  # every phrase at every position, by brute force
    for category, phrases in CATEGORY_LEXICONS.items():
        for phrase in phrases:
            key = textnorm.stems(textnorm.normalise(phrase))
            expected += [(i, i + len(key), phrase, category) for i in range(len(toks) - len(key) + 1)
                         if toks[i : i + len(key)] == key]
    got = [(h.start, h.end, h.cue.phrase, h.cue.category) for h in _INDEX.scan(toks)]
    assert sorted(got) == sorted(expected)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_untriggered_patterns_need_a_digit(text: str) -> None:
    """categorize runs the patterns without trigger words only on text with a digit."""
    from routing.categorize import _ALWAYS, _PATTERNS

    no_digits = textnorm.normalise("".join(ch for ch in text if not ch.isdigit()))
    assert not any(_PATTERNS[i][3].search(no_digits) for i in _ALWAYS)
    assert all(r"\d" in _PATTERNS[i][3].pattern for i in _ALWAYS)


def test_fingerprint_memo_follows_the_text() -> None:
    assert fingerprint("parcel delivered late") == frozenset({"parcel", "deliver", "late"})
    assert fingerprint("refund requested") == frozenset({"refund", "request"})
    assert fingerprint("parcel delivered late") == frozenset({"parcel", "deliver", "late"})


def test_identity_memo_follows_sender_and_channel() -> None:
    a = msg("izonie", "messenger", "hi", sender="psid-1")
    b = msg("izonie", "instagram", "hi", sender="psid-1")
    assert identity_keys(a) == a.sender.identity_keys(a.channel)
    assert identity_keys(b) == ["instagram:psid-1"]
    c = a.model_copy(update={"sender": Sender(platform_id="psid-2", email="X@Y.com")})
    assert identity_keys(c) == ["messenger:psid-2", "email:x@y.com"]
    assert identity_keys(a) == ["messenger:psid-1"]


LONDON = ZoneInfo("Europe/London")
SPLIT = BusinessCalendar(CalendarSpec(weekly={"mon": ["08:00-12:00", "13:00-17:30"], "sat": ["00:30-02:30"],
                                              "sun": ["01:00-03:00", "22:00-24:00"]}),
                         "Europe/London", HolidaySpec(country="GB"))


def _sla_plain(rule: SlaRule, cal: BusinessCalendar, received: datetime, warn_default: float) -> SlaTargets:
    """compute_sla written with the public calendar methods only, as it was before the micro-second path."""
    opening = cal.next_opening(received)

    def start(t: SlaTarget) -> datetime:
        return opening if t.clock == "business" or rule.start == "next_opening" else received.astimezone(cal.tz)

    def deadline(t: SlaTarget | None):
        if t is None:
            return None, None
        share = t.warn_at if t.warn_at is not None else warn_default
        s = start(t)
        if t.clock == "business":
            length = cal.standard_day * t.within.amount if t.within.unit == "bd" else t.within.as_timedelta()
            return cal.add_business_time(s, length), cal.add_business_time(s, length * share)
        later = lambda d: (s.astimezone(UTC) + d).astimezone(cal.tz)  # noqa: E731
        due = later(t.within.as_timedelta())
        if not (cal.is_open(due) or cal.is_open(due - timedelta(microseconds=1))):
            due = cal.next_opening(due)
        return due, min(later(t.within.as_timedelta() * share), due)

    first, resolution = deadline(rule.first_response), deadline(rule.resolution)
    primary = rule.first_response or rule.resolution
    return SlaTargets(timezone=cal.timezone, clock=primary.clock, calendar=cal.name, started_at=start(primary),
                      first_response_due=first[0], first_response_warn_at=first[1], resolution_due=resolution[0],
                      resolution_warn_at=resolution[1], resolution_clock=rule.resolution.clock if rule.resolution
                      else None, rule=rule.name, escalate_to=rule.escalate_to)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400 * 86400), st.sampled_from(["90s", "5m", "4h", "48h", "1bd", "0.5bd"]),
       st.sampled_from(["business", "calendar"]), st.sampled_from(["next_opening", "on_receipt"]),
       st.sampled_from([None, 0.3]), st.booleans())
def test_sla_on_microseconds_matches_the_calendar_methods(seconds, within, clock, start, warn, local) -> None:
    if within.endswith("bd") and clock == "calendar":
        return
    rule = SlaRule(name="r", start=start, first_response={"within": within, "clock": clock, "warn_at": warn},
                   resolution={"within": "2bd", "clock": "business"})
    received = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    if local:
        received = received.astimezone(LONDON)
    got, want = compute_sla(rule, SPLIT, received, default_warn_at=0.8), _sla_plain(rule, SPLIT, received, 0.8)
    assert got == want
    assert [d.fold for d in (got.started_at, got.first_response_due)] == [
        d.fold for d in (want.started_at, want.first_response_due)]


def test_calendar_memo_tells_apart_equal_times_of_different_instants() -> None:
    first = datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)  # 01:30 BST; fold=1 is 01:30 GMT, an hour later
    second = first.replace(fold=1)
    always = BusinessCalendar(CalendarSpec(weekly={"sun": ["01:00-01:45"]}), "Europe/London",
                              HolidaySpec(country="GB"), name="short")
    assert first == second  # same zone: Python compares wall clocks
    assert always.is_open(first) and not always.is_open(second)
    assert always.next_opening(second) != always.next_opening(first)


GATED = [(compile_policy(policy(t)), t) for t in ("alkonect", "izonie", "conek")]
POLICY_PHRASES = [p.pattern.replace("\\b", "").replace("\\s+", " ") for cp, _ in GATED
                  for p in (*cp.appeals, *cp.refund_requests, *(p for _, ps in cp.out_of_scope for p in ps))]


@settings(max_examples=300)
@given(st.one_of(texts, st.sampled_from(POLICY_PHRASES)))
def test_policy_gates_match_exactly_where_one_of_their_patterns_does(text: str) -> None:
    for cp, tenant in GATED:
        norm = escalation.normal_spacing(text)
        refund = (*cp.appeals, *cp.refund_requests)
        assert bool(cp.refund_gate and cp.refund_gate.search(norm)) == any(p.search(norm) for p in refund), tenant
        scope = [p for _, ps in cp.out_of_scope for p in ps]
        assert bool(cp.out_of_scope_gate and cp.out_of_scope_gate.search(text)) == any(p.search(text) for p in scope)


def test_unjoinable_patterns_gate_nothing_out() -> None:
    assert any_of(()) is None
    assert any_of((re.compile(r"(a)\1"), re.compile("b"))).search("xyz")
    assert any_of((re.compile("a", re.I), re.compile("b"))).search("xyz")
    joined = any_of((re.compile("refund", re.I), re.compile(r"money\s+back", re.I)))
    assert joined.search("MONEY  back") and not joined.search("no money")
