"""Where a paused business-hours clock's deadlines fall when the customer answers: the open time left, counted on."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.workitem import WorkItem
from routing.calendar import BusinessCalendar
from routing.compiled import compile_policy
from routing.policy import TenantPolicy
from workers.runtime.sla_store import PausedClock


def calendar_of(item: WorkItem | None, policies: dict[str, TenantPolicy]) -> BusinessCalendar | None:
    """The calendar the item's SLA was computed on; None when unknown (then calendar time is used)."""
    if item is None or item.sla is None or item.tenant not in policies:
        return None
    return compile_policy(policies[item.tenant]).calendars.get(item.sla.calendar)


def resumed_deadlines(paused: list[PausedClock], calendar: BusinessCalendar,
                      now: datetime) -> dict[str, tuple[datetime, datetime | None]]:
    """clock kind -> (due, warn) for the business-hours clocks; calendar-time clocks are left to the store."""
    out = {}
    for clock in paused:
        if clock.clock != "business":
            continue
        out[clock.kind] = (_carry(calendar, clock.paused_at, clock.due, now),
                           _carry(calendar, clock.paused_at, clock.warn, now) if clock.warn else None)
    return out


def _carry(calendar: BusinessCalendar, paused_at: datetime, deadline: datetime, now: datetime) -> datetime:
    left = calendar.business_time_between(paused_at, deadline) if deadline > paused_at else timedelta(0)
    return calendar.add_business_time(now, left)
