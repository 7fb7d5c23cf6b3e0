"""What the chat widget shows about a tenant's hours: open now or not, the weekly hours, and when it answers."""

from __future__ import annotations

from datetime import datetime

from contracts.channels import ChannelKind
from routing.compiled import compile_policy
from routing.policy import TenantPolicy
from routing.policy.models import WEEKDAYS

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "bd": "business days"}


def chat_hours(policy: TenantPolicy, now: datetime) -> dict:
    """The widget's hours panel for `now`, from the tenant's chat calendar and its chat SLA rule."""
    compiled = compile_policy(policy)
    calendar = compiled.calendar_for(ChannelKind.chat)
    is_open = calendar.is_open(now)
    opening = calendar.next_opening(now)
    first_response, _ = compiled.sla_clocks(ChannelKind.chat, None, [])
    within = first_response.target.within if first_response else None
    answer = f"{within.amount:g} {_UNITS[within.unit]}" if within else None
    holiday = calendar.holiday_name(calendar.local_date(now)) if calendar.spec.closed_on_public_holidays else None
    if is_open:
        status = f"We're online. We usually answer within {answer}." if answer else "We're online."
    else:
        when = _when(opening, now.astimezone(opening.tzinfo))
        status = f"We're offline{f' for {holiday}' if holiday else ''}. Leave a message and we'll answer {when}."
    return {"tenant": policy.tenant, "name": policy.name, "timezone": calendar.timezone, "open": is_open,
            "status": status, "hours": weekly_lines(calendar.spec.weekly),
            "closed_on_public_holidays": calendar.spec.closed_on_public_holidays,
            "next_opening": None if is_open else opening.isoformat(), "first_response": answer}


def weekly_lines(weekly: dict[str, list[str]]) -> list[str]:
    """`Mon–Sat 08:00–20:00`: consecutive days with the same hours on one line; closed days left out."""
    lines: list[str] = []
    run: list[str] = []
    for day in (*WEEKDAYS, None):
        hours = weekly.get(day, []) if day else None
        if run and (day is None or weekly.get(run[0], []) != hours):
            first, last = run[0].title(), run[-1].title()
            days = first if len(run) == 1 else f"{first}–{last}"
            spans = ", ".join(h.replace("-", "–") for h in weekly[run[0]])
            lines.append("Every day 24 hours" if len(run) == 7 and spans == "00:00–24:00" else f"{days} {spans}")
            run = []
        if day and hours:
            run.append(day)
    return lines


def _when(opening: datetime, local_now: datetime) -> str:
    clock = f"{opening.strftime('%H:%M')} ({opening.tzname()})"
    if opening.date() == local_now.date():
        return f"today from {clock}"
    if (opening.date() - local_now.date()).days == 1:
        return f"tomorrow from {clock}"
    return f"on {opening.strftime('%A')} from {clock}"
