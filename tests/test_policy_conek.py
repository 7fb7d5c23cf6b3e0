"""Conek's refund, cancellations and returns policy, clause by clause, against the shipped deploy/policies/conek.yaml."""

from __future__ import annotations

import pytest

from contracts.decision import FollowUpKind
from routing_helpers import Stream, local, msg

ACME = "Business name Acme (Pty) Ltd, account email ops@acme.co.za."


def flags(decision) -> set[str]:
    return {f.value for f in decision.flags}


def requested(decision) -> list[str]:
    return next((f.fields for f in decision.follow_ups if f.kind == FollowUpKind.request_info), [])


@pytest.mark.parametrize(("text", "at", "missing", "outside"), [
    ("Refund please. We paid R2,000 on 20 November for the annual plan but it never sent a single message. " + ACME,
     "2026-11-24T10:00:00", [], False),
    ("Refund please. We paid R2,000 on 20 December for the annual plan but it never sent a single message. " + ACME,
     "2026-11-24T10:00:00", [], True),  # no year: the most recent 20 December, 2025, is outside the 30 days
    ("Refund please. We paid R2,000 on 2026-11-20 for the annual plan but it never sent a single message. " + ACME,
     "2026-11-24T10:00:00", [], False),
    ("Refund please. We paid R2,000 for the annual plan but it never sent a single message to anyone. " + ACME,
     "2026-11-24T10:00:00", ["transaction_date"], False),
])
def test_conek_8_1_refund_request_gives_transaction_date_and_amount(text, at, missing, outside) -> None:
    """§8.1: "Contact us within 30 days of the charge ... Provide the following information: Your account email and
    business name; Transaction date and amount; Detailed explanation of why you're requesting a refund"."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za", at=at))
    assert requested(d) == missing
    assert ("outside_window" in flags(d)) is outside


@pytest.mark.parametrize(("text", "rule", "review_due"), [
    ("We were charged twice for our monthly plan: R499 on 2026-11-20 and again R499 on 2026-11-20. Please refund the "
     "duplicate charge. " + ACME, "refund_review", "2026-12-08T10:00:00"),
    ("Please cancel my subscription at the end of this month, we no longer need the service.", "standard_reply", None),
    ("We want to downgrade our plan from Pro to Starter please.", "standard_reply", None),
    ("Please cancel our plan. No refund needed, we just stop using it.", "standard_reply", None),
    ("Please I need a receipt for my purchase on 14 Feb for my office reimbursement.", "standard_reply", None),
])
def test_conek_8_2_refund_review_is_attached_to_refund_requests(text, rule, review_due) -> None:
    """§8.2: "When you submit a refund request: We will review your request within 10 business days". §3.2/§6.1:
    cancellations and downgrades take effect at the end of the billing cycle; §3.3/§6.1: no refund is provided."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za", at="2026-11-24T10:00:00"))
    assert d.sla.rule == rule
    assert ("refund_request" in flags(d)) is (review_due is not None)
    assert d.sla.resolution_due == (local("conek", review_due) if review_due else None)


FILED = "We have filed a chargeback with our bank for the double charge."


@pytest.mark.parametrize(("earlier", "text", "outcome", "suspend", "extra_flag"), [
    ([], FILED, "filed without contacting support", True, None),
    (["Hello, we were charged twice for our subscription in November, please fix it",
      "Still no answer about the double charge, please"], FILED, "filed after contacting support", False,
     "prior_contact"),
    ([], "If you don't refund the double charge I will dispute the charge with my bank.", "threatened", False,
     "chargeback_threatened"),
])
def test_conek_9_chargebacks(earlier, text, outcome, suspend, extra_flag) -> None:
    """§9.1 Contact Us First: "Before initiating a chargeback or payment dispute with your bank: Please contact us
    directly to resolve the issue". §9.2: "If you initiate a chargeback without contacting us: Your account will be
    immediately suspended"."""
    s = Stream("conek")
    for i, line in enumerate(earlier):
        s(msg("conek", "whatsapp", line, sender="27820000001", at=f"2026-11-2{i}T10:00:00"))
    d = s(msg("conek", "whatsapp", text, sender="27820000001", at="2026-11-24T10:00:00"))
    kinds = {f.kind for f in d.follow_ups}
    assert "chargeback" in flags(d) and d.priority.value == "urgent"
    assert (FollowUpKind.suspend_account in kinds) is suspend
    assert extra_flag is None or extra_flag in flags(d)
    assert next(t for t in d.trace if t.rule == "chargeback").outcome == outcome
    if extra_flag == "chargeback_threatened":
        assert d.queue == "billing_disputes"
        reply = next(f.text for f in d.follow_ups if f.kind == FollowUpKind.auto_reply)
        assert "Before initiating a chargeback" in reply


@pytest.mark.parametrize(("text", "case", "flag"), [
    ("We were charged twice for the same plan this month, please refund the duplicate payment.",
     "duplicate_charge", "refund_exception"),
    ("There is an unauthorized transaction of R899 on our card from your company, we want a refund.",
     "unauthorized_transaction", "refund_exception"),
    ("The platform was down for 4 days last week and we could not send anything, we want a refund.",
     "service_outage", "refund_exception"),
    ("We paid but the service never worked, 3 weeks now. We want our money back.", "service_non_delivery",
     "refund_exception"),
    ("You charged us the wrong amount for the Pro plan, please refund the difference.", "billing_error",
     "refund_exception"),
    ("Under the Consumer Protection Act we are entitled to our money back for this service, please refund us.",
     "legal_requirement", "refund_exception"),
    ("Our messages failed to deliver yesterday because your platform had an error, please refund the credits.",
     "failed_delivery_platform_fault", "refund_exception"),
    ("The campaign failed because the recipients' phones were switched off? Refund the credits anyway.",
     "customer_device_issues", "refund_excluded"),
    ("WhatsApp was down all afternoon so our campaign failed, we want a refund.", "third_party_outage",
     "refund_excluded"),
    ("We have 3000 unused credits left after cancelling, please refund them.", "unused_or_promotional_credits",
     "refund_excluded"),
    ("Messages to blocked numbers failed, refund the credits please.", "invalid_or_blocked_numbers",
     "refund_excluded"),
])
def test_conek_2_refund_exceptions_and_exclusions_are_named(text, case, flag) -> None:
    """§1.1: "all payments made for Conek services are non-refundable". §2: "we may provide refunds in the
    following exceptional circumstances": 2.1 Service Non-Delivery (not resolved within 14 days), 2.2 Duplicate
    Charges, 2.3 Unauthorized Transactions (reported within 30 days with supporting documentation), 2.4 Service
    Outages (more than 72 consecutive hours, within our control), 2.5 Billing Errors, 2.6 Legal Requirements.
    §2.4 note / §12: not for outages of WhatsApp/Meta, internet service providers or force majeure. §3.3/§4.1/§5.3:
    unused and promotional credits are not refundable. §4.2: Invalid Recipient Numbers, Blocked Numbers: no credit
    refund."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za"))
    assert {"refund_request", flag} <= flags(d)
    assert [t.rule for t in d.trace if t.rule.startswith("refunds.") and t.rule != "refunds.request"] == \
        [f"refunds.{case}"]


@pytest.mark.parametrize(("channel", "pointer"), [("whatsapp", True), ("email", False)])
def test_conek_8_1_refund_requests_are_made_by_email(channel, pointer) -> None:
    """§8.1: "If you believe you qualify for a refund ... Contact us within 30 days of the charge via: Email:
    info.connect.platform@gmail.com". A WhatsApp request is still routed, with the pointer to email."""
    d = Stream("conek")(msg("conek", channel, "We were charged twice this month, please refund one payment."))
    assert d.action.value == "route" and d.sla.rule == "refund_review"
    replies = [f.text for f in d.follow_ups if f.kind == FollowUpKind.auto_reply]
    assert bool(replies and "info.connect.platform@gmail.com" in replies[0]) is pointer


@pytest.mark.parametrize("text", [
    "You rejected our refund last week. We appeal this decision, please reconsider.",
    "Please review your decision on our refund request, it is unfair.",
])
def test_conek_8_2_refund_decision_is_final(text) -> None:
    """§8.2: "We will notify you of our decision via email. Our decision is final and not subject to appeal"."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za"))
    assert "decision_final" in flags(d) and "refund_request" not in flags(d)
    assert d.sla.rule == "decided_refund_appeal" and d.sla.resolution_due is None
    step = next(t for t in d.trace if t.rule == "refunds.decision_final")
    assert "not subject to appeal" in step.detail


@pytest.mark.parametrize(("text", "case", "flag"), [
    ("Our messages failed to deliver yesterday because your platform had an error, please refund the credits.",
     "failed_delivery_platform_fault", "refund_exception"),
    ("Half of our broadcast was not delivered this morning; refund the credits for the failed messages.",
     "failed_delivery_platform_fault", "refund_exception"),
    ("Messages to blocked numbers failed, refund the credits please.", "invalid_or_blocked_numbers",
     "refund_excluded"),
    ("200 messages failed because the numbers were invalid. Please refund those credits.",
     "invalid_or_blocked_numbers", "refund_excluded"),
    ("The messages failed since the customers' phones were off, we want the credits refunded.",
     "customer_device_issues", "refund_excluded"),
])
def test_conek_4_2_failed_deliveries_refund_credits_for_platform_faults_only(text, case, flag) -> None:
    """§4.2 Failed Message Delivery: "If messages fail to deliver due to: Our Platform Issues: Credits will be
    refunded to your account ... Invalid Recipient Numbers: No credit refund; Blocked Numbers: No credit refund;
    Customer Device Issues: No credit refund"."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za"))
    assert {"refund_request", flag} <= flags(d)
    named = [t for t in d.trace if t.rule.startswith("refunds.") and t.rule != "refunds.request"]
    assert [t.rule for t in named] == [f"refunds.{case}"] and named[0].outcome.endswith("§4.2")


@pytest.mark.parametrize(("text", "at", "cooling_off", "detail"), [
    # signed up Monday 7 December after a sales call; Friday 11 December is 4 business days later
    ("I signed up on 7 December after your sales call. Please cancel my subscription.", "2026-12-11T10:00:00",
     True, "4 business days after the sign-up on 2026-12-07"),
    # the weekend and 16 December (Day of Reconciliation, a public holiday) are not business days
    ("Your agent called me and I subscribed on 11 December. I want to cancel, this is not for us.",
     "2026-12-18T10:00:00", True, "4 business days after the sign-up on 2026-12-11"),
    ("Your agent called me and I subscribed on 7 December. I want to cancel, this is not for us.",
     "2026-12-14T10:00:00", True, "5 business days after the sign-up on 2026-12-07"),
    ("We signed up after your email campaign 2 days ago and want to cancel within the cooling-off period.",
     "2026-12-09T10:00:00", True, "2 business days after the sign-up"),
    ("I signed up on 1 December after a telemarketing call; please cancel the plan.", "2026-12-11T10:00:00",
     False, "8 business days after the sign-up on 2026-12-01, more than 5bd"),
    ("Someone from Conek phoned me and I signed up. Cancel my account please.", "2026-12-11T10:00:00",
     True, "sign-up date not stated"),
    ("I signed up online on 7 December. Please cancel my subscription.", "2026-12-11T10:00:00", False, None),
])
def test_conek_10_2_cooling_off_cancellation_after_direct_marketing(text, at, cooling_off, detail) -> None:
    """§10.2 Cooling-Off Period (Direct Marketing): "If you signed up as a result of direct marketing (phone call,
    email campaign, etc.): You have 5 business days to cancel without penalty; You must notify us in writing of
    your cancellation; Full refund will be provided if no services have been consumed; Pro-rated refund may apply
    if some services were used"."""
    d = Stream("conek")(msg("conek", "email", text, sender="ops@acme.co.za", at=at))
    assert ("cooling_off" in flags(d)) is cooling_off
    step = next((t for t in d.trace if t.rule == "refunds.cooling_off"), None)
    if detail is None:
        assert step is None
        return
    assert detail in step.detail
    if cooling_off:
        assert d.queue == "refunds" and d.sla.rule == "cooling_off_refund" and d.sla.resolution_due is not None
        assert d.sla.escalate_to == "billing_disputes" and "full refund" in step.detail
        assert "missing_info" not in flags(d)


@pytest.mark.parametrize("text", [
    "I'll moer you if this isn't sorted by tomorrow.",
    "I know where your Sandton office is. I'm coming for you.",
])
def test_conek_silent_on_threats_quarantines_them_like_any_abuse(text) -> None:
    """The text has no abuse clause and names no supervisor (§7.2 only lets Conek terminate accounts for
    Acceptable Use violations): a threat is quarantined for trust and safety like an insult, flagged `threat`,
    and the trace says the policy names no stronger action."""
    s = Stream("conek")
    threat = s(msg("conek", "whatsapp", text, sender="27830000101"))
    insult = s(msg("conek", "whatsapp", "You are useless idiots, fix our billing", sender="27830000102"))
    assert {"abusive", "threat"} <= flags(threat) and "threat" not in flags(insult)
    for d in (threat, insult):
        assert d.action.value == "quarantine" and (d.queue, d.priority.value) == ("trust_safety", "normal")
        assert not {f.kind.value for f in d.follow_ups} & {"suspend_support", "suspend_account"}
    step = next(t for t in threat.trace if t.rule == "abuse.threat")
    assert step.outcome == "usual abuse action"
    civil = s(msg("conek", "whatsapp", "Third message about our failed broadcasts. I expect an answer today.",
                  sender="27830000103"))
    assert civil.action.value == "route" and not {"abusive", "threat"} & flags(civil)
