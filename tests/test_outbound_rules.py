"""Reply rules without a network: windows, splitting, and reading each platform's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from channels.meta.send import MetaSender
from channels.platform_client import RetryPolicy
from channels.reply_plan import MAX_PARTS, Refusal, plan_reply, split_text
from channels.tiktok.send import TikTokSender
from channels.whatsapp.send import WhatsAppSender
from contracts.channels import ChannelKind
from contracts.outbound import OutboundKind, ReplyTarget

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def target(channel: ChannelKind, hours_ago: float, recipient: str = "27831234567") -> ReplyTarget:
    return ReplyTarget(channel=channel, recipient=recipient, conversation_key="conv-1", endpoint="106540000000001",
                       provider_message_id="wamid.in", received_at=NOW - timedelta(hours=hours_ago))


def plan(channel: ChannelKind, hours_ago: float, text: str = "Hello", kind=OutboundKind.agent_reply):
    return plan_reply(text, target(channel, hours_ago), tenant="t", work_item_id="wi-1", source="s", kind=kind, now=NOW)


@pytest.mark.parametrize(("channel", "hours_ago", "outcome"), [
    (ChannelKind.whatsapp, 23.98, None), (ChannelKind.whatsapp, 24.02, "outside_window"),
    (ChannelKind.messenger, 23, None), (ChannelKind.messenger, 30, "HUMAN_AGENT"),
    (ChannelKind.messenger, 24 * 7 + 1, "outside_window"), (ChannelKind.instagram, 100, "HUMAN_AGENT"),
    (ChannelKind.tiktok, 47, None), (ChannelKind.tiktok, 49, "outside_window"),
    (ChannelKind.email, 24 * 90, None),
])
def test_customer_service_windows(channel: ChannelKind, hours_ago: float, outcome: str | None) -> None:
    result = plan(channel, hours_ago)
    if outcome == "outside_window":
        assert isinstance(result, Refusal) and result.code == "outside_window"
    else:
        assert not isinstance(result, Refusal)
        assert result[0].tag == (outcome if outcome == "HUMAN_AGENT" else None)


def test_policy_messages_get_no_human_agent_allowance() -> None:
    result = plan(ChannelKind.messenger, 30, kind=OutboundKind.policy_message)
    assert isinstance(result, Refusal) and result.code == "outside_window"


def test_ids_repeat_for_the_same_action_and_differ_per_part() -> None:
    first, again = plan(ChannelKind.whatsapp, 1, "x " * 3000), plan(ChannelKind.whatsapp, 1, "x " * 3000)
    assert [p.id for p in first] == [p.id for p in again] and len({p.id for p in first}) == len(first) == 2


def test_split_prefers_paragraphs_then_sentences_and_never_exceeds_the_limit() -> None:
    text = "First paragraph. " * 20 + "\n\n" + "Second one, a bit longer. " * 20
    parts = split_text(text.strip(), 400)
    assert parts[0].endswith("First paragraph.") and all(len(p) <= 400 for p in parts)
    assert split_text("a" * 1000, 300) == ["a" * 300, "a" * 300, "a" * 300, "a" * 100]
    assert split_text("short", 10) == ["short"]


def test_a_reply_too_long_for_the_channel_is_refused_with_a_reason() -> None:
    result = plan(ChannelKind.instagram, 1, "word " * 1000)
    assert isinstance(result, Refusal) and result.code == "text_too_long" and str(MAX_PARTS) in result.reason
    assert plan(ChannelKind.whatsapp, 1, "   ").code == "empty_text"


@pytest.mark.parametrize(("sender", "status", "body", "headers", "ok", "retry", "code"), [
    (WhatsAppSender(), 200, {"messages": [{"id": "wamid.1"}]}, {}, True, False, None),
    (WhatsAppSender(), 400, {"error": {"code": 130429, "message": "throughput"}}, {}, False, True, "130429"),
    (WhatsAppSender(), 400, {"error": {"code": 131047, "message": "Re-engagement"}}, {}, False, False, "131047"),
    (WhatsAppSender(), 503, None, {"Retry-After": "7"}, False, True, "503"),
    (MetaSender(), 200, {"recipient_id": "1", "message_id": "m_1"}, {}, True, False, None),
    (MetaSender(), 400, {"error": {"code": 613, "message": "Calls to this api have exceeded the rate limit"}}, {},
     False, True, "613"),
    (MetaSender(), 400, {"error": {"code": 551, "message": "This person isn't available right now"}}, {},
     False, False, "551"),
    (TikTokSender(), 200, {"code": 0, "data": {"message": {"message_id": "tt-1"}}}, {}, True, False, None),
    (TikTokSender(), 200, {"code": 40064, "message": "sending messages too fast"}, {}, False, True, "40064"),
    (TikTokSender(), 200, {"code": 40002, "message": "quota exceeded"}, {}, False, False, "40002"),
])
def test_platform_answers_are_read_into_results(sender, status, body, headers, ok, retry, code) -> None:
    result = sender.read(status, body, headers)
    assert (result.ok, result.retry, result.error_code) == (ok, retry, code)


def test_requests_carry_recipient_token_and_reply_context() -> None:
    from contracts.outbound import OutboundMessage
    bsuid = target(ChannelKind.whatsapp, 1, recipient="US.13491208655302741918")
    message = OutboundMessage(id="o1", tenant="t", work_item_id="w", kind=OutboundKind.agent_reply, target=bsuid,
                              text="hi")
    request = WhatsAppSender().request(message, "tok", "http://graph")
    assert request.url == "http://graph/106540000000001/messages" and request.headers["Authorization"] == "Bearer tok"
    assert request.json["recipient"] == "US.13491208655302741918" and "to" not in request.json
    tagged = message.model_copy(update={"tag": "HUMAN_AGENT", "target": target(ChannelKind.messenger, 30, "psid-1")})
    meta = MetaSender().request(tagged, "tok", "http://graph").json
    assert meta["messaging_type"] == "MESSAGE_TAG" and meta["tag"] == "HUMAN_AGENT"
    tiktok = TikTokSender().request(message.model_copy(update={"target": target(ChannelKind.tiktok, 1)}), "tt",
                                    "http://tt")
    assert tiktok.headers == {"Access-Token": "tt"} and tiktok.json["recipient"] == "conv-1"


def test_backoff_honours_retry_after_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1, max_delay_s=10)
    assert policy.delay(1, 3.0) == 3.0 and policy.delay(1, 99.0) == 10
    assert all(0.5 <= policy.delay(1, None) <= 1.0 for _ in range(50))
    assert all(policy.delay(8, None) <= 10 for _ in range(50))
