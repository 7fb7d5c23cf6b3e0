"""Clocks the runtime is given (contracts.ports.Clock): the system clock, and a faster one for demos."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ScaledClock:
    """Time that runs `speed` times faster than the wall clock from `origin` on (demo SLAs fire in seconds).

    Elapsed time is measured on the monotonic clock, so a wall-clock step (NTP) does not make it jump.
    """

    def __init__(self, speed: float, origin: datetime) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        self.speed = speed
        self.origin = origin
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self.origin + (time.monotonic() - self._started) * timedelta(seconds=self.speed)

    def describe(self) -> str:
        """A line for the operator: how fast this clock runs."""
        hours = self.speed / 3600
        span = f"{hours:g} hour(s)" if hours >= 1 else f"{self.speed / 60:g} minute(s)"
        return f"{span} of SLA time per real second ({self.speed:g}x)"
