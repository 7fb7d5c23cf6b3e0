"""Deadlines of paused SLA clocks when the customer answers (workers.runtime.sla_business_time), as units."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from routing.compiled import compile_policy
from routing_helpers import local, policy
from workers.runtime.sla_business_time import resumed_deadlines
from workers.runtime.sla_store import PausedClock

SUPPORT = compile_policy(policy("alkonect")).calendars["support"]


def paused(kind: str, clock: str, left: timedelta, warn_left: timedelta | None = None) -> PausedClock:
    at = local("alkonect", "2026-11-23T10:00:00")
    return PausedClock(kind=kind, clock=clock, paused_at=at, due=at + left,
                       warn=at + warn_left if warn_left is not None else None)


@pytest.mark.parametrize(("now", "left", "warn_left", "due", "warn"), [
    # Thursday 15:00 with 22 hours left: Friday 13:00, open, is kept
    ("2026-11-26T15:00:00", 22, 10, "2026-11-27T13:00:00", "2026-11-27T01:00:00"),
    # Friday 15:00 with 22 hours left: Saturday 13:00 is closed, so Monday 09:00
    ("2026-11-27T15:00:00", 22, 10, "2026-11-30T09:00:00", "2026-11-28T01:00:00"),
    # the warning never falls after the deadline
    ("2026-11-27T17:00:00", 1, 3, "2026-11-27T18:00:00", "2026-11-27T18:00:00"),
    # Thursday 31 December 15:00 with 22 hours left: 1 January is a public holiday, then a weekend
    ("2026-12-31T15:00:00", 22, None, "2027-01-04T09:00:00", None),
])
def test_resumed_calendar_clock_never_falls_in_closed_hours(now, left, warn_left, due, warn) -> None:
    clock = paused("first_response", "calendar", timedelta(hours=left),
                   timedelta(hours=warn_left) if warn_left is not None else None)
    got = resumed_deadlines([clock], SUPPORT, local("alkonect", now))
    assert got["first_response"] == (local("alkonect", due), local("alkonect", warn) if warn else None)


def test_resumed_business_clock_carries_its_open_time() -> None:
    clock = paused("resolution", "business", timedelta(hours=3))  # Monday 10:00-13:00: 3 open hours left
    got = resumed_deadlines([clock], SUPPORT, local("alkonect", "2026-11-27T17:00:00"))
    assert got["resolution"] == (local("alkonect", "2026-11-30T11:00:00"), None)
