"""Alkonect's support policy, clause by clause, against the shipped deploy/policies/alkonect.yaml."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.decision import FollowUpKind

from routing_helpers import Stream, local, msg, policy


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


CHAT = ["Hi", "I have a question", "about my order ALK-120077", "it was paid yesterday",
        "but the status says pending", "is that normal?", "I paid by card", "the amount was N25,000",
        "can you check?", "thanks"]


def test_alkonect_9_a_chat_conversation_is_one_work_item_not_a_flood() -> None:
    """§9: "Alkonect reserves the right to: Limit repeated or unreasonable support requests". Ten one-line chat
    messages a minute apart are one conversation: one work item, nothing rate-limited."""
    s = Stream("alkonect")
    decisions = [s(msg("alkonect", "chat", line, at=f"2026-11-24T10:0{i}:00")) for i, line in enumerate(CHAT)]
    assert [d.action.value for d in decisions] == ["route"] + ["merge"] * 9
    assert {d.work_item_id for d in decisions} == {decisions[0].work_item_id}
    assert not any("rate_limited" in flags(d) for d in decisions)


@pytest.mark.parametrize(("channel", "count", "seconds_apart", "limited_from"), [
    ("email", 9, 60, 8),      # nine separate emails in nine minutes: the ninth is a flood
    ("chat", 31, 15, 30),     # a line every 15 seconds in one chat session: the 31st is a flood
])
def test_alkonect_9_floods_are_limited_and_attached_to_the_open_item(channel, count, seconds_apart,
                                                                     limited_from) -> None:
    """§9: "Limit repeated or unreasonable support requests"; the flood reply promises that an agent "will answer
    them together", so a limited message is attached to the customer's open item, not dropped."""
    s = Stream("alkonect")
    start = local("alkonect", "2026-11-24T10:00:00")
    decisions = []
    for i in range(count):
        at = (start + timedelta(seconds=seconds_apart * i)).replace(tzinfo=None).isoformat()
        decisions.append(s(msg("alkonect", channel, f"question {i} about my order ALK-2000{i:02d}", at=at,
                               sender="flood@example.com")))
    assert not any("rate_limited" in flags(d) for d in decisions[:limited_from])
    limited = decisions[limited_from]
    assert "rate_limited" in flags(limited) and limited.action.value == "merge"
    assert limited.work_item_id == decisions[limited_from - 1].work_item_id
    assert any(f.kind == FollowUpKind.auto_reply and "together" in f.text for f in limited.follow_ups)


def test_alkonect_7_refund_decisions_are_final() -> None:
    """§7: "Refund decisions are final once communicated, subject to applicable law"."""
    d = Stream("alkonect")(msg("alkonect", "email", "You declined my refund for ALK-120300. I appeal, please reconsider."))
    assert "decision_final" in flags(d)
    assert "final once communicated" in next(t for t in d.trace if t.rule == "refunds.decision_final").detail


@pytest.mark.parametrize(("text", "channel", "stage", "queue", "rule", "requested"), [
    ("How do I change the email address on my account profile? I am logged in as ada@example.ng",
     "email", "review", "accounts", "general_inquiry", None),
    ("Where is my order? It has not arrived.", "email", "information request", "orders", "order_payment_delivery",
     ["order_number"]),
    ("My parcel for ALK-120900 is held at customs for two weeks", "email", "investigation", "investigations",
     "complex_case", None),
])
def test_alkonect_6_resolution_stages_escalate_when_a_deadline_is_missed(text, channel, stage, queue, rule,
                                                                          requested) -> None:
    """§6 Resolution Process: "1. The issue is reviewed by our support team; 2. Additional information may be
    requested from the user; 3. We investigate and provide a resolution or update; 4. If applicable, the issue is
    escalated internally or to a third-party partner". Each stage has its deadline (§5), and a missed one
    escalates to the escalations queue."""
    d = Stream("alkonect")(msg("alkonect", channel, text))
    assert (d.action.value, d.queue, d.sla.rule) == ("route", queue, rule), stage
    asked = [f.fields for f in d.follow_ups if f.kind == FollowUpKind.request_info]
    assert asked == ([requested] if requested else [])
    assert d.sla.escalate_to == "escalations"
    assert policy("alkonect").queues.declared[queue].escalate_to == "escalations"
    assert "escalations" in policy("alkonect").queues.declared


@pytest.mark.parametrize(("text", "channel", "email", "missing"), [
    ("I was debited twice for my payment yesterday", "chat", None, ["account_email"]),
    ("I was debited twice for my payment yesterday, my account is ada@example.ng", "chat", None, []),
    ("I was debited twice for my payment yesterday", "chat", "ada@example.ng", []),
    ("I cannot log in to my account, the password reset link never arrives", "chat", None, ["account_email"]),
    ("I cannot log in to my account, the password reset link never arrives", "email", None, []),
    ("How do I use the wishlist on the website?", "chat", None, []),
])
def test_alkonect_8_account_details_where_the_category_needs_them(text, channel, email, missing) -> None:
    """§8 User Responsibilities: "To receive effective support, users must: Provide correct order and account
    details". Payments and account access need the account's email address; on email the sender's own gives it."""
    d = Stream("alkonect")(msg("alkonect", channel, text, email=email))
    asked = [f for f in d.follow_ups if f.kind == FollowUpKind.request_info and "account_email" in f.fields]
    assert ([f.fields for f in asked] == [["account_email"]]) is bool(missing)
    assert ("missing_info" in flags(d)) is bool(missing)


THREATS = [("email", "I know where your office is and I'll be paying your staff a visit."),
           ("chat", "Make una wait, I dey come una office, I go deal with una."),
           ("email", "I'm going to donner that agent when I see him.")]


@pytest.mark.parametrize(("channel", "text"), THREATS)
def test_alkonect_8_a_threat_suspends_support_at_once_and_is_escalated(channel, text) -> None:
    """§8: "Abusive, threatening, or fraudulent behavior may result in suspension of support access or account
    termination." A threat of harm gets the strongest action at its first message: support access suspended
    (for the 30 days of `abuse.suspension`) and the message escalated (§6.4) as urgent."""
    s = Stream("alkonect")
    d = s(msg("alkonect", channel, text, sender="t@x.com"))
    # new work for the supervisor (a work item with clocks), not a quarantined record nobody is shown
    assert d.action.value == "route" and {"abusive", "threat"} <= flags(d) and d.sla.first_response_due
    assert (d.queue, d.priority.value) == ("escalations", "urgent")
    assert FollowUpKind.suspend_support in {f.kind for f in d.follow_ups}
    step = next(t for t in d.trace if t.rule == "abuse.threat")
    assert step.outcome == "escalations" and "§8" in step.detail and "30d" in step.detail
    polite = s(msg("alkonect", channel, "Sorry. Where is my order ALK-120044?", sender="t@x.com",
                   at="2026-11-25T10:00:00"))
    assert polite.action.value == "reject" and "suspended" in flags(polite)
    later = s(msg("alkonect", channel, "Where is my order ALK-120044?", sender="t@x.com", at="2026-12-25T10:00:00"))
    assert later.action.value == "route"


def test_alkonect_8_an_insult_keeps_the_usual_abuse_action_and_civil_frustration_is_not_flagged() -> None:
    """§8: "Communicate respectfully with support staff". An insult is quarantined for trust and safety, with
    support suspended only at the second abusive message; frustration without insults is a request."""
    s = Stream("alkonect")
    insult = s(msg("alkonect", "email", "You idiots stole my money", sender="i@x.com"))
    assert insult.action.value == "quarantine" and "abusive" in flags(insult) and "threat" not in flags(insult)
    assert (insult.queue, insult.priority.value) == ("trust_safety", "normal")
    assert FollowUpKind.suspend_support not in {f.kind for f in insult.follow_ups}
    assert not any(t.rule == "abuse.threat" for t in insult.trace)
    civil = s(msg("alkonect", "email", "This is the third time I'm writing about ALK-120044. I'm losing patience "
                  "and I expect an answer today.", sender="c@x.com"))
    assert civil.action.value == "route" and not {"abusive", "threat"} & flags(civil)
