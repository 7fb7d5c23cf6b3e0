"""The route worker's per-record step decides on the injected clock, so its decisions are reproducible."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from routing_helpers import msg, policy

from contracts.inbound import MessageKind
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


def test_an_abuse_quarantine_opens_its_review_item_and_a_bounce_opens_none() -> None:
    clock = StoppedClock(datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc))
    processor = RouteProcessor({"alkonect": policy("alkonect")}, clock)
    state = MemoryState()
    insult = msg("alkonect", "email", "you useless idiots, where is my money", at=RECEIVED, sender="ada@example.net")
    outcome = processor.process(state, b"k", encode(insult), ("support.inbound.v1", 0, 0))
    assert [topic for topic, _, _ in outcome.produce] == ["support.quarantine.v1"]
    item = outcome.opened
    assert item is not None and item.id == outcome.decision.work_item_id and item.queue == "trust_safety"
    assert item.text == insult.text and item.sla is None and "abusive" in item.flags
    assert not state.items  # the review item is not in the routing state: nothing merges into it
    bounce = msg("alkonect", "email", "Delivery Status Notification (Failure)", at=RECEIVED, kind=MessageKind.bounce)
    bounced = processor.process(state, b"k", encode(bounce), ("support.inbound.v1", 0, 1))
    assert bounced.decision.action == "quarantine" and bounced.opened is None
