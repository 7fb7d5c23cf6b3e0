"""A tenant's business calendar: opening hours, public holidays, exception dates and business-time arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

from routing.policy.models import WEEKDAYS, CalendarSpec, HolidaySpec, parse_interval

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
HORIZON_DAYS = 3 * 366  # a calendar closed this many days in a row is treated as never opening
_DAY_CACHE_LIMIT = 20_000

Shift = tuple[time, time | None]  # wall-clock start and end; None = 24:00


class CalendarNeverOpens(ValueError):
    """The calendar has no open period within the search horizon."""


class BusinessCalendar:
    """One calendar of a tenant, evaluated in the tenant's time zone.

    Opening hours are wall-clock times. A shift starts at the first instant the local clock shows its start and
    ends at the first instant the clock shows its end: a time skipped by a DST change resolves to the moment of
    the change, and a repeated time to its first occurrence. Business time is real elapsed time inside shifts,
    so a shift spanning a DST change is an hour shorter or longer in real time, and nothing else moves.

    A target used up exactly at closing time is due at that closing time, not at the next opening.
    Business days: `add_business_days(start, n)` adds n x `standard_day` of business time, where the standard day
    is the longest total weekday opening in `weekly` (Conek's 09:00-17:00 makes 2bd = 16 business hours).
    """

    def __init__(self, spec: CalendarSpec, timezone: str, holidays: HolidaySpec, name: str = "support") -> None:
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{timezone!r} is not an IANA time zone; write e.g. Africa/Lagos") from None
        try:
            holidays_lib.country_holidays(holidays.country, subdiv=holidays.subdivision, years=())
        except NotImplementedError as exc:
            raise ValueError(f"no public holidays known for {holidays.country}: {exc}") from None
        self.spec, self.timezone, self.holidays, self.name = spec, timezone, holidays, name
        self._weekly = tuple(_shifts(spec.weekly.get(day, [])) for day in WEEKDAYS)
        self._exceptions = {exc.date: _shifts(exc.hours) for exc in spec.exceptions}
        self._holiday_years: dict[int, dict[date, str]] = {}
        self._days: dict[date, tuple[tuple[int, int], ...]] = {}
        self._last: tuple[datetime | None, int, datetime | None] = (None, 0, None)  # see probe
        self.standard_day = max(sum((_length(s) for s in day), timedelta()) for day in self._weekly)

    # --- queries -------------------------------------------------------------------------------------------

    def local_date(self, at: datetime) -> date:
        return self.probe(at)[1].date()

    def holiday_name(self, day: date) -> str | None:
        """The public holiday on `day` (observed days included), or None."""
        names = self._holiday_years.get(day.year)
        if names is None:
            # the previous year too, in case a holiday's observed day rolls over into this year
            table = holidays_lib.country_holidays(
                self.holidays.country, subdiv=self.holidays.subdivision, years=(day.year - 1, day.year)
            )
            names = self._holiday_years[day.year] = {d: n for d, n in table.items() if d.year == day.year}
        return names.get(day)

    def is_open(self, at: datetime) -> bool:
        u, local = self.probe(at)
        for a, b in self._day(local.date()):
            if a <= u < b:
                return True
        return False

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open periods of local date `day`, as aware datetimes in the tenant zone (24:00 = next midnight)."""
        return [(self._out(a), self._out(b)) for a, b in self._day(day)]

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself (in the tenant zone) when open, else the start of the next open period."""
        return self.next_opening_micros(at)[1]

    def next_opening_micros(self, at: datetime) -> tuple[int, datetime]:
        """`next_opening(at)` with its epoch microseconds."""
        u, local = self.probe(at)
        day = local.date()
        for a, b in self._day(day):  # most often it is open, or opens later, the same day
            if b > u:
                return (u, local) if a <= u else (a, self.at_micros(a))
        for a, _ in self._open_after(u, day):
            return (u, local) if a == u else (a, self.at_micros(a))
        raise AssertionError("unreachable")  # _open_after raises when the calendar never opens

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant at which `delta` of open time has passed since `start`."""
        if delta < timedelta(0):
            raise ValueError(f"business time to add must not be negative, got {delta}")
        u, local = self.probe(start)
        return self.at_micros(self.add_business_micros(u, local.date(), delta))

    def add_business_micros(self, start: int, local_day: date, delta: timedelta) -> int:
        """`add_business_time` on epoch microseconds; `local_day` is the local date of `start`."""
        if delta < timedelta(0):
            raise ValueError(f"business time to add must not be negative, got {delta}")
        left = delta // _US
        for a, b in self._open_after(start, local_day):
            if left <= b - a:
                return a + left
            left -= b - a
        raise AssertionError("unreachable")

    def at_micros(self, micros: int) -> datetime:
        """The instant `micros` (epoch microseconds) in the tenant zone; later questions about it are cheap."""
        local = self._out(micros)
        self._last = (local, micros, local)  # astimezone() to its own zone returns the datetime itself
        return local

    def add_business_days(self, start: datetime, n: float) -> datetime:
        """`n` business days later, a business day being `standard_day` of open time (see the class docstring)."""
        if n < 0:
            raise ValueError(f"business days to add must not be negative, got {n}")
        return self.add_business_time(start, self.standard_day * n)

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time in [a, b); negative when b is before a."""
        ua, ub = _micros(a), _micros(b)
        if ub < ua:
            return -self.business_time_between(b, a)
        total, day, last = 0, self.local_date(a), self.local_date(b)
        while day <= last:
            total += sum(max(0, min(e, ub) - max(s, ua)) for s, e in self._day(day))
            day += _ONE_DAY
        return timedelta(microseconds=total)

    # --- internals -----------------------------------------------------------------------------------------

    def probe(self, at: datetime) -> tuple[int, datetime]:
        """(epoch microseconds, the same instant in the tenant zone); remembers the last `at`, since one decision
        asks about the same receipt time several times."""
        last = self._last
        if last[0] is at:  # identity, not equality: equal datetimes may differ in zone or fold
            return last[1], last[2]  # type: ignore[return-value]
        u = _micros(at)
        local = at.astimezone(self.tz)
        self._last = (at, u, local)
        return u, local

    def _open_after(self, u: int, day: date) -> Iterator[tuple[int, int]]:
        """Open periods (clipped to start no earlier than `u`) from local date `day` on, in order."""
        idle = 0
        while True:
            found = False
            for a, b in self._day(day):
                if b > u:
                    found = True
                    yield max(a, u), b
            idle = 0 if found else idle + 1
            if idle > HORIZON_DAYS:
                raise CalendarNeverOpens(
                    f"calendar {self.name!r} has no opening hours in the {HORIZON_DAYS} days after "
                    f"{day - idle * _ONE_DAY}; check its weekly hours, holidays and exceptions"
                )
            day += _ONE_DAY

    def _shifts_on(self, day: date) -> tuple[Shift, ...]:
        if day in self._exceptions:
            return self._exceptions[day]
        shifts = self._weekly[day.weekday()]
        if shifts and self.spec.closed_on_public_holidays and self.holiday_name(day) is not None:
            return ()
        return shifts

    def _day(self, day: date) -> tuple[tuple[int, int], ...]:
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) >= _DAY_CACHE_LIMIT:
                self._days.clear()
            spans = ((self._instant(day, start), self._instant(day, end)) for start, end in self._shifts_on(day))
            cached = self._days[day] = tuple((a, b) for a, b in spans if a < b)
        return cached

    def _instant(self, day: date, at: time | None) -> int:
        """Epoch microseconds of the first instant the local clock shows `at` on `day` (None = 24:00)."""
        wall = datetime.combine(day + _ONE_DAY, time()) if at is None else datetime.combine(day, at)
        first = int(wall.replace(tzinfo=self.tz).timestamp())  # fold=0: the first of a repeated time
        if datetime.fromtimestamp(first, self.tz).replace(tzinfo=None) == wall:
            return first * 1_000_000
        # `wall` was skipped by a DST change: find the change itself, the first instant showing a later time
        lo, hi = int(wall.replace(tzinfo=self.tz, fold=1).timestamp()), first
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, self.tz).replace(tzinfo=None) >= wall:
                hi = mid
            else:
                lo = mid
        return hi * 1_000_000

    def _out(self, micros: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=micros)).astimezone(self.tz)


def _shifts(intervals: list[str]) -> tuple[Shift, ...]:
    return tuple(sorted(parse_interval(text) for text in intervals))


def _length(shift: Shift) -> timedelta:
    start, end = shift
    end_delta = timedelta(hours=24) if end is None else timedelta(hours=end.hour, minutes=end.minute)
    return end_delta - timedelta(hours=start.hour, minutes=start.minute)


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} is a naive datetime; pass an aware one (with a time zone)")


def _micros(at: datetime) -> int:
    _check_aware(at)
    return (at - _EPOCH) // _US
