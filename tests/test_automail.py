"""The policy's automatic mail: what `routing/automail.py` plans for a decision, and that the automail processor
sends it once per decision (real Redis claims, a recording transport in place of SMTP)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from routing_helpers import msg, policy

from channels import registry
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.decision import DecisionFlag, FollowUpKind, RouteDecision
from contracts.inbound import AdapterFlag, MessageKind
from contracts.outbound import DeliveryStatus, OutboundKind, OutboundMessage, SendResult
from contracts.adapters import Sent
from routing.automail import answerable, automatic_answer
from routing.decide import decide
from routing.record import record
from routing.state import MemoryState
from workers.channel_secrets import ChannelSecrets
from workers.runtime.automail import AutomailProcessor
from workers.runtime.codec import decode_decision, encode
from workers.runtime.outbound import OutboundProcessor
from workers.runtime.route_processor import RouteProcessor

ORDER_QUESTION = "Where is my order? It has not arrived yet and I am worried."
OPEN_HOURS = "2026-11-24T10:00:00"  # a Tuesday morning: Alkonect's support calendar is open
SATURDAY = "2026-11-28T10:00:00"


def decided(tenant: str, text: str, state: MemoryState | None = None, **kwargs):
    message = msg(tenant, "email", text, **kwargs)
    state = state if state is not None else MemoryState()
    decision = decide(message, state, message.received_at, policy(tenant))
    record(state, message, decision, policy(tenant))
    return decision


def first_response_rule(tenant: str, decision: RouteDecision):
    return next(r for r in policy(tenant).sla.rules if r.name == decision.sla.rule).first_response


def test_a_routed_email_is_acknowledged_with_the_rules_promise_and_deadline() -> None:
    decision = decided("izonie", "My parcel is late, can you check please?", at=OPEN_HOURS)
    answer = automatic_answer(decision, policy("izonie"))
    assert answer is not None and answer.reasons[0] == "acknowledgement"
    within = first_response_rule("izonie", decision).within
    assert f"within {int(within.amount)} hours," in answer.text
    due = decision.sla.first_response_due.astimezone(ZoneInfo(policy("izonie").timezone))
    assert f"at the latest by {due:%A} {due.day} {due:%B %Y}, {due:%H:%M}" in answer.text
    assert "Izonie support" in answer.text and "outside our support hours" not in answer.text


def test_business_day_promises_name_the_opening_hours() -> None:
    decision = decided("conek", "How do I change the email address on my account?", at=OPEN_HOURS)
    answer = automatic_answer(decision, policy("conek"))
    within = first_response_rule("conek", decision).within
    assert within.unit == "bd"
    assert f"within {int(within.amount)} business days (Monday to Friday 09:00–17:00, Africa/Johannesburg time, " \
           "except public holidays)" in answer.text


def test_mail_received_while_closed_says_when_the_clock_starts() -> None:
    decision = decided("alkonect", ORDER_QUESTION + " Order ALK-120044.", at=SATURDAY)
    assert DecisionFlag.outside_hours in decision.flags
    answer = automatic_answer(decision, policy("alkonect"))
    assert "Your message arrived outside our support hours (Monday to Friday 09:00–18:00, Africa/Lagos time, " \
           "except public holidays)" in answer.text


def test_missing_information_is_requested_after_the_acknowledgement() -> None:
    decision = decided("alkonect", ORDER_QUESTION, at=OPEN_HOURS)
    requests = [f.text for f in decision.follow_ups if f.kind == FollowUpKind.request_info]
    assert DecisionFlag.missing_info in decision.flags and requests
    answer = automatic_answer(decision, policy("alkonect"))
    assert answer.reasons == ("acknowledgement", "request_info")
    assert answer.text.index("We will answer within") < answer.text.index(requests[0])


def test_mail_to_an_unofficial_address_gets_the_policys_notice_and_no_acknowledgement() -> None:
    decision = decided("alkonect", ORDER_QUESTION, to="sales@alkonect.com", at=OPEN_HOURS)
    assert decision.action == "reject" and DecisionFlag.unofficial_channel in decision.flags
    answer = automatic_answer(decision, policy("alkonect"))
    assert answer.reasons == ("official_channels",)
    assert policy("alkonect").unofficial_reply in answer.text
    assert "opened a case" not in answer.text and "We will answer" not in answer.text


def test_a_tenant_can_switch_the_acknowledgement_off() -> None:
    quiet = policy("alkonect").model_copy(update={
        "acknowledgement": policy("alkonect").acknowledgement.model_copy(update={"enabled": False})})
    complete = decided("alkonect", ORDER_QUESTION + " Order ALK-120044.", at=OPEN_HOURS)
    assert complete.action == "route" and automatic_answer(complete, quiet) is None
    missing = decided("alkonect", ORDER_QUESTION, at=OPEN_HOURS)
    answer = automatic_answer(missing, quiet)
    assert answer.reasons == ("request_info",) and "We will answer" not in answer.text


def test_the_policy_file_can_word_the_opening() -> None:
    worded = policy("izonie").model_copy(update={
        "acknowledgement": policy("izonie").acknowledgement.model_copy(update={"text": "Hello from Izonie!"})})
    answer = automatic_answer(decided("izonie", "My parcel is late", at=OPEN_HOURS), worded)
    assert answer.text.startswith("Hello from Izonie! We will answer within")


def test_a_repeat_merged_into_open_work_is_not_acknowledged_again() -> None:
    state = MemoryState()
    first = decided("alkonect", ORDER_QUESTION + " Order ALK-120044.", state, at=OPEN_HOURS, sender="ada@example.net")
    again = decided("alkonect", ORDER_QUESTION + " Order ALK-120044.", state, at="2026-11-24T11:00:00",
                    sender="ada@example.net")
    assert first.action == "route" and again.action == "merge"
    assert automatic_answer(first, policy("alkonect")) is not None
    assert automatic_answer(again, policy("alkonect")) is None


@pytest.mark.parametrize("kind", [MessageKind.auto_reply, MessageKind.bounce, MessageKind.system_notification])
def test_no_automatic_mail_for_robots_bounces_or_our_own_mail(kind: MessageKind) -> None:
    decision = decided("alkonect", ORDER_QUESTION, kind=kind, at=OPEN_HOURS)
    assert automatic_answer(decision, policy("alkonect")) is None


def test_no_automatic_mail_for_abuse_or_a_provider_redelivery() -> None:
    abusive = decided("alkonect", "You useless idiots, I will find you and hurt you", at=OPEN_HOURS)
    assert DecisionFlag.abusive in abusive.flags
    assert automatic_answer(abusive, policy("alkonect")) is None
    state = MemoryState()
    decided("alkonect", ORDER_QUESTION, state, provider_id="<same@example.net>", at=OPEN_HOURS)
    copy = decided("alkonect", ORDER_QUESTION, state, provider_id="<same@example.net>", at=OPEN_HOURS)
    assert copy.action == "drop" and automatic_answer(copy, policy("alkonect")) is None


def test_mailing_lists_and_auto_submitted_mail_get_no_reply_target_from_the_route_worker() -> None:
    person = msg("alkonect", "email", ORDER_QUESTION, at=OPEN_HOURS)
    listed = person.model_copy(update={"flags": [AdapterFlag.mailing_list], "provider_message_id": "p-list", "id": ""})
    assert answerable(person) and not answerable(listed)
    processor = RouteProcessor({"alkonect": policy("alkonect")})
    for message, wanted in ((person, True), (listed, False)):
        message = message.model_copy(update={"id": ""})
        message.model_post_init(None)
        outcome = processor.process(MemoryState(), b"k", encode(message), ("t", 0, 0))
        published = decode_decision(outcome.produce[0][2])
        assert published.action == "route" and (published.reply_to is not None) == wanted
        if wanted:
            assert published.reply_to.recipient == person.sender.platform_id
            assert published.reply_to.provider_message_id == person.provider_message_id


class Recording:
    """A reply transport that records what it was asked to send and accepts it."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    async def send(self, sender, message: OutboundMessage, token: str) -> Sent:
        self.sent.append(message)
        return Sent(SendResult(ok=True, provider_message_id=f"mid-{len(self.sent)}"), 1)


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.mark.asyncio
async def test_a_decision_consumed_twice_sends_one_mail_and_none_without_an_smtp_url(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    policies = {"alkonect": policy("alkonect")}
    transport = Recording()

    def processor(environ: dict[str, str]) -> AutomailProcessor:
        secrets = ChannelSecrets.from_environ(registry.ADAPTERS, policies, environ)
        outbound = OutboundProcessor(redis, RedisWorkQueue(redis, prefix=prefix), {"smtp": transport}, secrets,
                                     FixedClock(), prefix=prefix)
        return AutomailProcessor(outbound, policies)

    try:
        message = msg("alkonect", "email", ORDER_QUESTION, at=OPEN_HOURS, sender="ada@example.net")
        outcome = RouteProcessor(policies).process(MemoryState(), b"k", encode(message), ("t", 0, 0))
        raw = outcome.produce[0][2]
        assert await processor({}).on_decision(raw) == [] and transport.sent == []  # no ALKONECT_SMTP_URL
        automail = processor({"ALKONECT_SMTP_URL": "smtp://127.0.0.1:2525"})
        first = await automail.on_decision(raw)
        again = await automail.on_decision(raw)
        assert [e.status for e in first] == [DeliveryStatus.sent] and again == []
        assert len(transport.sent) == 1
        sent = transport.sent[0]
        assert sent.kind == OutboundKind.policy_message and sent.target.recipient == "ada@example.net"
        assert sent.target.provider_message_id == message.provider_message_id
        assert first[0].outbound_id == sent.id and first[0].work_item_id == outcome.decision.work_item_id
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
