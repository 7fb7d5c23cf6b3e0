"""SLA rule selection and deadline computation on a tenant's business calendar."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
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


def select_sla_rules(
    rules: Sequence[SlaRule], *, channel: ChannelKind, category: str | None, flags: Collection[str]
) -> tuple[SlaRule | None, SlaRule | None]:
    """(first-response rule, resolution rule): for each target, the first matching rule that sets it.

    So a rule that sets only a resolution target (Izonie's seller disputes) adds it to the first response of
    whichever later rule matches (the channel's promise).
    """
    present = {str(flag) for flag in flags}
    first = resolution = None
    for rule in rules:
        if not _matches(rule.match, channel, category, present):
            continue
        if first is None and rule.first_response is not None:
            first = rule
        if resolution is None and rule.resolution is not None:
            resolution = rule
        if first is not None and resolution is not None:
            break
    if first is None and resolution is None:
        select_sla_rule(rules, channel=channel, category=category, flags=present)  # raises: no catch-all
    return first, resolution


@dataclass(frozen=True, slots=True)
class SlaClock:
    """One target of one rule: it starts at the next opening of `opens` (or at receipt) and counts on `counts`."""

    rule: SlaRule
    target: SlaTarget
    opens: BusinessCalendar
    counts: BusinessCalendar


def compute_sla(
    rule: SlaRule, calendar: BusinessCalendar, received_at: datetime, *, default_warn_at: float,
    calendars: Mapping[str, BusinessCalendar] | None = None,
) -> SlaTargets:
    """Deadlines of one rule's targets on `calendar` (a target naming its own calendar counts on that one,
    looked up in `calendars`); see `compute_targets`."""
    def clock(target: SlaTarget | None) -> SlaClock | None:
        if target is None:
            return None
        counts = calendars[target.calendar] if calendars is not None and target.calendar else calendar
        return SlaClock(rule, target, calendar, counts)

    if rule.first_response is None and rule.resolution is None:
        raise ValueError(f"SLA rule {rule.name!r} sets no target; give first_response or resolution")
    return compute_targets(clock(rule.first_response), clock(rule.resolution), received_at,
                           default_warn_at=default_warn_at)


def compute_targets(
    first: SlaClock | None, resolution: SlaClock | None, received_at: datetime, *, default_warn_at: float
) -> SlaTargets:
    """Deadlines and warning times for a message received at `received_at`, in the tenant zone.

    A business clock runs only while its counting calendar is open, so it starts at the next opening. A
    calendar clock starts at the next opening of its rule's calendar when `rule.start == "next_opening"`, else
    at receipt. Warnings fire once `warn_at` (the target's, else `default_warn_at`) of the target has elapsed
    on the target's own clock.
    """
    primary = first or resolution
    if primary is None:
        raise ValueError("no SLA target to compute; give first_response or resolution")

    def start_of(clock: SlaClock) -> tuple[int, datetime]:
        # Instants are epoch microseconds here; each is made a zoned datetime once (the same one the calendar
        # methods would give), and the calendar remembers the last one, so the checks on it stay cheap.
        if clock.target.clock == "business" or clock.rule.start == "next_opening":
            opening = clock.opens.next_opening_micros(received_at)
            if clock.counts is clock.opens or clock.target.clock != "business":
                return opening
            return clock.counts.next_opening_micros(opening[1])
        return clock.opens.probe(received_at)

    def deadlines(clock: SlaClock | None) -> tuple[datetime | None, datetime | None]:
        if clock is None:
            return None, None
        share = clock.target.warn_at if clock.target.warn_at is not None else default_warn_at
        return _deadline(clock.target, clock.counts, start_of(clock), share)

    first_due, first_warn = deadlines(first)
    resolution_due, resolution_warn = deadlines(resolution)
    other_rule = resolution is not None and first is not None and resolution.rule is not first.rule
    other_calendar = resolution is not None and first is not None and resolution.counts is not first.counts
    return SlaTargets(
        timezone=primary.counts.timezone,
        clock=primary.target.clock,
        calendar=primary.counts.name,
        started_at=start_of(primary)[1],
        first_response_due=first_due,
        first_response_warn_at=first_warn,
        resolution_due=resolution_due,
        resolution_warn_at=resolution_warn,
        resolution_clock=resolution.target.clock if resolution else None,
        rule=primary.rule.name,
        escalate_to=primary.rule.escalate_to or (resolution.rule.escalate_to if resolution else None),
        resolution_rule=resolution.rule.name if resolution is not None and other_rule else None,
        resolution_calendar=resolution.counts.name if resolution is not None and other_calendar else None,
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
    due = open_or_next(calendar.at_micros(start_us + length // _TICK), calendar)
    return due, min(warn, due)


def open_or_next(due: datetime, calendar: BusinessCalendar) -> datetime:
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
