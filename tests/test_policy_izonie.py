"""Izonie's support policy, clause by clause, against the shipped deploy/policies/izonie.yaml."""

from __future__ import annotations

import pytest

from routing_helpers import Stream, local, msg

FAKE = "The seller sent me a fake charger for order IZ-40001 and refuses to refund me"


def flags(decision) -> set[str]:
    return {f.value for f in decision.flags}


@pytest.mark.parametrize(("channel", "text", "at", "first_rule", "first_due", "resolution_due"), [
    # a chat on Tuesday morning: answered within 5 minutes, resolved within 5 business days
    ("chat", FAKE, "2026-11-24T10:00:00", "live_chat", "2026-11-24T10:05:00", "2026-12-01T10:00:00"),
    # an email on Friday night: answered within 24 hours; the 5 business days count from Monday 08:00
    ("email", FAKE, "2026-11-27T22:00:00", "email_and_social", "2026-11-28T22:00:00", "2026-12-04T20:00:00"),
    ("messenger", FAKE, "2026-11-24T10:00:00", "email_and_social", "2026-11-25T10:00:00", "2026-12-01T10:00:00"),
    # a buyer praising a "best seller" has no dispute with a seller
    ("email", "Where is my order IZ-40002? It is a best seller phone and it has not arrived.", "2026-11-24T10:00:00",
     "email_and_social", "2026-11-25T10:00:00", None),
])
def test_izonie_3_dispute_resolution_keeps_the_channel_first_response(channel, text, at, first_rule, first_due,
                                                                      resolution_due) -> None:
    """§3: "Live Chat: Initial response within 2–5 minutes during business hours. Email: Response within 24
    hours. Dispute Resolution: For issues involving third-party sellers, we aim for a resolution within 3–5
    business days"."""
    d = Stream("izonie")(msg("izonie", channel, text, at=at))
    assert ("seller_dispute" in flags(d)) is (resolution_due is not None)
    assert d.sla.rule == first_rule
    assert d.sla.first_response_due == local("izonie", first_due)
    if resolution_due is None:
        assert d.sla.resolution_due is None
    else:
        assert (d.sla.resolution_rule, d.sla.resolution_calendar) == ("seller_dispute", "business_days")
        assert d.sla.resolution_due == local("izonie", resolution_due)
        assert d.sla.escalate_to == "supervisors"


@pytest.mark.parametrize("channel", ["chat", "messenger"])
def test_izonie_6_abuse_ends_the_session_and_suspends_no_one(channel) -> None:
    """§6: "We maintain a zero-tolerance policy for abusive language or harassment towards our staff. We reserve
    the right to terminate support sessions if this is breached"."""
    s = Stream("izonie")
    for i in range(4):
        d = s(msg("izonie", channel, "You people are absolute idiots, where is my phone", at=f"2026-11-24T1{i}:00:00"))
        assert d.action.value == "quarantine" and "suspended" not in flags(d)
        assert [f.kind.value for f in d.follow_ups if f.kind.value != "auto_reply"] == ["end_session"]
    polite = s(msg("izonie", channel, "Sorry. Where is my order IZ-30021?", at="2026-11-24T15:00:00"))
    assert polite.action.value == "route"


@pytest.mark.parametrize(("origin", "official"), [
    ("https://izonie.com", True),
    ("android-app://com.izonie.app", True),
    ("ios-app://com.izonie.app", True),
    ("android-app://com.izonie.app.fake", False),
    ("https://izonie-deals.com", False),
])
def test_izonie_2_live_chat_on_the_website_and_the_mobile_app(origin, official) -> None:
    """§2: "Live Chat: Available on the Izonie website and mobile app (Monday – Saturday, 8:00 AM to 8:00 PM)".
    The chat gateway forwards the app's origin; only Izonie's own website and apps are official."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from channels.chat.normalize import normalize_chat

    event = {"id": f"m-{origin}", "session_id": "s-1", "origin": origin, "visitor": {"id": "v-1"},
             "text": "Where is my order IZ-30021? It was due yesterday."}
    [message] = normalize_chat(event, tenant="izonie",
                               received_at=datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("Africa/Lagos")))
    d = Stream("izonie")(message)
    assert (d.action.value == "route") is official
    assert ("unofficial_channel" in flags(d)) is not official
    if official:
        assert d.sla.rule == "live_chat" and d.sla.first_response_due == local("izonie", "2026-11-24T10:05:00")


@pytest.mark.parametrize(("channel", "text"), [
    ("chat", "I know where your office is and I'll be paying your staff a visit."),
    ("messenger", "I go locate that your rider, e go pain am."),
    ("instagram", "Wait till I get to your branch, you'll see what happens to you."),
])
def test_izonie_6_a_threat_ends_the_session_and_goes_to_the_supervisors(channel, text) -> None:
    """§6: "We maintain a zero-tolerance policy for abusive language or harassment towards our staff. We reserve
    the right to terminate support sessions if this is breached." §5: "A senior team member will review your
    case". A threat ends the session like any abuse and goes to the supervisors as urgent; no one is suspended."""
    s = Stream("izonie")
    d = s(msg("izonie", channel, text))
    # new work for the supervisor (a work item with clocks), not a quarantined record nobody is shown
    assert d.action.value == "route" and {"abusive", "threat"} <= flags(d) and d.sla.first_response_due
    assert (d.queue, d.priority.value, d.sla.rule) == ("supervisors", "urgent", "supervisor_threat")  # §5: 48 h
    assert [f.kind.value for f in d.follow_ups if f.kind.value != "auto_reply"] == ["end_session"]
    assert any(t.rule == "abuse.threat" and t.outcome == "supervisors" and "§6" in t.detail for t in d.trace)
    polite = s(msg("izonie", channel, "Sorry. Where is my order IZ-30021?", at="2026-11-24T15:00:00"))
    assert polite.action.value == "route"


def test_izonie_6_an_insult_keeps_the_usual_abuse_action_and_civil_frustration_is_not_flagged() -> None:
    """§6: abusive language ends the session (trust and safety reviews it); a frustrated customer is served."""
    s = Stream("izonie")
    insult = s(msg("izonie", "chat", "You people are absolute idiots, where is my phone", sender="v-1"))
    assert "threat" not in flags(insult) and (insult.queue, insult.priority.value) == ("trust_safety", "normal")
    civil = s(msg("izonie", "chat", "I have asked three times now about IZ-30021. I'm losing patience, please "
                  "answer me today.", sender="v-2"))
    assert civil.action.value == "route" and not {"abusive", "threat"} & flags(civil)
