"""SLA rule selection and deadline computation on a tenant's business calendar."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from contracts.channels import ChannelKind
from contracts.decision import SlaTargets
from routing.calendar import BusinessCalendar
from routing.policy.models import SlaMatch, SlaRule, SlaTarget


def select_sla_rule(
    rules: Sequence[SlaRule], *, channel: ChannelKind, category: str | None, flags: Collection[str]
) -> SlaRule:
    """The first rule whose match holds: every condition it gives, and every flag it lists present."""
    present = {str(flag) for flag in flags}
    for rule in rules:
        if _matches(rule.match, channel, category, present):
            return rule
    raise ValueError(
        f"no SLA rule matches channel={channel}, category={category}, flags={sorted(present)}; "
        "sla.rules must end with a catch-all rule"
    )


def _matches(match: SlaMatch, channel: ChannelKind, category: str | None, flags: set[str]) -> bool:
    if match.channels is not None and channel not in match.channels:
        return False
    if match.categories is not None and category not in match.categories:
        return False
    return match.flags is None or all(flag in flags for flag in match.flags)


def compute_sla(
    rule: SlaRule, calendar: BusinessCalendar, received_at: datetime, *, default_warn_at: float
) -> SlaTargets:
    """Deadlines and warning times of `rule` for a message received at `received_at`, in the tenant zone.

    A business clock runs only while the calendar is open, so it starts at the next opening. A calendar clock
    starts at the next opening when `rule.start == "next_opening"`, else at receipt. Warnings fire once
    `warn_at` (the target's, else `default_warn_at`) of the target has elapsed on the target's own clock.
    """
    primary = rule.first_response or rule.resolution
    if primary is None:
        raise ValueError(f"SLA rule {rule.name!r} sets no target; give first_response or resolution")

    # Instants are epoch microseconds here; each is made a zoned datetime once (the same one the calendar
    # methods would give), and the calendar remembers the last one, so the checks on it stay cheap.
    received = calendar.probe(received_at)
    opening = calendar.next_opening_micros(received_at)

    def start_of(target: SlaTarget) -> tuple[int, datetime]:
        if target.clock == "business" or rule.start == "next_opening":
            return opening
        return received

    def deadlines(target: SlaTarget | None) -> tuple[datetime | None, datetime | None]:
        if target is None:
            return None, None
        share = target.warn_at if target.warn_at is not None else default_warn_at
        return _deadline(target, calendar, start_of(target), share)

    first_due, first_warn = deadlines(rule.first_response)
    resolution_due, resolution_warn = deadlines(rule.resolution)
    return SlaTargets(
        timezone=calendar.timezone,
        clock=primary.clock,
        calendar=calendar.name,
        started_at=start_of(primary)[1],
        first_response_due=first_due,
        first_response_warn_at=first_warn,
        resolution_due=resolution_due,
        resolution_warn_at=resolution_warn,
        resolution_clock=rule.resolution.clock if rule.resolution else None,
        rule=rule.name,
        escalate_to=rule.escalate_to,
    )


def _deadline(
    target: SlaTarget, calendar: BusinessCalendar, start: tuple[int, datetime], share: float
) -> tuple[datetime, datetime]:
    """(due, warn_at) for one target counted from `start` (epoch microseconds, zoned datetime)."""
    within = target.within
    start_us, start_at = start
    if target.clock == "business":
        day = start_at.date()
        length = calendar.standard_day * within.amount if within.unit == "bd" else within.as_timedelta()
        due = calendar.at_micros(calendar.add_business_micros(start_us, day, length))
        return due, calendar.at_micros(calendar.add_business_micros(start_us, day, length * share))
    length = within.as_timedelta()
    # on epoch microseconds: adding to a zoned datetime is wall-clock arithmetic, an hour off across a DST change
    warn = calendar.at_micros(start_us + (length * share) // _TICK)
    due = _open_or_next(calendar.at_micros(start_us + length // _TICK), calendar)
    return due, min(warn, due)


def _open_or_next(due: datetime, calendar: BusinessCalendar) -> datetime:
    """A calendar-clock deadline never falls in a closed period: closed-time work is due at the next opening."""
    if calendar.is_open(due) or calendar.is_open(due - _TICK):
        return due
    return calendar.next_opening(due)


_TICK = timedelta(microseconds=1)


def is_outside_hours(calendar: BusinessCalendar, at: datetime) -> bool:
    """True when the calendar is closed at `at` (the `outside_hours` decision flag)."""
    return not calendar.is_open(at)


def public_holiday(calendar: BusinessCalendar, at: datetime) -> str | None:
    """The public holiday on `at`'s local date in the tenant zone, else None (the `holiday` decision flag).

    Reported whether or not the calendar closes on public holidays; exception dates do not change it.
    """
    return calendar.holiday_name(calendar.local_date(at))


def is_public_holiday(calendar: BusinessCalendar, at: datetime) -> bool:
    return public_holiday(calendar, at) is not None
