"""The route worker's per-record step decides on the injected clock, so its decisions are reproducible."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from routing_helpers import msg, policy

from routing.state import MemoryState
from workers.runtime.codec import decode_decision, encode
from workers.runtime.route_processor import RouteProcessor

RECEIVED = "2026-11-24T10:00:00"


class StoppedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def _decided_at(clock: StoppedClock) -> datetime:
    message = msg("alkonect", "email", "Where is my order ALK-120044?", at=RECEIVED, sender="ada@example.net")
    outcome = RouteProcessor({"alkonect": policy("alkonect")}, clock).process(MemoryState(), b"k", encode(message),
                                                                           ("support.inbound.v1", 0, 0))
    return decode_decision(outcome.produce[0][2]).decided_at


def test_decisions_are_stamped_by_the_injected_clock() -> None:
    first = datetime(2026, 11, 24, 9, 0, 5, tzinfo=timezone.utc)
    assert _decided_at(StoppedClock(first)) == first
    later = first + timedelta(days=3)
    assert _decided_at(StoppedClock(later)) == later  # not the wall clock: the same input, another clock
