"""Routing decisions for each clause of the tenant policies, table-driven against the real policy files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.decision import Action, FollowUpKind, Priority
from contracts.inbound import Attachment, MessageKind
from routing_helpers import Stream, local, msg


def flags(decision) -> set[str]:
    return {f.value for f in decision.flags}


# -- dedupe -------------------------------------------------------------------------------------------------------

def test_provider_redelivery_is_dropped_as_duplicate() -> None:
    s = Stream("conek")
    first = s(msg("conek", "whatsapp", "webhook deliveries to our CRM stopped working", provider_id="wamid.A"))
    again = s(msg("conek", "whatsapp", "webhook deliveries to our CRM stopped working", provider_id="wamid.A"))
    assert first.action == Action.route
    assert again.action == Action.drop and "duplicate" in flags(again)
    assert again.duplicate_of == first.message_id


def test_same_customer_asking_again_merges_without_resetting_sla() -> None:
    s = Stream("alkonect")
    first = s(msg("alkonect", "email", "Where is my order ALK-120044? It has not arrived.", at="2026-11-24T10:00:00"))
    again = s(msg("alkonect", "email", "Any news about my order ALK-120044? Still not delivered.", at="2026-11-25T09:00:00"))
    assert first.action == Action.route
    assert again.action == Action.merge and "repeated_request" in flags(again)
    assert again.work_item_id == first.work_item_id
    assert again.repeat_count == 1
    assert again.sla.first_response_due == first.sla.first_response_due


def test_repeat_count_grows_and_priority_rises_on_the_second_repeat() -> None:
    s = Stream("alkonect")
    first = s(msg("alkonect", "email", "My card was debited twice for order ALK-555001"))
    s(msg("alkonect", "email", "I was charged twice for ALK-555001, please check", at="2026-11-24T11:00:00"))
    third = s(msg("alkonect", "email", "Again: double debit on ALK-555001!!", at="2026-11-24T12:00:00"))
    assert third.repeat_count == 2
    assert third.priority.rank > first.priority.rank


def test_same_order_reference_on_another_channel_merges_cross_channel() -> None:
    s = Stream("izonie")
    first = s(msg("izonie", "email", "My order IZ-30021 was never delivered", sender="ola@example.com"))
    other = s(msg("izonie", "messenger", "hello, any update on IZ-30021?", sender="psid-77", at="2026-11-24T15:00:00"))
    assert other.action == Action.merge
    assert {"repeated_request", "cross_channel"} <= flags(other)
    assert other.work_item_id == first.work_item_id


def test_linked_identity_merges_across_channels() -> None:
    s = Stream("alkonect")
    first = s(msg("alkonect", "chat", "I can't log in, the password reset link has expired", sender="visitor-9",
                  email="kemi@example.com"))
    again = s(msg("alkonect", "email", "Password reset link expired again, I still cannot sign in",
                  sender="kemi@example.com", at="2026-11-24T12:00:00"))
    assert again.action == Action.merge and "cross_channel" in flags(again)
    assert again.work_item_id == first.work_item_id


def test_different_order_from_same_customer_is_new_work() -> None:
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-100001?"))
    other = s(msg("alkonect", "email", "Where is my order ALK-200002?", at="2026-11-24T11:00:00"))
    assert other.action == Action.route


def test_repeat_after_the_window_is_new_work() -> None:
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-100001?", at="2026-11-02T10:00:00"))
    later = s(msg("alkonect", "email", "Where is my order ALK-100001?", at="2026-11-24T10:00:00"))
    assert later.action == Action.route


def test_reused_email_message_id_with_a_different_body_is_not_a_duplicate() -> None:
    s = Stream("alkonect")
    s(msg("alkonect", "email", "Where is my order ALK-100001?", provider_id="<same@x>", body_sha="aaa"))
    other = s(msg("alkonect", "email", "How do I reset my password?", provider_id="<same@x>", body_sha="bbb",
                  sender="someone-else@example.com"))
    assert other.action == Action.route and "duplicate" not in flags(other)


# -- official channels --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("tenant", "channel", "to"), [
    ("alkonect", "email", "alkonect.support@gmail.com"),
    ("izonie", "messenger", "999000111222333"),
    ("conek", "whatsapp", "199999999999999"),
    ("izonie", "chat", "https://izonie.com.evil.example"),
])
def test_unofficial_endpoints_are_rejected_with_a_pointer_to_official_channels(tenant, channel, to) -> None:
    d = Stream(tenant)(msg(tenant, channel, "I need help with my order", to=to))
    assert d.action == Action.reject and "unofficial_channel" in flags(d)
    reply = next(f for f in d.follow_ups if f.kind == FollowUpKind.auto_reply)
    assert "official" in reply.text.lower()
    assert to in d.reason


def test_official_mailbox_match_ignores_case() -> None:
    d = Stream("alkonect")(msg("alkonect", "email", "Where is my order ALK-100001?", to="Support@Alkonect.COM"))
    assert d.action == Action.route


def test_the_official_mailbox_with_a_plus_tag_is_official_and_another_mailbox_with_one_is_not() -> None:
    """Our Reply-To is support+<outbound id>@: answers sent to it reached the official mailbox."""
    tagged = Stream("alkonect")(msg("alkonect", "email", "Where is my order ALK-100001?",
                                    to="support+3ba39478-c7d5-571e-82be-4d4387cb893c@alkonect.com"))
    assert tagged.action == Action.route
    other = Stream("alkonect")(msg("alkonect", "email", "Where is my order ALK-100001?", to="sales+x@alkonect.com"))
    assert other.action == Action.reject and "unofficial_channel" in flags(other)


# -- abuse, suspension, floods ------------------------------------------------------------------------------------

def test_abusive_message_is_quarantined_and_frustration_is_not() -> None:
    s = Stream("alkonect")
    abusive = s(msg("alkonect", "email", "Useless company. Where is my order, you pack of liars?", sender="a@x.com"))
    upset = s(msg("alkonect", "email", "I'm really upset, this is the third time my delivery was rescheduled. "
                  "This is unacceptable, please sort it out.", sender="b@x.com"))
    assert abusive.action == Action.quarantine and "abusive" in flags(abusive) and abusive.queue == "trust_safety"
    assert upset.action == Action.route and "abusive" not in flags(upset)


def test_alkonect_suspends_support_on_the_second_abusive_message_then_refuses() -> None:
    s = Stream("alkonect")
    first = s(msg("alkonect", "email", "You idiots stole my money", sender="x@x.com"))
    second = s(msg("alkonect", "email", "You are all idiots and liars", sender="x@x.com", at="2026-11-24T11:00:00"))
    polite = s(msg("alkonect", "email", "Please, where is my refund?", sender="x@x.com", at="2026-11-25T11:00:00"))
    assert FollowUpKind.suspend_support not in {f.kind for f in first.follow_ups}
    assert FollowUpKind.suspend_support in {f.kind for f in second.follow_ups}
    assert polite.action == Action.reject and "suspended" in flags(polite)


def test_izonie_ends_the_chat_session_on_abuse() -> None:
    d = Stream("izonie")(msg("izonie", "chat", "You people are absolute idiots, where is my phone"))
    assert d.action == Action.quarantine
    assert FollowUpKind.end_session in {f.kind for f in d.follow_ups}


# -- categories, queues, priorities, required information ---------------------------------------------------------

def test_escalation_request_goes_to_supervisors_with_48h_promise() -> None:
    d = Stream("izonie")(msg("izonie", "chat", "Please escalate to a supervisor, my return for IZ-30555 was rejected"))
    assert "escalation_requested" in flags(d)
    assert d.queue == "supervisors" and d.priority in (Priority.high, Priority.urgent)
    assert d.sla.rule == "supervisor_escalation"
    assert d.sla.first_response_due - d.sla.started_at == timedelta(hours=48)


def test_missing_order_number_is_flagged_with_a_request_for_it() -> None:
    s = Stream("alkonect")
    without = s(msg("alkonect", "email", "My parcel was marked delivered but I never received it", sender="p@x.com"))
    with_ref = s(msg("alkonect", "email", "Order ALK-120044: marked delivered but I never received it",
                     sender="q@x.com"))
    assert "missing_info" in flags(without)
    request = next(f for f in without.follow_ups if f.kind == FollowUpKind.request_info)
    assert request.fields == ["order_number"]
    assert "missing_info" not in flags(with_ref)


def test_conek_refund_request_lists_missing_fields_and_checks_the_30_day_window() -> None:
    s = Stream("conek")
    bare = s(msg("conek", "whatsapp", "Can we get a refund? The service never worked.", sender="27830000001"))
    request = next(f for f in bare.follow_ups if f.kind == FollowUpKind.request_info)
    assert {"business_name", "transaction_date", "amount"} <= set(request.fields)
    old = s(msg("conek", "email", "Refund please. Account email ops@acme.co.za, business name Acme (Pty) Ltd. "
                "We paid R2,000 on 1 September 2026 for the annual plan but it never worked at all for us.",
                sender="ops@acme.co.za", at="2026-11-24T10:00:00"))
    assert "outside_window" in flags(old)
    assert "missing_info" not in flags(old)


def test_conek_chargeback_is_urgent_and_asks_for_account_suspension() -> None:
    d = Stream("conek")(msg("conek", "whatsapp", "We have filed a chargeback with our bank for the double charge."))
    assert "chargeback" in flags(d) and d.priority == Priority.urgent and d.queue == "billing_disputes"
    assert FollowUpKind.suspend_account in {f.kind for f in d.follow_ups}


def test_out_of_scope_courier_delay_is_routed_flagged_with_the_complex_case_sla() -> None:
    d = Stream("alkonect")(msg("alkonect", "email", "My parcel for ALK-120900 is held at customs for two weeks"))
    assert d.action == Action.route and "out_of_scope" in flags(d)
    assert d.queue == "investigations" and d.sla.rule == "complex_case"


def test_csat_requested_after_resolution_for_izonie_only() -> None:
    iz = Stream("izonie")(msg("izonie", "email", "How do I change my delivery address?"))
    al = Stream("alkonect")(msg("alkonect", "email", "How do I change my delivery address?"))
    assert FollowUpKind.csat_after_resolution in {f.kind for f in iz.follow_ups}
    assert FollowUpKind.csat_after_resolution not in {f.kind for f in al.follow_ups}


def test_damage_return_without_photos_asks_for_them() -> None:
    s = Stream("izonie")
    no_photo = s(msg("izonie", "email", "My tablet IZ-30099 arrived with a cracked screen, I want to return it"))
    photo = s(msg("izonie", "email", "My phone IZ-30100 arrived broken, I want to return it", sender="c2",
                  attachments=[Attachment(filename="a.jpg", content_type="image/jpeg")]))
    assert "photo" in next(f for f in no_photo.follow_ups if f.kind == FollowUpKind.request_info).fields
    assert not [f for f in photo.follow_ups if f.kind == FollowUpKind.request_info]


# -- SLA on the tenant calendar -----------------------------------------------------------------------------------

def test_out_of_hours_mail_starts_the_clock_at_the_next_opening() -> None:
    d = Stream("alkonect")(msg("alkonect", "email", "How do I change my delivery address?", at="2026-11-27T19:30:00"))
    assert "outside_hours" in flags(d)
    assert d.sla.started_at == local("alkonect", "2026-11-30T09:00:00")  # Friday evening -> Monday 09:00
    assert d.sla.first_response_due.utcoffset() == timedelta(hours=1)


def test_public_holiday_is_flagged_and_skipped() -> None:
    d = Stream("conek")(msg("conek", "whatsapp", "Our webhook deliveries stopped working", at="2026-12-16T10:00:00"))
    assert {"outside_hours", "holiday"} <= flags(d)
    assert d.sla.started_at == local("conek", "2026-12-17T09:00:00")
    assert d.sla.first_response_due == local("conek", "2026-12-18T17:00:00")  # 2 business days = 16 business hours


def test_izonie_live_chat_answer_due_within_five_business_minutes() -> None:
    open_ = Stream("izonie")(msg("izonie", "chat", "is the iPhone 15 in stock?", at="2026-11-24T10:00:00"))
    sunday = Stream("izonie")(msg("izonie", "chat", "is the iPhone 15 in stock?", at="2026-11-29T10:00:00"))
    assert open_.sla.first_response_due == local("izonie", "2026-11-24T10:05:00")
    assert sunday.sla.first_response_due == local("izonie", "2026-11-30T08:05:00")


# -- non-customer messages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "action", "flag"), [
    (MessageKind.auto_reply, Action.drop, "auto_reply"),
    (MessageKind.echo, Action.drop, "echo"),
    (MessageKind.bounce, Action.quarantine, "bounce"),
    (MessageKind.reaction, Action.drop, "not_customer_message"),
])
def test_non_customer_messages_never_open_work(kind, action, flag) -> None:
    d = Stream("alkonect")(msg("alkonect", "email", "I am out of the office", kind=kind))
    assert d.action == action and flag in flags(d)
    assert getattr(d, "work_item_id", None) is None  # a bounce is quarantined without a review item


@pytest.mark.parametrize("tenant", ["alkonect", "izonie", "conek"])
def test_an_insult_is_quarantined_with_a_review_item_in_the_abuse_queue_outside_the_routing_state(tenant) -> None:
    s = Stream(tenant)
    channel = {"alkonect": "email", "izonie": "chat", "conek": "whatsapp"}[tenant]
    d = s(msg(tenant, channel, "you useless idiots, where is my money"))
    assert d.action == Action.quarantine and d.work_item_id == f"wi-{d.message_id}"
    assert d.queue == s.policy.queues.abuse == "trust_safety"
    assert [t.outcome for t in d.trace if t.rule == "abuse.review"] == [d.queue]
    assert d.work_item_id not in s.state.items  # a later civil message must not merge into the review item
    later = s(msg(tenant, channel, "sorry, I still need help with my refund"))
    assert later.action == Action.route and later.queue != d.queue


def test_every_step_is_traced() -> None:
    d = Stream("alkonect")(msg("alkonect", "email", "Where is my order ALK-120044?"))
    rules = [t.rule for t in d.trace]
    for expected in ("message_kind", "dedupe.redelivery", "official_channel", "categorize", "queue", "priority"):
        assert expected in rules
    assert any(r.startswith("sla.") for r in rules)
