"""Unit cases for the WhatsApp, Messenger/Instagram and TikTok normalizers and webhook signature checks."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.errors import PayloadError
from channels.meta.normalize import normalize_meta
from channels.meta.signature import verify_meta_signature
from channels.tiktok.normalize import normalize_tiktok
from channels.tiktok.signature import verify_tiktok_signature
from channels.whatsapp.normalize import normalize_whatsapp
from channels.whatsapp.signature import verify_whatsapp_signature
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import AdapterFlag, Endpoint, MessageKind

T0 = 1_700_000_000


def wa_body(*messages: dict[str, Any], contacts: list[dict[str, Any]] | None = None, **value: Any) -> dict:
    """A WhatsApp envelope with one change holding `messages` (and any other value keys)."""
    inner = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PNID-1"}, **value}
    if contacts is not None:
        inner["contacts"] = contacts
    if messages:
        inner["messages"] = list(messages)
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": inner}]}]}


def wa_text(wamid: str, body: str, sender: str | None = "16505551234", ts: Any = str(T0)) -> dict[str, Any]:
    message = {"id": wamid, "timestamp": ts, "type": "text", "text": {"body": body}}
    if sender is not None:
        message["from"] = sender
    return message


def page_body(*events: dict[str, Any], obj: str = "page") -> dict:
    return {"object": obj, "entry": [{"id": "PAGE-1", "time": T0 * 1000, "messaging": list(events)}]}


def page_event(**payload: Any) -> dict[str, Any]:
    return {"sender": {"id": "PSID-1"}, "recipient": {"id": "PAGE-1"}, "timestamp": T0 * 1000, **payload}


def tiktok_body(event: str = "im_receive_msg", **content: Any) -> dict[str, Any]:
    inner = {"type": "text", "message_id": "tt-1", "timestamp": T0 * 1000, "conversation_id": "conv-1",
             "from": "alice", "from_user": {"id": "user-1"}, "to_user": {"id": "biz-1"},
             "text": {"body": "hi"}, **content}
    return {"event": event, "user_openid": "biz-1", "create_time": T0, "content": json.dumps(inner)}


# --- WhatsApp semantics -------------------------------------------------------------------------------


def test_whatsapp_bsuid_only_sender_has_no_phone() -> None:
    body = wa_body(wa_text("wamid.1", "hello", sender=None),
                   contacts=[{"user_id": "US.123", "profile": {"name": "Ann", "username": "ann_w"}}])
    [message] = normalize_whatsapp(body, tenant="t")
    assert message.sender.platform_id == "US.123"
    assert message.sender.phone is None
    assert message.sender.display_name == "Ann"
    assert message.sender.handle == "ann_w"
    assert message.conversation_key == "US.123"


@pytest.mark.parametrize(
    ("message_from", "contact", "platform_id", "phone"),
    [
        ("16505551234", {"wa_id": "16505551234", "user_id": "US.9"}, "16505551234", "16505551234"),
        (None, {"wa_id": "16505551234", "user_id": "US.9"}, "16505551234", "16505551234"),
        (None, {"user_id": "US.9"}, "US.9", None),
        ("US.9", {"user_id": "US.9"}, "US.9", None),
    ],
)
def test_whatsapp_sender_priority(message_from: str | None, contact: dict, platform_id: str, phone: str | None) -> None:
    [message] = normalize_whatsapp(wa_body(wa_text("wamid.1", "x", sender=message_from), contacts=[contact]),
                                   tenant="t")
    assert (message.sender.platform_id, message.sender.phone) == (platform_id, phone)


def test_whatsapp_two_messages_in_one_change_keep_order() -> None:
    body = wa_body(wa_text("wamid.1", "first"), wa_text("wamid.2", "second", ts=T0 + 1),
                   contacts=[{"wa_id": "16505551234", "profile": {"name": "Bo"}}])
    first, second = normalize_whatsapp(body, tenant="t")
    assert (first.provider_message_id, first.text) == ("wamid.1", "first")
    assert (second.provider_message_id, second.text) == ("wamid.2", "second")
    assert second.sent_at == datetime.fromtimestamp(T0 + 1, tz=UTC)
    assert first.id != second.id


def test_whatsapp_envelope_facts_and_times() -> None:
    [message] = normalize_whatsapp(wa_body(wa_text("wamid.1", "x", ts=T0)), tenant="t")
    assert message.addressed_to == [Endpoint(kind=EndpointKind.whatsapp_phone_number_id, value="PNID-1")]
    assert message.provider["waba_id"] == "WABA-1"
    assert message.provider["display_phone_number"] == "15550001111"
    assert message.sent_at == message.received_at == datetime.fromtimestamp(T0, tz=UTC)
    arrived = datetime(2030, 1, 1, tzinfo=UTC)
    [later] = normalize_whatsapp(wa_body(wa_text("wamid.1", "x", ts=T0)), tenant="t", received_at=arrived)
    assert later.received_at == arrived and later.sent_at == message.sent_at
    with pytest.raises(ValueError, match="timezone-aware"):
        normalize_whatsapp(wa_body(wa_text("wamid.1", "x")), tenant="t", received_at=datetime(2030, 1, 1))


@pytest.mark.parametrize(
    "value",
    [
        {"statuses": [{"id": "wamid.9", "status": "read", "timestamp": str(T0), "recipient_id": "16505551234"}]},
        {"errors": [{"code": 131000, "title": "Something went wrong"}]},
        {"history": [{"threads": [{"id": "1", "messages": [wa_text("wamid.h", "old")]}]}]},
    ],
    ids=["statuses", "errors", "history"],
)
def test_whatsapp_non_messages_produce_nothing(value: dict) -> None:
    assert normalize_whatsapp(wa_body(**value), tenant="t") == []


def test_whatsapp_unknown_fields_and_changes_are_ignored() -> None:
    body = wa_body({**wa_text("wamid.1", "hi"), "brand_new_field": {"x": 1}}, future_key=[1, 2])
    body["entry"][0]["changes"].insert(0, {"field": "something_new", "value": {"whatever": True}})
    body["entry"][0]["changes"].append("not an object")
    body["new_top_level"] = 1
    [message] = normalize_whatsapp(body, tenant="t")
    assert message.text == "hi"


@pytest.mark.parametrize(
    ("message", "kind", "text", "reply_to", "flags"),
    [
        ({"type": "reaction", "reaction": {"message_id": "wamid.0", "emoji": "👍"}},
         MessageKind.reaction, "👍", "wamid.0", []),
        ({"type": "reaction", "reaction": {"message_id": "wamid.0", "emoji": ""}},
         MessageKind.reaction_removed, "", "wamid.0", []),
        ({"type": "revoke", "revoke": {"original_message_id": "wamid.0"}}, MessageKind.unsend, "", "wamid.0", []),
        ({"type": "edit", "edit": {"original_message_id": "wamid.0",
                                   "message": {"type": "text", "text": {"body": "fixed"}}}},
         MessageKind.edit, "fixed", "wamid.0", []),
        ({"type": "system", "system": {"type": "user_changed_number", "body": "changed"}},
         MessageKind.system_notice, "changed", None, []),
        ({"type": "image", "image": {"id": "m1", "mime_type": "image/png", "caption": "look"},
          "context": {"forwarded": True}}, MessageKind.customer_message, "look", None, [AdapterFlag.forwarded]),
        ({"type": "poll_v9"}, MessageKind.customer_message, "", None, [AdapterFlag.unsupported_type]),
        ({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": "a", "title": "Yes"}},
          "context": {"id": "wamid.0"}}, MessageKind.customer_message, "Yes", "wamid.0", []),
    ],
    ids=["reaction", "unreaction", "revoke", "edit", "system", "image", "unknown_type", "list_reply"],
)
def test_whatsapp_message_types(message: dict, kind: MessageKind, text: str, reply_to: str | None,
                                flags: list[AdapterFlag]) -> None:
    full = {"id": "wamid.1", "from": "16505551234", "timestamp": str(T0), **message}
    [out] = normalize_whatsapp(wa_body(full), tenant="t")
    assert (out.kind, out.text, out.reply.reply_to_provider_id, out.flags) == (kind, text, reply_to, flags)


def test_whatsapp_document_filename_is_made_safe() -> None:
    message = {"id": "wamid.1", "from": "1", "timestamp": str(T0), "type": "document",
               "document": {"id": "d1", "mime_type": "application/pdf", "filename": "../../etc/pass\x07wd.pdf"}}
    [out] = normalize_whatsapp(wa_body(message), tenant="t")
    assert [(a.kind, a.provider_id, a.filename) for a in out.attachments] == [("document", "d1", "passwd.pdf")]


def test_whatsapp_business_echo_is_flagged_and_keyed_by_customer() -> None:
    echo = {"from": "15550001111", "to": "16505551234", "id": "wamid.e", "timestamp": str(T0), "type": "text",
            "text": {"body": "we replied"}}
    body = wa_body(message_echoes=[echo])
    body["entry"][0]["changes"][0]["field"] = "smb_message_echoes"
    [out] = normalize_whatsapp(body, tenant="t")
    assert (out.kind, out.flags, out.conversation_key) == (MessageKind.echo, [AdapterFlag.echo], "16505551234")
    assert out.sender.platform_id == "15550001111"


# --- retries and ids ----------------------------------------------------------------------------------


def test_provider_retries_give_identical_ids() -> None:
    single = wa_body(wa_text("wamid.1", "hi"))
    batched = wa_body(wa_text("wamid.0", "earlier"), wa_text("wamid.1", "hi"))
    first = normalize_whatsapp(json.dumps(single).encode(), tenant="t")[0]
    again = normalize_whatsapp(json.dumps(single, indent=2), tenant="t")[0]
    rebatched = normalize_whatsapp(batched, tenant="t")[1]
    for retry in (again, rebatched):
        assert (retry.provider_message_id, retry.id) == (first.provider_message_id, first.id)
    assert normalize_whatsapp(single, tenant="other")[0].id != first.id


@pytest.mark.parametrize(
    "event",
    [
        {"postback": {"title": "Start", "payload": "GET_STARTED"}},
        {"reaction": {"mid": "m_1", "action": "react", "emoji": "❤"}},
    ],
    ids=["postback_without_mid", "reaction"],
)
def test_meta_events_without_mid_get_stable_ids(event: dict) -> None:
    body = page_body(page_event(**event))
    first, again = normalize_meta(body, tenant="t")[0], normalize_meta(copy.deepcopy(body), tenant="t")[0]
    assert first.provider_message_id == again.provider_message_id and first.id == again.id
    other = page_body(page_event(**event, timestamp=T0 * 1000 + 1))
    assert normalize_meta(other, tenant="t")[0].provider_message_id != first.provider_message_id


# --- Messenger / Instagram semantics ------------------------------------------------------------------


def test_meta_message_and_echo_endpoints() -> None:
    customer = page_event(message={"mid": "m_1", "text": "hi", "reply_to": {"mid": "m_0"}})
    echo = {"sender": {"id": "PAGE-1"}, "recipient": {"id": "PSID-1"}, "timestamp": T0 * 1000,
            "message": {"mid": "m_2", "text": "hello back", "is_echo": True, "app_id": 263902037430900}}
    first, second = normalize_meta(page_body(customer, echo), tenant="t")
    assert first.kind == MessageKind.customer_message and first.reply.reply_to_provider_id == "m_0"
    assert first.addressed_to == [Endpoint(kind=EndpointKind.messenger_page_id, value="PAGE-1")]
    assert (first.conversation_key, first.sent_at) == ("PSID-1", datetime.fromtimestamp(T0, tz=UTC))
    assert (second.kind, second.flags, second.conversation_key) == (MessageKind.echo, [AdapterFlag.echo], "PSID-1")
    assert second.addressed_to == [Endpoint(kind=EndpointKind.messenger_page_id, value="PAGE-1")]


@pytest.mark.parametrize(
    ("payload", "kind", "text", "reply_to"),
    [
        ({"reaction": {"mid": "m_0", "action": "unreact", "reaction": "love"}},
         MessageKind.reaction_removed, "", "m_0"),
        ({"message_edit": {"mid": "m_0", "text": "new text", "num_edit": 2}}, MessageKind.edit, "new text", "m_0"),
        ({"message": {"mid": "m_0", "is_deleted": True}}, MessageKind.unsend, "", "m_0"),
    ],
    ids=["unreact", "edit", "unsend"],
)
def test_instagram_event_kinds(payload: dict, kind: MessageKind, text: str, reply_to: str) -> None:
    [out] = normalize_meta(page_body(page_event(**payload), obj="instagram"), tenant="t")
    assert (out.channel, out.kind, out.text, out.reply.reply_to_provider_id) == (
        ChannelKind.instagram, kind, text, reply_to)
    assert out.provider_message_id != "m_0"  # must not collide with the original message in dedupe
    assert out.addressed_to[0].kind == EndpointKind.instagram_account_id


@pytest.mark.parametrize(
    "event",
    [{"read": {"watermark": 1}}, {"delivery": {"mids": ["m_1"]}}, {"optin": {"ref": "x"}},
     {"pass_thread_control": {"new_owner_app_id": "1"}}, {"account_linking": {"status": "linked"}},
     {"referral": {"ref": "ad", "source": "ADS", "type": "OPEN_THREAD"}}, {"brand_new_event": {"x": 1}}],
    ids=["read", "delivery", "optin", "handover", "account_linking", "referral_only", "unknown"],
)
def test_meta_non_message_events_produce_nothing(event: dict) -> None:
    assert normalize_meta(page_body(page_event(**event)), tenant="t") == []


def test_meta_standby_events_are_read_too() -> None:
    body = page_body(page_event(message={"mid": "m_1", "text": "a"}))
    body["entry"][0]["standby"] = [page_event(message={"mid": "m_2", "text": "b"})]
    assert [(m.provider_message_id, m.provider.get("standby", False))
            for m in normalize_meta(body, tenant="t")] == [("m_1", False), ("m_2", True)]


def test_meta_empty_body_and_bom() -> None:
    assert normalize_meta(b"{}", tenant="t") == []
    raw = b"\xef\xbb\xbf" + json.dumps(page_body(page_event(message={"mid": "m_1", "text": "x"}))).encode()
    assert [m.text for m in normalize_meta(raw, tenant="t")] == ["x"]


# --- TikTok -------------------------------------------------------------------------------------------


def test_tiktok_text_message() -> None:
    [out] = normalize_tiktok(tiktok_body(referenced_message_info={"referenced_message_id": "tt-0"}), tenant="t")
    assert (out.channel, out.kind, out.text, out.provider_message_id) == (ChannelKind.tiktok,
                                                                          MessageKind.customer_message, "hi", "tt-1")
    assert (out.sender.platform_id, out.sender.handle, out.conversation_key) == ("user-1", "alice", "conv-1")
    assert out.addressed_to == [Endpoint(kind=EndpointKind.tiktok_business_id, value="biz-1")]
    assert out.sent_at == datetime.fromtimestamp(T0, tz=UTC)
    assert out.reply.reply_to_provider_id == "tt-0"


def test_tiktok_echo_and_receipts() -> None:
    [echo] = normalize_tiktok(tiktok_body("im_send_msg", from_user={"id": "biz-1"}, to_user={"id": "user-1"}),
                              tenant="t")
    assert (echo.kind, echo.flags) == (MessageKind.echo, [AdapterFlag.echo])
    assert normalize_tiktok(tiktok_body("im_mark_read_msg"), tenant="t") == []
    assert normalize_tiktok({"event": "something_new", "content": "not even json"}, tenant="t") == []


# --- malformed bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("normalize", "body", "message"),
    [
        (normalize_whatsapp, b"not json", "not valid JSON"),
        (normalize_whatsapp, b"[1, 2]", "top level must be a JSON object, got array"),
        (normalize_whatsapp, {"object": "page", "entry": []}, "'object' is 'page'"),
        (normalize_whatsapp, {"object": "whatsapp_business_account", "entry": {"id": 1}}, "'entry' must be a list"),
        (normalize_whatsapp, 42, "expected bytes, str or dict"),
        (normalize_meta, b"", "not valid JSON"),
        (normalize_meta, {"object": "whatsapp_business_account", "entry": []}, "expected 'page' or 'instagram'"),
        (normalize_meta, {"entry": [{"id": "1", "messaging": []}]}, "'object' is missing"),
        (normalize_tiktok, {"content": "{}"}, "'event' must be a string"),
        (normalize_tiktok, {"event": "im_receive_msg"}, "without 'content'"),
        (normalize_tiktok, {"event": "im_receive_msg", "content": "{oops"}, "'content': not valid JSON"),
        (normalize_tiktok, {"event": "im_receive_msg", "content": "[]"}, "'content': top level must be"),
    ],
)
def test_malformed_bodies_raise_payload_error(normalize, body: Any, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("[", r"\[")) as info:
        normalize(body, tenant="t")
    assert isinstance(info.value, ValueError)


def test_meta_channel_must_agree_with_object() -> None:
    body = page_body(page_event(message={"mid": "m_1", "text": "x"}))
    assert normalize_meta(body, tenant="t", channel=ChannelKind.messenger)[0].channel == ChannelKind.messenger
    with pytest.raises(PayloadError, match="expects instagram"):
        normalize_meta(body, tenant="t", channel=ChannelKind.instagram)


# --- signatures ---------------------------------------------------------------------------------------

# The test vector of reference/channel-protocols.md §1.2: the bytes hold literal \u00e9 and \/ escapes.
VECTOR_BODY = (rb'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",'
               rb'"value":{"messages":[{"id":"wamid.X","from":"15550001111","timestamp":"1700000000",'
               rb'"type":"text","text":{"body":"caf\u00e9 \/ ok"}}]}}]}]}')
VECTOR_SIG = "sha256=b941e76e772660b3bcb26648f79f6c54b47341911d44c12130721cc86f75e1df"


def _sha1(body: bytes, secret: str) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


@pytest.mark.parametrize(
    ("body", "header", "secret", "valid"),
    [
        (VECTOR_BODY, VECTOR_SIG, "app_secret", True),
        (VECTOR_BODY, VECTOR_SIG.upper().replace("SHA256=", "sha256="), "app_secret", True),
        (json.dumps(json.loads(VECTOR_BODY)).encode(), VECTOR_SIG, "app_secret", False),  # re-serialised
        (json.dumps(json.loads(VECTOR_BODY), ensure_ascii=False, separators=(",", ":")).encode(), VECTOR_SIG,
         "app_secret", False),
        (VECTOR_BODY, VECTOR_SIG, "other_secret", False),
        (VECTOR_BODY, VECTOR_SIG.removeprefix("sha256="), "app_secret", False),
        (VECTOR_BODY, "md5=" + VECTOR_SIG.removeprefix("sha256="), "app_secret", False),
        (VECTOR_BODY, None, "app_secret", False),
        (VECTOR_BODY, "", "app_secret", False),
        (VECTOR_BODY, "sha256=é", "app_secret", False),
        (VECTOR_BODY, VECTOR_SIG, "", False),
        (VECTOR_BODY, _sha1(VECTOR_BODY, "app_secret"), "app_secret", True),
        (VECTOR_BODY + b" ", _sha1(VECTOR_BODY, "app_secret"), "app_secret", False),
    ],
)
def test_meta_signature(body: bytes, header: str | None, secret: str, valid: bool) -> None:
    assert verify_meta_signature(body, header, secret) is valid
    assert verify_whatsapp_signature(body, header, secret) is valid


def test_signature_checks_refuse_decoded_bodies() -> None:
    with pytest.raises(TypeError):
        verify_meta_signature(VECTOR_BODY.decode(), VECTOR_SIG, "app_secret")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_tiktok_signature({"event": "x"}, "t=1,s=00", "s")  # type: ignore[arg-type]


TIKTOK_BODY = b'{"event":"im_receive_msg"}'
TIKTOK_SIG = "t=1633174587,s=ca0a2e8e685dd5fd0002b86645210ff3d619a0a0f4479786b8fd7c75a466d50b"


@pytest.mark.parametrize(
    ("body", "header", "secret", "now", "valid"),
    [
        (TIKTOK_BODY, TIKTOK_SIG, "client_secret", 1633174590, True),  # channel-protocols.md §3.1 vector
        (TIKTOK_BODY, " t=1633174587 , s=" + TIKTOK_SIG.split("s=")[1], "client_secret", 1633174590, True),
        (TIKTOK_BODY, TIKTOK_SIG, "client_secret", datetime.fromtimestamp(1633174587 + 299, tz=UTC), True),
        (TIKTOK_BODY, TIKTOK_SIG, "client_secret", 1633174587 + 301, False),  # replayed
        (TIKTOK_BODY, TIKTOK_SIG, "client_secret", 1633174587 - 301, False),  # from the future
        (TIKTOK_BODY + b" ", TIKTOK_SIG, "client_secret", 1633174590, False),
        (TIKTOK_BODY, TIKTOK_SIG, "wrong", 1633174590, False),
        (TIKTOK_BODY, TIKTOK_SIG.replace("t=1633174587", "t=1633174588"), "client_secret", 1633174590, False),
        (TIKTOK_BODY, TIKTOK_SIG.split(",")[1], "client_secret", 1633174590, False),  # no t
        (TIKTOK_BODY, None, "client_secret", 1633174590, False),
    ],
)
def test_tiktok_signature(body: bytes, header: str | None, secret: str, now: Any, valid: bool) -> None:
    assert verify_tiktok_signature(body, header, secret, now=now) is valid


def test_tiktok_signature_tolerance_can_be_disabled_for_replays() -> None:
    assert verify_tiktok_signature(TIKTOK_BODY, TIKTOK_SIG, "client_secret", now=2_000_000_000, tolerance=None)
