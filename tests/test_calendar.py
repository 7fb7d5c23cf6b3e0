"""Business calendar: opening hours, holidays, exceptions, DST and business-time arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.calendar import BusinessCalendar, CalendarNeverOpens
from routing.compiled import compile_policy
from routing.policy.models import CalendarSpec, ExceptionDay, HolidaySpec
from routing_helpers import policy

LAGOS, JOBURG = ZoneInfo("Africa/Lagos"), ZoneInfo("Africa/Johannesburg")
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
WEEKDAYS5 = ("mon", "tue", "wed", "thu", "fri")


def calendar(weekly: dict, zone: str = "Africa/Lagos", country: str = "NG", **spec) -> BusinessCalendar:
    return BusinessCalendar(CalendarSpec(weekly=weekly, **spec), zone, HolidaySpec(country=country))


def every(days, *hours: str) -> dict[str, list[str]]:
    return {day: list(hours) for day in days}


# the shipped policies' calendars (deploy/policies/*.yaml), never copies of them
ALKONECT = compile_policy(policy("alkonect")).calendars["support"]
IZONIE_CHAT = compile_policy(policy("izonie")).calendars["live_chat"]
CONEK = compile_policy(policy("conek")).calendars["support"]
SPLIT = calendar(
    every(WEEKDAYS5, "09:00-12:00", "13:00-17:00"),
    exceptions=[
        ExceptionDay(date=date(2026, 7, 15), hours=[], note="staff day"),
        ExceptionDay(date=date(2026, 7, 16), hours=["09:00-11:00"]),
        ExceptionDay(date=date(2026, 10, 1), hours=["10:00-14:00"], note="open on National Day"),
        ExceptionDay(date=date(2026, 7, 18), hours=["10:00-12:00"], note="a Saturday opening"),
    ],
)
LONDON_NIGHTS = calendar(every(("sat", "sun", "mon"), "00:00-04:00", "09:00-17:00"), "Europe/London", "GB")
LONDON_247 = calendar(every(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "00:00-24:00"), "Europe/London", "GB")
LONDON_ODD = calendar({"sun": ["00:00-01:30", "01:30-03:00"]}, "Europe/London", "GB", closed_on_public_holidays=False)
NEW_YORK_NIGHTS = calendar(every(WEEKDAYS5 + ("sun",), "01:00-04:00", "09:00-17:00"), "America/New_York", "US")
LATE = calendar({"sat": ["20:00-24:00"], "sun": ["00:00-02:00"]}, closed_on_public_holidays=False)


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def same(a: datetime, b: datetime) -> bool:
    # PEP 495: an aware datetime inside a repeated DST hour never compares == to one in another zone
    return a.astimezone(UTC) == b.astimezone(UTC)


@pytest.mark.parametrize(
    "cal, received, delta, due",
    [
        # Alkonect Mon-Fri 09:00-18:00 WAT: Friday 17:30 + 2h -> Monday 10:30
        (ALKONECT, at(LAGOS, 2026, 7, 10, 17, 30), timedelta(hours=2), at(LAGOS, 2026, 7, 13, 10, 30)),
        (ALKONECT, at(LAGOS, 2026, 7, 11, 12, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 13, 11, 0)),
        (ALKONECT, at(LAGOS, 2026, 7, 13, 8, 0), timedelta(hours=9), at(LAGOS, 2026, 7, 13, 18, 0)),
        # Christmas (Fri), Boxing Day (Sat) observed on Monday 28 December 2026
        (ALKONECT, at(LAGOS, 2026, 12, 24, 17, 0), timedelta(hours=2), at(LAGOS, 2026, 12, 29, 10, 0)),
        # Good Friday 3 April and Easter Monday 6 April 2026
        (ALKONECT, at(LAGOS, 2026, 4, 2, 17, 0), timedelta(hours=2), at(LAGOS, 2026, 4, 7, 10, 0)),
        # National Day, Thursday 1 October 2026
        (ALKONECT, at(LAGOS, 2026, 9, 30, 17, 30), timedelta(hours=1), at(LAGOS, 2026, 10, 2, 9, 30)),
        # received in UTC, answered in the tenant zone
        (ALKONECT, utc(2026, 7, 10, 16, 30), timedelta(hours=2), at(LAGOS, 2026, 7, 13, 10, 30)),
        # Izonie live chat Mon-Sat 08:00-20:00, 5 minutes
        (IZONIE_CHAT, at(LAGOS, 2026, 7, 11, 19, 58), timedelta(minutes=5), at(LAGOS, 2026, 7, 13, 8, 3)),
        (IZONIE_CHAT, at(LAGOS, 2026, 7, 12, 10, 0), timedelta(minutes=5), at(LAGOS, 2026, 7, 13, 8, 5)),
        (IZONIE_CHAT, at(LAGOS, 2026, 7, 15, 12, 0), timedelta(minutes=5), at(LAGOS, 2026, 7, 15, 12, 5)),
        (IZONIE_CHAT, at(LAGOS, 2026, 6, 12, 12, 0), timedelta(minutes=5), at(LAGOS, 2026, 6, 13, 8, 5)),
        # split shifts and exception dates
        (SPLIT, at(LAGOS, 2026, 7, 13, 11, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 13, 14, 0)),
        (SPLIT, at(LAGOS, 2026, 7, 13, 12, 30), timedelta(minutes=30), at(LAGOS, 2026, 7, 13, 13, 30)),
        (SPLIT, at(LAGOS, 2026, 7, 14, 16, 0), timedelta(hours=3), at(LAGOS, 2026, 7, 16, 11, 0)),
        (SPLIT, at(LAGOS, 2026, 7, 16, 10, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 17, 10, 0)),
        (SPLIT, at(LAGOS, 2026, 7, 17, 16, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 18, 11, 0)),
        (SPLIT, at(LAGOS, 2026, 9, 30, 16, 0), timedelta(hours=2), at(LAGOS, 2026, 10, 1, 11, 0)),
        # 24:00 ends run on into the next day's 00:00 start
        (LATE, at(LAGOS, 2026, 7, 11, 23, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 12, 1, 0)),
        (LATE, at(LAGOS, 2026, 7, 12, 1, 0), timedelta(hours=2), at(LAGOS, 2026, 7, 18, 21, 0)),
        # DST: real elapsed time; London 29 March 2026 01:00 GMT -> 02:00 BST, 25 October 02:00 BST -> 01:00 GMT
        (LONDON_247, at(LONDON, 2026, 3, 28, 23, 0), timedelta(hours=3), utc(2026, 3, 29, 2, 0)),
        (LONDON_247, at(LONDON, 2026, 10, 24, 23, 0), timedelta(hours=3), utc(2026, 10, 25, 1, 0)),
        (LONDON_NIGHTS, utc(2026, 3, 29, 0, 30), timedelta(hours=3), at(LONDON, 2026, 3, 29, 9, 30)),
        (LONDON_NIGHTS, at(LONDON, 2026, 10, 25, 0, 30), timedelta(hours=4), utc(2026, 10, 25, 3, 30)),
        (LONDON_ODD, utc(2026, 3, 29, 0, 0), timedelta(hours=1, minutes=30), utc(2026, 3, 29, 1, 30)),
        # New York: 8 March 2026 02:00 EST -> 03:00 EDT; 1 November 02:00 EDT -> 01:00 EST
        (NEW_YORK_NIGHTS, at(NEW_YORK, 2026, 3, 8, 1, 0), timedelta(hours=1, minutes=30), utc(2026, 3, 8, 7, 30)),
        (NEW_YORK_NIGHTS, at(NEW_YORK, 2026, 11, 1, 1, 0), timedelta(hours=3, minutes=30), utc(2026, 11, 1, 8, 30)),
    ],
)
def test_add_business_time(cal: BusinessCalendar, received: datetime, delta: timedelta, due: datetime) -> None:
    got = cal.add_business_time(received, delta)
    assert same(got, due)
    assert got.tzinfo == cal.tz
    assert cal.business_time_between(received, got) == delta


@pytest.mark.parametrize(
    "cal, received, opening",
    [
        (ALKONECT, at(LAGOS, 2026, 7, 11, 12, 0), at(LAGOS, 2026, 7, 13, 9, 0)),  # Saturday -> Monday 09:00
        (ALKONECT, at(LAGOS, 2026, 7, 13, 12, 0), at(LAGOS, 2026, 7, 13, 12, 0)),  # open: itself
        (ALKONECT, at(LAGOS, 2026, 7, 13, 18, 0), at(LAGOS, 2026, 7, 14, 9, 0)),  # closing time is closed
        (ALKONECT, at(LAGOS, 2026, 12, 24, 18, 0), at(LAGOS, 2026, 12, 29, 9, 0)),
        (SPLIT, at(LAGOS, 2026, 7, 13, 12, 0), at(LAGOS, 2026, 7, 13, 13, 0)),
        (SPLIT, at(LAGOS, 2026, 7, 14, 17, 0), at(LAGOS, 2026, 7, 16, 9, 0)),  # 15 July closed by exception
        (SPLIT, at(LAGOS, 2026, 7, 18, 9, 0), at(LAGOS, 2026, 7, 18, 10, 0)),  # Saturday opened by exception
        (CONEK, at(JOBURG, 2026, 4, 24, 17, 0), at(JOBURG, 2026, 4, 28, 9, 0)),  # Freedom Day Mon 27 April
        (LONDON_ODD, utc(2026, 10, 25, 0, 45), utc(2026, 10, 25, 0, 45)),  # 01:45 BST, first pass
        (LONDON_ODD, utc(2026, 3, 29, 0, 59), utc(2026, 3, 29, 0, 59)),  # 00:59 GMT, before the jump
        (LATE, at(LAGOS, 2026, 7, 11, 19, 0), at(LAGOS, 2026, 7, 11, 20, 0)),
    ],
)
def test_next_opening(cal: BusinessCalendar, received: datetime, opening: datetime) -> None:
    got = cal.next_opening(received)
    assert same(got, opening)
    assert cal.is_open(got)
    assert got.utcoffset() == got.astimezone(cal.tz).utcoffset()


@pytest.mark.parametrize(
    "cal, day, expected_hours",
    [
        (ALKONECT, date(2026, 7, 13), [(time(9), time(18))]),
        (ALKONECT, date(2026, 7, 11), []),
        (ALKONECT, date(2026, 6, 12), []),  # Democracy Day
        (SPLIT, date(2026, 7, 13), [(time(9), time(12)), (time(13), time(17))]),
        (SPLIT, date(2026, 7, 15), []),
        (SPLIT, date(2026, 7, 16), [(time(9), time(11))]),
        (SPLIT, date(2026, 10, 1), [(time(10), time(14))]),
        (CONEK, date(2026, 6, 16), []),  # Youth Day
        (CONEK, date(2026, 6, 17), [(time(9), time(17))]),
    ],
)
def test_open_intervals_wall_clock(cal: BusinessCalendar, day: date, expected_hours: list) -> None:
    got = cal.open_intervals(day)
    assert [(a.timetz().replace(tzinfo=None), b.timetz().replace(tzinfo=None)) for a, b in got] == expected_hours
    assert all(a.tzinfo == cal.tz and a.date() == day for a, _ in got)


def test_24h_end_is_next_midnight() -> None:
    ((start, end),) = LATE.open_intervals(date(2026, 7, 11))
    assert (start, end) == (at(LAGOS, 2026, 7, 11, 20, 0), at(LAGOS, 2026, 7, 12, 0, 0))
    assert LATE.is_open(at(LAGOS, 2026, 7, 11, 23, 59, 59)) and LATE.is_open(at(LAGOS, 2026, 7, 12, 0, 0))


def _real_hours(cal: BusinessCalendar, day: date) -> list[float]:
    return [(b.astimezone(UTC) - a.astimezone(UTC)) / timedelta(hours=1) for a, b in cal.open_intervals(day)]


@pytest.mark.parametrize(
    "cal, day, hours",
    [
        (LONDON_NIGHTS, date(2026, 3, 29), [3, 8]),  # 00:00-04:00 loses the skipped hour; 09:00-17:00 intact
        (LONDON_NIGHTS, date(2026, 10, 25), [5, 8]),  # ... and gains the repeated one
        (LONDON_NIGHTS, date(2026, 3, 28), [4, 8]),
        (LONDON_247, date(2026, 3, 29), [23]),
        (LONDON_247, date(2026, 10, 25), [25]),
        (LONDON_ODD, date(2026, 3, 29), [1, 1]),  # 01:30 does not exist: both shifts meet at the jump
        (LONDON_ODD, date(2026, 10, 25), [1.5, 2.5]),  # 01:30 means its first occurrence
        (NEW_YORK_NIGHTS, date(2026, 3, 8), [2, 8]),
        (NEW_YORK_NIGHTS, date(2026, 11, 1), [4, 8]),
    ],
)
def test_dst_days(cal: BusinessCalendar, day: date, hours: list[float]) -> None:
    assert _real_hours(cal, day) == hours
    start, end = cal.open_intervals(day)[0][0], cal.open_intervals(day)[-1][1]
    assert cal.business_time_between(start, end) == timedelta(hours=sum(hours))


def test_dst_gap_shift_starts_at_the_change() -> None:
    only_gap = calendar({"sun": ["01:30-03:00"]}, "Europe/London", "GB", closed_on_public_holidays=False)
    assert not only_gap.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert only_gap.is_open(utc(2026, 3, 29, 1, 0))  # 02:00 BST
    assert only_gap.next_opening(utc(2026, 3, 29, 0, 0)) == at(LONDON, 2026, 3, 29, 2, 0)
    # on the repeated hour: open from the first 01:30 BST until 03:00 GMT
    assert only_gap.is_open(utc(2026, 10, 25, 0, 30)) and only_gap.is_open(utc(2026, 10, 25, 1, 15))
    assert not only_gap.is_open(utc(2026, 10, 25, 0, 29))


def test_alkonect_is_closed_on_every_2026_nigerian_weekday_holiday() -> None:
    listed = holidays.country_holidays("NG", years=2026)
    assert {date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1), date(2026, 6, 12),
            date(2026, 10, 1), date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28)} <= set(listed)
    for day, name in listed.items():
        assert ALKONECT.holiday_name(day) == name
        assert ALKONECT.open_intervals(day) == []
    assert ALKONECT.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    assert ALKONECT.holiday_name(date(2026, 12, 29)) is None
    open_weekdays = [d for d in (date(2026, 1, 1) + timedelta(n) for n in range(365))
                     if d.weekday() < 5 and d not in listed]
    assert all(ALKONECT.open_intervals(d) for d in open_weekdays)


def test_public_holidays_can_stay_open() -> None:
    open_anyway = calendar(every(WEEKDAYS5, "09:00-18:00"), closed_on_public_holidays=False)
    assert open_anyway.holiday_name(date(2026, 12, 25)) == "Christmas Day"
    assert open_anyway.is_open(at(LAGOS, 2026, 12, 25, 10, 0))
    assert not ALKONECT.is_open(at(LAGOS, 2026, 12, 25, 10, 0))


@pytest.mark.parametrize(
    "cal, start, days, due",
    [
        (CONEK, at(JOBURG, 2026, 7, 13, 9, 0), 2, at(JOBURG, 2026, 7, 14, 17, 0)),
        (CONEK, at(JOBURG, 2026, 6, 15, 10, 0), 2, at(JOBURG, 2026, 6, 18, 10, 0)),  # Youth Day Tue 16 June
        (CONEK, at(JOBURG, 2026, 12, 14, 9, 0), 10, at(JOBURG, 2026, 12, 29, 17, 0)),  # Reconciliation, Christmas
        (CONEK, at(JOBURG, 2026, 7, 10, 16, 0), 0.5, at(JOBURG, 2026, 7, 13, 12, 0)),
        (ALKONECT, at(LAGOS, 2026, 7, 10, 17, 30), 5, at(LAGOS, 2026, 7, 17, 17, 30)),
    ],
)
def test_add_business_days(cal: BusinessCalendar, start: datetime, days: float, due: datetime) -> None:
    assert same(cal.add_business_days(start, days), due)


def test_standard_day_is_longest_weekday() -> None:
    assert CONEK.standard_day == timedelta(hours=8)
    assert SPLIT.standard_day == timedelta(hours=7)
    assert LONDON_247.standard_day == timedelta(hours=24)
    mixed = calendar({"mon": ["09:00-13:00"], "tue": ["08:00-12:00", "13:00-19:30"]})
    assert mixed.standard_day == timedelta(hours=10, minutes=30)


def test_business_time_between() -> None:
    assert SPLIT.business_time_between(at(LAGOS, 2026, 7, 13, 10), at(LAGOS, 2026, 7, 13, 14)) == timedelta(hours=3)
    week = ALKONECT.business_time_between(at(LAGOS, 2026, 12, 21), at(LAGOS, 2026, 12, 28))
    assert week == timedelta(hours=36)  # Mon-Thu; Christmas Friday is closed
    assert ALKONECT.business_time_between(at(LAGOS, 2026, 12, 28), at(LAGOS, 2026, 12, 21)) == -week


def test_rejects_naive_and_bad_configuration() -> None:
    with pytest.raises(ValueError, match="naive"):
        ALKONECT.is_open(datetime(2026, 7, 13, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        ALKONECT.add_business_time(datetime(2026, 7, 13, 10, 0), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        ALKONECT.add_business_time(at(LAGOS, 2026, 7, 13, 10), timedelta(hours=-1))
    with pytest.raises(ValueError, match="IANA"):
        calendar(every(WEEKDAYS5, "09:00-17:00"), zone="Africa/Atlantis")
    with pytest.raises(ValueError, match="XX"):
        calendar(every(WEEKDAYS5, "09:00-17:00"), country="XX")


def test_never_open_calendar_raises_after_horizon() -> None:
    never = BusinessCalendar(CalendarSpec.model_construct(weekly={"mon": []}, closed_on_public_holidays=True,
                                                          exceptions=[]), "Africa/Lagos", HolidaySpec(country="NG"))
    with pytest.raises(CalendarNeverOpens, match="no opening hours"):
        never.next_opening(at(LAGOS, 2026, 1, 1))
    with pytest.raises(CalendarNeverOpens):
        never.add_business_time(at(LAGOS, 2026, 1, 1), timedelta(minutes=1))


@pytest.mark.parametrize("tenant", ["alkonect", "izonie", "conek"])
def test_deploy_policy_calendars_build_and_open_within_a_week(tenant: str) -> None:
    path = Path(__file__).resolve().parents[1] / "deploy" / "policies" / f"{tenant}.yaml"
    if not path.is_file():
        pytest.skip(f"{path} not written yet")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, spec in raw["calendars"].items():
        cal = BusinessCalendar(CalendarSpec.model_validate(spec), raw["timezone"],
                               HolidaySpec.model_validate(raw["holidays"]), name)
        monday = datetime(2026, 7, 13, tzinfo=cal.tz)
        assert cal.next_opening(monday) - monday < timedelta(days=7)


# --- properties -----------------------------------------------------------------------------------------------

CALENDARS = [ALKONECT, IZONIE_CHAT, CONEK, SPLIT, LONDON_NIGHTS, LONDON_ODD, NEW_YORK_NIGHTS, LATE]
calendars = st.sampled_from(CALENDARS)
instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
deltas = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=300))


def _at_open_or_end(cal: BusinessCalendar, moment: datetime) -> bool:
    day = cal.local_date(moment)
    spans = cal.open_intervals(day - timedelta(days=1)) + cal.open_intervals(day)
    return any(a <= moment <= b for a, b in spans)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, received=instants, delta=deltas)
def test_property_add_business_time(cal: BusinessCalendar, received: datetime, delta: timedelta) -> None:
    due = cal.add_business_time(received, delta)
    assert due >= received
    assert due >= cal.next_opening(received) or delta == timedelta(0)
    assert _at_open_or_end(cal, due)
    assert cal.business_time_between(received, due) == delta
    assert cal.business_time_between(cal.next_opening(received), due) == delta


@settings(max_examples=200, deadline=None)
@given(cal=calendars, received=instants)
def test_property_next_opening_is_open_and_idempotent(cal: BusinessCalendar, received: datetime) -> None:
    opening = cal.next_opening(received)
    assert opening >= received and cal.is_open(opening)
    assert same(cal.next_opening(opening), opening)
    assert cal.business_time_between(received, opening) == timedelta(0)
    assert cal.is_open(received) == same(opening, received)


def _reference_is_open(cal: BusinessCalendar, moment: datetime, spec: CalendarSpec, country: str) -> bool:
    """Naive wall-clock reading, valid for zones without DST."""
    local = moment.astimezone(cal.tz)
    exceptions = {e.date: e.hours for e in spec.exceptions}
    if local.date() in exceptions:
        hours = exceptions[local.date()]
    elif spec.closed_on_public_holidays and local.date() in holidays.country_holidays(country, years=local.year):
        hours = []
    else:
        hours = spec.weekly.get(("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()], [])
    now = local.strftime("%H:%M:%S.%f")
    return any(text[:5] <= now < text[6:] for text in hours)  # string order works for HH:MM; 24:00 > any time


@settings(max_examples=200, deadline=None)
@given(cal=st.sampled_from([ALKONECT, IZONIE_CHAT, CONEK, SPLIT, LATE]), moment=instants)
def test_property_is_open_matches_wall_clock_reading(cal: BusinessCalendar, moment: datetime) -> None:
    assert cal.is_open(moment) == _reference_is_open(cal, moment, cal.spec, cal.holidays.country)
