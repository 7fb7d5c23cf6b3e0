"""Detect requests to escalate (supervisor, manager) and chargebacks or bank disputes in a message.

Both are intent detectors with a small guard: a negation in the four words before a match cancels it ("no
need to escalate", "I don't want to do a chargeback"); for chargebacks a hypothetical question does too ("what
happens if I file a chargeback?"), while "can I speak to your manager?" is still an escalation request.
A chargeback counts whether already filed ("I have filed a chargeback") or announced ("I will dispute the
charge with my bank"): the policy reaction applies to both, and the text stays in the trace. A bank
reversing a failed transfer by itself ("waiting for reversal") is not a chargeback.
"""

from __future__ import annotations

import re

_NEGATION = r"\bno need to|\bnot|n't|\bnever|\bwithout|\bno"
_HYPOTHETICAL = (r"\bwhat happens if|\bwhat if|\bcan (?:i|we)|\bshould (?:i|we)|\bcould (?:i|we)|"
                 r"\bhow (?:do|can) (?:i|we)|\bis it possible to|\bwhether")
_NEGATED = re.compile(rf"(?:{_NEGATION})\s+(?:[\w']+\s+){{0,4}}$", re.IGNORECASE)
_NEGATED_OR_ASKED = re.compile(rf"(?:{_NEGATION}|{_HYPOTHETICAL})\s+(?:[\w']+\s+){{0,4}}$", re.IGNORECASE)

_SENIOR = (r"(?:supervisor|manager|superior|senior(?: \w+)?|team lead(?:er)?|head of \w+|someone (?:senior|higher|"
           r"in charge|more senior|with authority)|higher authorit(?:y|ies)|management|your boss|the boss|"
           r"person in charge|escalations? team)")

_ESCALATION = re.compile(
    r"\bescalat(?:e|ed|ing|ion)\b"
    rf"|\b(?:speak|talk|chat|get through|be put through|be transferred|be connected)\s+(?:to|with)\s+"
    rf"(?:a|an|your|the|my|some)?\s*{_SENIOR}"
    rf"|\b(?:i|we)\s+(?:want|need|demand|would like|'d like|request|insist on)\s+(?:to\s+(?:see|contact|reach)\s+)?"
    rf"(?:a|an|your|the|to speak to (?:a|your|the))\s*{_SENIOR}"
    rf"|\b(?:get|put|give|connect|transfer|pass|refer|hand)\s+(?:me|us|this|it|my case|this case|my complaint)?\s*"
    rf"(?:to|through to|over to|on to|onto)?\s*(?:a|an|your|the)\s+{_SENIOR}"
    r"|\b(?:let me|can i|may i|could i)\s+(?:speak|talk)\s+(?:to|with)\s+(?:someone|somebody)\s+"
    r"(?:senior|higher|else in charge|in charge)"
    r"|\btake (?:this|it|my complaint|the matter) (?:higher|further up|to (?:the top|management|your superiors))",
    re.IGNORECASE,
)

_BANK = r"(?:my|our|the)\s+(?:bank|card issuer|card provider|credit card company|issuing bank|card company)"
_MONEY = r"(?:charges?|payments?|transactions?|debits?|deductions?|transfer|money)"
_CHARGEBACK = re.compile(
    r"\bcharge[\s-]?backs?\b(?!\s+(?:policy|policies|fees?|rules|process|terms))"
    rf"|\b(?:dispute[ds]?|disputing|contest(?:ed|ing)?)\b[^.!?]{{0,40}}\b(?:with|through|via|at)\s+{_BANK}"
    r"|\b(?:filed|file|lodged|lodge|raised|raise|opened|open|logged|log)\s+(?:a|an)\s+(?:payment\s+|card\s+)?"
    rf"(?:dispute|complaint|claim)\s+(?:with|through|via|at)\s+{_BANK}"
    rf"|\b(?:reverse[ds]?|reversing|recall(?:ed)?)\s+(?:the|this|that|my|our|your)?\s*{_MONEY}\b[^.!?]{{0,30}}"
    rf"\b(?:through|via|with|at)\s+{_BANK}"
    rf"|\b(?:asked|ask|asking|told|tell|instructed|instruct|getting|get)\s+{_BANK}\s+to\s+"
    rf"(?:reverse|dispute|recall|charge back)\s+(?:the|this|that|your|my|our)?\s*{_MONEY}"
    rf"|\b{_BANK}\s+(?:is|are)\s+(?:disputing|investigating)\s+(?:the|this|that|your|my|our)?\s*{_MONEY}",
    re.IGNORECASE,
)


# Every match of a pattern contains one of its keywords; without one (case-insensitively, as IGNORECASE reads it)
# the pattern cannot match and is not run. Keep these in step with the patterns (tests/test_fast_paths.py checks).
_ESCALATION_WORDS = ("escalat", "supervisor", "manage", "superior", "senior", "team lead", "head of", "someone",
                     "somebody", "higher", "boss", "person in charge", "further up", "the top")
_CHARGEBACK_WORDS = ("charge", "bank", "card")
_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f")  # İ ı ſ: IGNORECASE matches them to i/s, lower() does not


# A chargeback still to come ("I will dispute the charge", "unless you refund me ... a chargeback") is a threat:
# §9.1 asks the customer to contact Conek first, while §9.2 suspends only one already initiated.
_THREAT = re.compile(r"\b(?:will|shall|going to|gonna|plan(?:ning)? to|intend to|about to|threaten|unless|otherwise|"
                     r"if (?:you|this|it|i|we) (?:don't|do not|doesn't|does not|can't|cannot|won't|fail)|"
                     r"or (?:else|i|we)|before i|next step)\b|'ll\b", re.IGNORECASE)


def normal_spacing(text: str) -> str:
    """The text the intent patterns read: typographic apostrophes unified, whitespace runs made one space."""
    return " ".join(text.replace("\u2019", "'").split())


def _affirmed_matches(rx: re.Pattern[str], guard: re.Pattern[str], norm: str) -> list[re.Match[str]]:
    return [m for m in rx.finditer(norm) if not guard.search(norm, max(0, m.start() - 60), m.start())]


def _may_match(norm: str, keywords: tuple[str, ...]) -> bool:
    """False when `norm` holds none of a pattern's keywords, so the pattern cannot match it."""
    low = norm.lower()
    return any(map(low.__contains__, keywords)) or (not norm.isascii() and any(c in norm for c in _FOLDS_TO_ASCII))


def _affirmed(rx: re.Pattern[str], guard: re.Pattern[str], text: str, keywords: tuple[str, ...]) -> bool:
    norm = normal_spacing(text)
    return _may_match(norm, keywords) and bool(_affirmed_matches(rx, guard, norm))


def affirmed(rx: re.Pattern[str], text: str) -> bool:
    """True when `rx` matches somewhere not negated in the four words before it ("no refund needed")."""
    return affirmed_in(rx, normal_spacing(text))


def affirmed_in(rx: re.Pattern[str], norm: str) -> bool:
    """`affirmed` of a text already through `normal_spacing` (callers trying many patterns space it once)."""
    return bool(_affirmed_matches(rx, _NEGATED, norm))


def detect_escalation_request(text: str) -> bool:
    """True when the customer asks for a supervisor/manager or for the case to be escalated."""
    return _affirmed(_ESCALATION, _NEGATED, text, _ESCALATION_WORDS)


def detect_chargeback(text: str) -> bool:
    """True when the customer has filed, or says they will file, a chargeback or bank dispute."""
    return _affirmed(_CHARGEBACK, _NEGATED_OR_ASKED, text, _CHARGEBACK_WORDS)


def chargeback_stance(text: str) -> str | None:
    """"filed" for a chargeback or bank dispute initiated, "threatened" for one announced, else None."""
    norm = normal_spacing(text)
    if not _may_match(norm, _CHARGEBACK_WORDS):
        return None
    found = _affirmed_matches(_CHARGEBACK, _NEGATED_OR_ASKED, norm)
    if not found:
        return None
    for m in found:
        sentence_start = max(norm.rfind(". ", 0, m.start()), norm.rfind("! ", 0, m.start()), -1) + 1
        if not _THREAT.search(norm, sentence_start, m.end()):
            return "filed"
    return "threatened"
