"""Alkonect's support policy, clause by clause, against the shipped deploy/policies/alkonect.yaml."""

from __future__ import annotations

import pytest

from routing_helpers import Stream, local, msg


def flags(decision) -> set[str]:
    return {f.value for f in decision.flags}


@pytest.mark.parametrize(("text", "out_of_scope"), [
    ("My parcel for ALK-120900 is held at customs for two weeks", True),
    ("The courier says delivery of ALK-120901 is delayed again", True),
    ("Can I order a custom engraving on the watch for order ALK-120055?", False),
    ("Do you make custom sizes? Order ALK-120056", False),
])
def test_alkonect_2_courier_or_customs_delays(text, out_of_scope) -> None:
    """§2: "Support does not cover issues caused by: ... External courier or customs delays (though we may assist
    with follow-up)". "Custom" (made to order) is not customs."""
    d = Stream("alkonect")(msg("alkonect", "email", text))
    assert ("out_of_scope" in flags(d)) is out_of_scope
    assert (d.queue == "investigations") is out_of_scope


@pytest.mark.parametrize(("text", "at", "rule", "due", "warn"), [
    # Friday morning: the weekend does not count
    ("How do I change the email address on my account profile?", "2026-11-27T09:30:00", "general_inquiry",
     "2026-12-01T09:30:00", "2026-11-30T09:30:00"),
    ("Where is my order ALK-120088? It has not arrived.", "2026-11-27T09:30:00", "order_payment_delivery",
     "2026-12-02T09:30:00", "2026-12-01T09:30:08.640000"),
    # Monday morning: the same hours, all on working days
    ("How do I change the email address on my account profile?", "2026-11-23T09:30:00", "general_inquiry",
     "2026-11-25T09:30:00", "2026-11-24T09:30:00"),
    ("Where is my order ALK-120088? It has not arrived.", "2026-11-23T09:30:00", "order_payment_delivery",
     "2026-11-26T09:30:00", "2026-11-25T09:30:08.640000"),
    # Friday evening, after hours: handled from Monday 09:00
    ("How do I change the email address on my account profile?", "2026-11-27T19:00:00", "general_inquiry",
     "2026-12-02T09:00:00", "2026-12-01T09:00:00"),
])
def test_alkonect_5_response_time_counts_working_days(text, at, rule, due, warn) -> None:
    """§5: "We aim to respond within: 24–48 hours for general inquiries; 48–72 hours for order, payment, or
    delivery-related issues". §4: "Weekends & Public Holidays: Limited or delayed response ... Support requests
    received outside working hours will be handled on the next business day"."""
    d = Stream("alkonect")(msg("alkonect", "email", text, at=at))
    assert d.sla.rule == rule
    assert d.sla.first_response_due == local("alkonect", due)
    assert d.sla.first_response_warn_at == local("alkonect", warn)
