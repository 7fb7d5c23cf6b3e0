"""Where a paused clock's deadlines fall when the customer answers: the time it had left, counted on."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.workitem import WorkItem
from routing.calendar import BusinessCalendar
from routing.compiled import compile_policy
from routing.policy import TenantPolicy
from routing.sla import open_or_next
from workers.runtime.sla_store import PausedClock


def calendar_of(item: WorkItem | None, policies: dict[str, TenantPolicy]) -> BusinessCalendar | None:
    """The calendar the item's SLA was computed on; None when unknown (then calendar time is used)."""
    if item is None or item.sla is None or item.tenant not in policies:
        return None
    return compile_policy(policies[item.tenant]).calendars.get(item.sla.calendar)


def resumed_deadlines(paused: list[PausedClock], calendar: BusinessCalendar,
                      now: datetime) -> dict[str, tuple[datetime, datetime | None]]:
    """clock kind -> (due, warn) for every paused clock.

    A business-hours clock gets the open time it had left, counted on the calendar from `now`. A calendar-time
    clock gets the elapsed time it had left, and, as at routing time, a due time that falls while the calendar is
    closed moves to the next opening (its warning never after it).
    """
    out = {}
    for clock in paused:
        if clock.clock == "business":
            out[clock.kind] = (_carry(calendar, clock.paused_at, clock.due, now),
                               _carry(calendar, clock.paused_at, clock.warn, now) if clock.warn else None)
            continue
        due = open_or_next(now + max(clock.due - clock.paused_at, timedelta(0)), calendar)
        warn = min(now + max(clock.warn - clock.paused_at, timedelta(0)), due) if clock.warn else None
        out[clock.kind] = (due, warn)
    return out


def _carry(calendar: BusinessCalendar, paused_at: datetime, deadline: datetime, now: datetime) -> datetime:
    left = calendar.business_time_between(paused_at, deadline) if deadline > paused_at else timedelta(0)
    return calendar.add_business_time(now, left)
