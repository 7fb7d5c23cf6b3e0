"""The policy's automatic answer to one decision: acknowledgement with the promised response time, requests for
missing information and the policy's notices (e.g. the official channels), or nothing.

Pure: the workers send what this plans. One answer per decision at most, its paragraphs in a fixed order, and only
for a `route` (new work: merged repeats are not acknowledged again) or a `reject` the customer should hear about
(an unofficial address, an out-of-scope request). Never for abuse, floods, suspended customers, duplicates,
automatic mail, bounces or mailing lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from contracts.decision import (
    Decision,
    DecisionFlag,
    FollowUpKind,
    RejectDecision,
    RouteDecision,
    SlaTargets,
)
from contracts.inbound import AdapterFlag, InboundMessage, MessageKind
from routing.policy import CalendarSpec, SlaTarget, TenantPolicy
from routing.policy.models import WEEKDAYS, Weekday

# A decision with any of these flags gets no automatic answer: it would feed a loop, reward abuse or repeat one.
SILENT_FLAGS = frozenset({
    DecisionFlag.abusive, DecisionFlag.threat, DecisionFlag.rate_limited, DecisionFlag.suspended,
    DecisionFlag.duplicate, DecisionFlag.auto_reply, DecisionFlag.bounce, DecisionFlag.echo,
    DecisionFlag.not_customer_message,
})
_NO_AUTO_ANSWER = frozenset({AdapterFlag.mailing_list, AdapterFlag.auto_submitted, AdapterFlag.echo})
_DAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
_AS_SOON_AS_WE_CAN = "We will answer as soon as we can."
_UNITS = {"s": "second", "m": "minute", "h": "hour", "d": "day", "bd": "business day"}
ALL_DAY = "00:00-24:00"


@dataclass(frozen=True)
class AutomaticAnswer:
    """What to send: why (acknowledgement, request_info, notice) and the text."""

    reasons: tuple[str, ...]
    text: str


def answerable(message: InboundMessage) -> bool:
    """Whether a message may get automatic answers at all: a person's message, not a list's or a robot's."""
    return message.kind == MessageKind.customer_message and not _NO_AUTO_ANSWER.intersection(message.flags)


def automatic_answer(decision: Decision, policy: TenantPolicy) -> AutomaticAnswer | None:
    """The one automatic answer this decision asks for, or None."""
    if decision.tenant != policy.tenant:
        raise ValueError(f"decision is for tenant {decision.tenant!r} but the policy is {policy.tenant!r}")
    if not isinstance(decision, RouteDecision | RejectDecision) or SILENT_FLAGS.intersection(decision.flags):
        return None
    reasons: list[str] = []
    paragraphs: list[str] = []
    if isinstance(decision, RouteDecision) and policy.acknowledgement.enabled and decision.sla is not None:
        reasons.append("acknowledgement")
        paragraphs.append(acknowledgement(decision, policy))
    notices = _texts(decision, FollowUpKind.auto_reply)
    if notices:
        reasons.append("official_channels" if DecisionFlag.unofficial_channel in decision.flags else "notice")
        paragraphs += notices
    requests = _texts(decision, FollowUpKind.request_info)
    if requests:
        reasons.append("request_info")
        paragraphs += requests
    if not paragraphs:
        return None
    footer = (" Please keep the subject line when you reply, so your answer reaches the same case."
              if isinstance(decision, RouteDecision) else "")
    paragraphs.append(f"— {policy.name} support\n(This is an automatic message.{footer})")
    return AutomaticAnswer(tuple(reasons), "\n\n".join(dict.fromkeys(paragraphs)))


def _texts(decision: Decision, kind: FollowUpKind) -> list[str]:
    """The non-blank texts of the decision's follow-ups of this kind, stripped."""
    return [text for f in decision.follow_ups if f.kind == kind and (text := (f.text or "").strip())]


def acknowledgement(decision: RouteDecision, policy: TenantPolicy) -> str:
    """"Thank you ... We will answer within <promise>, at the latest by <deadline>." in the tenant's words."""
    opening = (policy.acknowledgement.text or f"Thank you for writing to {policy.name} support. We have received "
               "your message and opened a case for it.").strip()
    sla = decision.sla
    text = f"{opening} {promise(sla, policy) if sla is not None else _AS_SOON_AS_WE_CAN}"
    if DecisionFlag.outside_hours in decision.flags:
        calendar_name = policy.channels[decision.channel].calendar if decision.channel in policy.channels else None
        calendar = policy.calendars.get(calendar_name or "")
        if calendar is not None:
            why = "on a public holiday" if DecisionFlag.holiday in decision.flags else "outside our support hours"
            text += (f" Your message arrived {why} ({opening_hours(calendar, policy.timezone)}), so this time "
                     "counts from when we are next open.")
    return text


def promise(sla: SlaTargets, policy: TenantPolicy) -> str:
    """The promised response in words, with its deadline on the tenant's clock."""
    target, due = _target(sla, policy)
    if target is None or due is None:
        return _AS_SOON_AS_WE_CAN
    what = "answer" if sla.first_response_due is not None else "resolve your request"
    calendar = policy.calendars.get(target.calendar or sla.calendar)
    counted, business = "", False
    if target.clock == "business" and calendar is not None and not _always_open(calendar):
        if target.within.unit == "bd" or not _all_day(calendar):
            counted, business = f" ({opening_hours(calendar, policy.timezone)})", True
        else:  # hours of whole working days (Alkonect's "48 hours" on Monday to Friday)
            counted = f", counted on {_days_words(calendar)}"
    span = _duration_words(target, business_hours=business)
    return f"We will {what} within {span}{counted}, at the latest by {_when(due, policy.timezone)}."


def opening_hours(calendar: CalendarSpec, timezone: str) -> str:
    """"Monday to Friday 09:00–18:00, Africa/Lagos time, except public holidays"."""
    parts = [f"{span} {'around the clock' if hours == [ALL_DAY] else ', '.join(h.replace('-', '–') for h in hours)}"
             for span, hours in _day_groups(calendar)]
    return f"{'; '.join(parts)}, {timezone} time{_holidays(calendar)}"


def _day_groups(calendar: CalendarSpec) -> list[tuple[str, list[str]]]:
    """Consecutive open days with the same hours: [("Monday to Friday", ["09:00-18:00"]), ...]."""
    groups: list[tuple[list[Weekday], list[str]]] = []
    for n, day in enumerate(WEEKDAYS):
        hours = calendar.weekly.get(day) or []
        if groups and groups[-1][1] == hours and groups[-1][0][-1] == WEEKDAYS[n - 1]:
            groups[-1][0].append(day)
        elif hours:
            groups.append(([day], hours))
    return [(_DAY_NAMES[days[0]] if len(days) == 1 else f"{_DAY_NAMES[days[0]]} to {_DAY_NAMES[days[-1]]}", hours)
            for days, hours in groups]


def _holidays(calendar: CalendarSpec) -> str:
    return ", except public holidays" if calendar.closed_on_public_holidays else ""


def _target(sla: SlaTargets, policy: TenantPolicy) -> tuple[SlaTarget | None, datetime | None]:
    rules = {rule.name: rule for rule in policy.sla.rules}
    if sla.first_response_due is not None and sla.rule in rules:
        return rules[sla.rule].first_response, sla.first_response_due
    rule = rules.get(sla.resolution_rule or sla.rule)
    return (rule.resolution if rule is not None else None), sla.resolution_due


def _duration_words(target: SlaTarget, *, business_hours: bool) -> str:
    amount, unit = target.within.amount, target.within.unit
    number = int(amount) if amount == int(amount) else amount
    business = " business" if business_hours and unit in ("m", "h") else ""
    return f"{number}{business} {_UNITS[unit]}{'' if number == 1 else 's'}"


def _always_open(calendar: CalendarSpec) -> bool:
    return not calendar.closed_on_public_holidays and all(calendar.weekly.get(d) == [ALL_DAY] for d in WEEKDAYS)


def _all_day(calendar: CalendarSpec) -> bool:
    return all(hours == [ALL_DAY] for hours in calendar.weekly.values() if hours)


def _days_words(calendar: CalendarSpec) -> str:
    return f"working days ({'; '.join(span for span, _ in _day_groups(calendar))}{_holidays(calendar)})"


def _when(due: datetime, timezone: str) -> str:
    local = due.astimezone(ZoneInfo(timezone))
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} ({timezone} time)"
