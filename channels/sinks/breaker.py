"""A per-sink circuit breaker: after N failed deliveries in a row it opens, then lets one trial through."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    closed = "closed"
    open = "open"
    half_open = "half_open"


class CircuitBreaker:
    """Closed: calls go through. Open (for `open_for_s`): calls are refused. Then one trial decides."""

    def __init__(self, *, failures_to_open: int = 5, open_for_s: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open, self.open_for_s, self.monotonic = failures_to_open, open_for_s, monotonic
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_out = False

    @property
    def state(self) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.closed
        return BreakerState.open if self.monotonic() - self.opened_at < self.open_for_s else BreakerState.half_open

    def allow(self) -> bool:
        """May a call go out now? In half-open only one trial at a time."""
        state = self.state
        if state == BreakerState.closed:
            return True
        if state == BreakerState.half_open and not self.trial_out:
            self.trial_out = True
            return True
        return False

    def record(self, ok: bool) -> None:
        self.trial_out = False
        if ok:
            self.failures, self.opened_at = 0, None
            return
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.failures_to_open:
            self.opened_at = self.monotonic()  # a failed trial opens it again for the full period
