"""Everything routing reads out of a message's text once: category, abuse, escalation, references, gaps."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contracts.decision import DecisionFlag as F
from contracts.decision import FollowUp, FollowUpKind, TraceStep
from contracts.inbound import InboundMessage
from routing.abuse import abuse_cues
from routing.categorize import categorize_brief
from routing.compiled import CompiledPolicy
from routing.escalation import chargeback_stance, detect_escalation_request, normal_spacing
from routing.references import extract_references
from routing.refunds import refund_clauses
from routing.required_info import applies, missing_fields, outside_window
from routing.similarity import fingerprint
from routing.textnorm import read

# "best seller" / "top seller" praise a product; they name no seller the customer has an issue with
_SELLER_MENTION = re.compile(r"(?<!\bbest[ -])(?<!\btop[ -])\b(seller|vendor|merchant|store owner|shop owner)s?\b",
                             re.IGNORECASE)
_SELLER_WORDS = ("seller", "vendor", "merchant", "store owner", "shop owner")
_BUYER_SIDE = {"order_status", "shipping_delivery", "returns_refunds", "payment_billing"}


@dataclass(slots=True)
class Analysis:
    category: str
    confidence: float
    abusive: bool
    abuse_kinds: list[str]
    references: set[str]
    full_text: str  # subject line and text, as the detectors read them
    flags: list[F] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
    out_of_scope_rejected: str | None = None  # the out-of-scope rule that rejects, if any
    chargeback: str | None = None  # "filed" or "threatened" (routing.escalation.chargeback_stance)
    # the categorizer's two best candidates with their scores (routing.categorize.Brief.candidates)
    candidates: tuple[tuple[str, float], tuple[str, float] | None] = (("general", 0.0), None)
    _tokens: frozenset[str] | None = None

    @property
    def tokens(self) -> frozenset[str]:
        """The text's content-word fingerprint, made when dedupe first compares it with an open item."""
        if self._tokens is None:
            self._tokens = fingerprint(self.full_text)
        return self._tokens


def full_text(message: InboundMessage) -> str:
    """Subject line and text, as the detectors read them."""
    text = message.text or ""
    return f"{message.subject}\n{text}" if message.subject else text


def analyse(message: InboundMessage, cp: CompiledPolicy) -> Analysis:
    policy = cp.policy
    text = message.text or ""
    subject = message.subject
    full = full_text(message)
    category, confidence, cues, candidates = categorize_brief(read(text), read(subject) if subject else None,
                                                              cp.category_pool)
    kinds, abuse_evidence = abuse_cues(full)
    result = Analysis(
        category=category,
        confidence=confidence,
        abusive=bool(kinds),
        abuse_kinds=kinds,
        references=extract_references(full, cp.references),
        full_text=full,
        candidates=candidates,
    )
    result.trace.append(TraceStep(rule="categorize", outcome=category,
                                  detail=f"confidence {confidence:.2f}; cues: {', '.join(cues) or 'none'}"))
    if not text.strip():
        result.flags.append(F.empty)
    if kinds:
        result.flags.append(F.abusive)
        if "threat" in kinds:
            result.flags.append(F.threat)
        result.trace.append(TraceStep(rule="abuse", outcome="abusive",
                                      detail=f"{', '.join(kinds)}: {', '.join(abuse_evidence[:4])}"))
    if detect_escalation_request(text):
        result.flags.append(F.escalation_requested)
        result.trace.append(TraceStep(rule="escalation", outcome="requested", detail="customer asked for escalation"))
    if policy.chargeback:
        result.chargeback = chargeback_stance(text)
        if result.chargeback:
            result.flags.append(F.chargeback)
        if result.chargeback == "threatened":
            result.flags.append(F.chargeback_threatened)
    refunds = policy.refunds
    cooling_off = refunds is not None and refunds.cooling_off is not None  # its own patterns, outside the gate
    if cooling_off or (cp.refund_gate is not None and cp.refund_gate.search(normal_spacing(full))):
        refund_clauses(result, message, full, cp)  # else no clause can apply
    _seller_flags(result, full)
    if cp.out_of_scope_gate is not None and cp.out_of_scope_gate.search(full):
        _out_of_scope(result, full, cp)
    _required_info(result, message, full, cp)
    if result.references:
        result.trace.append(TraceStep(rule="references", outcome=", ".join(sorted(result.references))))
    return result


def _seller_flags(result: Analysis, text: str) -> None:
    if result.category == "seller_support":
        result.flags.append(F.seller)
    elif result.category in _BUYER_SIDE and _mentions_seller(text):
        result.flags.append(F.seller_dispute)
        result.trace.append(TraceStep(rule="seller_dispute", outcome="flagged", detail="buyer issue naming a seller"))


def _mentions_seller(text: str) -> bool:
    # ASCII text holds no character IGNORECASE folds onto a letter differently from lower(): skip the pattern
    # unless one of its words is there
    if text.isascii():
        low = text.lower()
        if not any(map(low.__contains__, _SELLER_WORDS)):
            return False
    return _SELLER_MENTION.search(text) is not None


def _out_of_scope(result: Analysis, text: str, cp: CompiledPolicy) -> None:
    for rule, (name, patterns) in zip(cp.policy.out_of_scope, cp.out_of_scope):
        hit = next((p.pattern for p in patterns if p.search(text)), None)
        if hit is None:
            continue
        result.flags.append(F.out_of_scope)
        result.trace.append(TraceStep(rule=f"out_of_scope.{name}", outcome=rule.action, detail=f"matched {hit!r}"))
        if rule.reply:
            result.follow_ups.append(FollowUp(kind=FollowUpKind.auto_reply, text=rule.reply))
        if rule.action == "reject":
            result.out_of_scope_rejected = name
        return


def _required_info(result: Analysis, message: InboundMessage, text: str, cp: CompiledPolicy) -> None:
    for rule, triggers in zip(cp.policy.required_info, cp.required_info_triggers):
        if not applies(rule, result.category, text, triggers, result.flags):
            continue
        missing = missing_fields(rule, message, text, result.references)
        if missing:
            if F.missing_info not in result.flags:
                result.flags.append(F.missing_info)
            result.follow_ups.append(FollowUp(kind=FollowUpKind.request_info, text=rule.request, fields=missing))
        result.trace.append(TraceStep(rule=f"required_info.{rule.name}", outcome="missing" if missing else "complete",
                                      detail=", ".join(missing)))
        if rule.date_window is not None:
            old = outside_window(text, message.received_at, rule.date_window.as_timedelta())
            if old is not None:
                result.flags.append(F.outside_window)
                result.trace.append(TraceStep(rule=f"required_info.{rule.name}.window", outcome="outside_window",
                                              detail=f"stated date {old} is more than {rule.date_window} before receipt"))
