"""Alkonect's support policy, clause by clause, against the shipped deploy/policies/alkonect.yaml."""

from __future__ import annotations

import pytest

from routing_helpers import Stream, msg


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
