"""Refund clauses: which exception or exclusion a request names, the channel refunds go by, final decisions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from contracts.decision import DecisionFlag as F
from contracts.decision import FollowUp, FollowUpKind, TraceStep
from contracts.inbound import InboundMessage
from routing.compiled import CompiledPolicy
from routing.escalation import affirmed_in, normal_spacing
from routing.policy.models import CoolingOff
from routing.required_info import outside_window, stated_dates

if TYPE_CHECKING:
    from routing.analysis import Analysis
    from routing.calendar import BusinessCalendar


def refund_clauses(result: Analysis, message: InboundMessage, text: str, cp: CompiledPolicy) -> None:
    """Flags, follow-ups and trace steps for the policy's refund clauses (`refunds` in the policy file)."""
    rules = cp.policy.refunds
    if rules is None:
        return
    norm = normal_spacing(text)  # what the intent patterns read, spaced once for all of them
    if cp.appeals and rules.decision_final is not None and any(affirmed_in(rx, norm) for rx in cp.appeals):
        result.flags.append(F.decision_final)
        result.trace.append(TraceStep(rule="refunds.decision_final", outcome="appeal of a final decision",
                                      detail=rules.decision_final.wording))
        return
    if rules.cooling_off is not None:
        _cooling_off(result, message, text, norm, cp, rules.cooling_off)
    if cp.refund_requests and any(affirmed_in(rx, norm) for rx in cp.refund_requests):
        result.flags.append(F.refund_request)
        result.trace.append(TraceStep(rule="refunds.request", outcome="refund requested"))
    else:
        return
    for case, patterns in zip(rules.cases, cp.refund_cases):
        if not any(affirmed_in(rx, norm) for rx in patterns):
            continue
        result.flags.append(F.refund_exception if case.refundable else F.refund_excluded)
        said = [f"evidence: {', '.join(case.evidence)}"] if case.evidence else []
        if case.window is not None:
            old = outside_window(text, message.received_at, case.window.as_timedelta())
            said.append(f"stated date {old} is older than {case.window}" if old else f"within {case.window}")
        if case.note:
            said.append(case.note)
        result.trace.append(TraceStep(rule=f"refunds.{case.name}",
                                      outcome=f"{'exception' if case.refundable else 'excluded'} {case.section}",
                                      detail="; ".join(said)))
        break
    if rules.request_channels is not None and message.channel not in rules.request_channels:
        where = ", ".join(c.value for c in rules.request_channels)
        result.trace.append(TraceStep(rule="refunds.channel", outcome="pointer sent",
                                      detail=f"refund requests are made by {where}; routed all the same"))
        if rules.other_channel_reply:
            result.follow_ups.append(FollowUp(kind=FollowUpKind.auto_reply, text=rules.other_channel_reply))


_DAYS_AGO = re.compile(r"\b(today|yesterday|(\d|one|two|three|four|five|six|seven|eight|nine|ten) days? ago)\b",
                       re.IGNORECASE)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _cooling_off(result: Analysis, message: InboundMessage, text: str, norm: str, cp: CompiledPolicy,
                 rule: CoolingOff) -> None:
    """A cancellation after a sign-up of the policy's kind: within the period, the full-refund path (`cooling_off`)."""
    if not (any(affirmed_in(re.compile(p, re.IGNORECASE), norm) for p in rule.cancel_patterns)
            and any(re.search(p, text, re.IGNORECASE) for p in rule.sign_up_patterns)):
        return
    received = message.received_at.astimezone(cp.calendars[rule.calendar].tz).date()
    signed = _sign_up_date(text, received)
    name = "refunds.cooling_off"
    if signed is None:
        result.flags.append(F.cooling_off)
        result.trace.append(TraceStep(rule=name, outcome=f"cooling-off cancellation {rule.section}",
                                      detail=f"sign-up date not stated: confirm it is within {rule.within}; {rule.wording}"))
        return
    if rule.within.unit == "bd":
        elapsed = _business_days_between(signed, received, cp.calendars[rule.calendar])
        inside, said = elapsed <= rule.within.amount, f"{elapsed} business days after the sign-up on {signed}"
    else:
        inside = received - signed <= rule.within.as_timedelta()
        said = f"{(received - signed).days} days after the sign-up on {signed}"
    if inside:
        result.flags.append(F.cooling_off)
        result.trace.append(TraceStep(rule=name, outcome=f"cooling-off cancellation {rule.section}",
                                      detail=f"{said}; {rule.wording}"))
    else:
        result.trace.append(TraceStep(rule=name, outcome=f"outside the cooling-off period {rule.section}",
                                      detail=f"{said}, more than {rule.within}"))


def _sign_up_date(text: str, today: date) -> date | None:
    """The latest date the text states that is not after `today` (`3 December`, `yesterday`, `2 days ago`)."""
    found = [d for d in stated_dates(text, today) if d <= today]
    for word, count in _DAYS_AGO.findall(text):
        word = word.lower()
        back = 0 if word == "today" else 1 if word == "yesterday" else int(_NUMBERS.get(count.lower(), count or 0))
        found.append(today - timedelta(days=back))
    return max(found, default=None)


def _business_days_between(start: date, end: date, calendar: BusinessCalendar) -> int:
    """Business days after `start` up to and including `end` (days the calendar opens at all)."""
    days, day = 0, start + timedelta(days=1)
    while day <= end and days < 366:
        days += bool(calendar.open_intervals(day))
        day += timedelta(days=1)
    return days
