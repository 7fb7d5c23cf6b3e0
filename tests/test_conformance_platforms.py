"""Conformance of the WhatsApp, Messenger, Instagram and TikTok normalizers against shared/conformance data."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ratchet import ratchet

from channels.errors import PayloadError
from channels.meta.normalize import normalize_meta
from channels.meta.signature import verify_meta_signature
from channels.tiktok.normalize import normalize_tiktok
from channels.whatsapp.normalize import normalize_whatsapp
from contracts.channels import EndpointKind
from contracts.inbound import AdapterFlag, InboundMessage, MessageKind

# Cases knowingly not handled: {"group/case": reason}. They still count as failures in the rates.
KNOWN_UNHANDLED: dict[str, str] = {}

TENANT = "acme"


def _expected_kind(category: str) -> MessageKind | None:
    """The MessageKind an expected category must produce; None when the event must produce nothing."""
    c = category.lower()
    # A postback is a button tap and a call-permission reply an answer to the business: both are customer input.
    if c.startswith(("customer_message", "postback", "call_permission_response")):
        return MessageKind.customer_message
    table = (
        ("reaction_removed", MessageKind.reaction_removed),
        ("reaction", MessageKind.reaction),
        ("message_deleted_by_customer", MessageKind.unsend),
        ("message_edited_by_customer", MessageKind.edit),
        ("system_notice", MessageKind.system_notice),
        ("echo", MessageKind.echo),
    )
    # status, read/delivery receipts, optin, handover, account_linking, game_play, checkout, calls,
    # account/template events, unknown keys and standalone referral entry points: nothing.
    return next((kind for prefix, kind in table if c.startswith(prefix)), None)


class Checker:
    """Collects field mismatches of one case; a case passes when it has none."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def eq(self, label: str, actual: Any, expected: Any) -> None:
        if actual != expected:
            self.problems.append(f"{label}: got {actual!r}, expected {expected!r}")

    def true(self, label: str, condition: bool) -> None:
        if not condition:
            self.problems.append(label)


def _report(group: str, results: dict[str, list[str]]) -> None:
    for case, problems in results.items():
        if problems:
            note = KNOWN_UNHANDLED.get(f"{group}/{case}", "")
            print(f"  FAIL {case}{' [known: ' + note + ']' if note else ''}: {'; '.join(problems[:4])}")
    ratchet(group, {case: not problems for case, problems in results.items()})


def _run_case(
    normalize: Callable[[], list[InboundMessage]],
    events: Iterable[dict[str, Any]],
    check_event: Callable[[Checker, InboundMessage, dict[str, Any]], None],
    *,
    reject: bool = False,
) -> list[str]:
    checker = Checker()
    try:
        produced = normalize()
    except PayloadError as exc:
        return [] if reject else [f"PayloadError: {exc}"]
    if reject:
        return [f"expected PayloadError, got {len(produced)} messages"]
    wanted = [(e, kind) for e in events if (kind := _expected_kind(e["category"])) is not None]
    checker.eq("message count", len(produced), len(wanted))
    for message, (expected, kind) in zip(produced, wanted):
        checker.eq("kind", message.kind, kind)
        checker.eq("tenant", message.tenant, TENANT)
        check_event(checker, message, expected)
    return checker.problems


# --- WhatsApp -----------------------------------------------------------------------------------------


def _check_whatsapp(c: Checker, m: InboundMessage, e: dict[str, Any]) -> None:
    echo = m.kind == MessageKind.echo
    c.eq("message id", m.provider_message_id, e.get("message_id"))
    c.eq("channel", m.channel.value, "whatsapp")
    if "sender_id" in e:
        c.eq("sender", m.sender.platform_id, e["sender_id"])
        c.eq("conversation_key", m.conversation_key, e["sender_id"])
    if "timestamp" in e:
        c.eq("sent_at", m.sent_at, datetime.fromtimestamp(int(e["timestamp"]), tz=UTC))
    c.eq("text", m.text, e.get("text") or "")
    if "phone_number_id" in e:
        c.eq("addressed_to", [(a.kind, a.value) for a in m.addressed_to],
             [(EndpointKind.whatsapp_phone_number_id, e["phone_number_id"])])
    c.eq("waba_id", m.provider.get("waba_id"), e.get("waba_id"))
    profile_name = (e.get("contact") or {}).get("profile_name")
    if profile_name and not echo:
        c.eq("display_name", m.sender.display_name, profile_name)
    if "media" in e:
        media = e["media"]
        c.eq("attachment count", len(m.attachments), 1)
        if m.attachments:
            a = m.attachments[0]
            c.eq("media id", a.provider_id, media["id"])
            c.eq("media mime", a.content_type, media["mime_type"])
            c.eq("media kind", a.kind, "voice" if media.get("voice") else m.message_type)
            if "filename" in media:
                c.eq("filename", a.filename, media["filename"])
    for flag in ("forwarded", "frequently_forwarded"):
        c.eq(flag, AdapterFlag(flag) in m.flags, bool(e.get(flag)))
    reply_to = e.get("reply_to_message_id") or e.get("reacted_to_message_id") or e.get("original_message_id")
    if m.kind in (MessageKind.edit, MessageKind.unsend):
        reply_to = e.get("original_message_id")
    if reply_to is not None or not echo:  # echo expectations do not record the edited/revoked id
        c.eq("reply_to", m.reply.reply_to_provider_id, reply_to)
    c.eq("unsupported flag", AdapterFlag.unsupported_type in m.flags, "unsupported" in e["category"])
    c.eq("referral flag", AdapterFlag.referral in m.flags, "referral_source_id" in e)
    if "referral_source_id" in e:
        c.eq("referral source", m.provider.get("referral", {}).get("source_id"), e["referral_source_id"])
    c.eq("echo flag", AdapterFlag.echo in m.flags, echo)
    if echo and "to" in e:
        c.eq("echo conversation", m.conversation_key, e["to"])
    same_name = ("reply_id", "flow_response_json", "system_type", "edited_type", "call_permission_response",
                 "unsupported_type", "error_codes")
    for key in same_name:
        if e.get(key) is not None:
            c.eq(key, m.provider.get(key), e[key])
    if e.get("interactive_type"):
        c.eq("interactive_type", m.provider.get("interactive_type"), e["interactive_type"])
    if "sender_user_id" in e:
        c.eq("user_id", m.provider.get("user_id"), e["sender_user_id"])
    if "location" in e:
        loc = m.provider.get("location", {})
        c.eq("location", {k: loc.get(k) for k in e["location"]}, e["location"])
    if "shared_contacts" in e:
        c.eq("shared contacts", len(m.provider.get("shared_contacts", [])), e["shared_contacts"])
    if "order_items" in e:
        c.eq("order items", len(m.provider.get("order", {}).get("product_items", [])), e["order_items"])


def test_whatsapp_pywa(conformance_dir: Path) -> None:
    folder = conformance_dir / "whatsapp" / "pywa"
    expected = json.loads((folder / "expected.json").read_bytes())["files"]
    results: dict[str, list[str]] = {}
    for filename, cases in expected.items():
        bodies = json.loads((folder / filename).read_bytes())
        for case, exp in cases.items():
            raw = json.dumps(bodies[case]).encode()
            results[f"{filename}:{case}"] = _run_case(
                lambda raw=raw: normalize_whatsapp(raw, tenant=TENANT), exp["events"], _check_whatsapp
            )
    _report("whatsapp/pywa", results)


def test_whatsapp_netflie(conformance_dir: Path) -> None:
    cases = json.loads((conformance_dir / "whatsapp" / "netflie_cases.json").read_bytes())["cases"]
    results = {
        case: _run_case(lambda body=spec["payload"]: normalize_whatsapp(body, tenant=TENANT),
                        spec["expected"]["events"], _check_whatsapp)
        for case, spec in cases.items()
    }
    _report("whatsapp/netflie", results)


def test_whatsapp_signatures(conformance_dir: Path) -> None:
    cases = json.loads((conformance_dir / "whatsapp" / "signature_cases.json").read_bytes())["cases"]
    results: dict[str, list[str]] = {}
    for case, spec in cases.items():
        raw = spec["raw_body"].encode("utf-8")
        checker = Checker()
        checker.eq("valid", verify_meta_signature(raw, spec["x_hub_signature_256"], spec["app_secret"]),
                   spec["expected_valid"])
        if "expected" in spec:
            problems = _run_case(lambda raw=raw: normalize_whatsapp(raw, tenant=TENANT),
                                 spec["expected"]["events"], _check_whatsapp)
            checker.problems.extend(problems)
        results[case] = checker.problems
    _report("whatsapp/signatures", results)


# --- Messenger / Instagram ----------------------------------------------------------------------------


def _meta_instant(raw: Any) -> datetime:
    """The fixtures' timestamp: JSON numbers are epoch ms (Meta's unit); digit strings of up to 10 digits
    are seconds (a Chatwoot factory quirk); other strings are ISO-8601."""
    if isinstance(raw, int):
        return datetime.fromtimestamp(raw / 1000, tz=UTC)
    if raw.isdigit():
        return datetime.fromtimestamp(int(raw) / (1 if len(raw) <= 10 else 1000), tz=UTC)
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


def _check_meta(c: Checker, m: InboundMessage, e: dict[str, Any]) -> None:
    echo = m.kind == MessageKind.echo
    if "message_id" in e:
        own_id = m.reply.reply_to_provider_id if m.kind == MessageKind.unsend else m.provider_message_id
        c.eq("message id", own_id, e["message_id"])
    c.eq("sender", m.sender.platform_id, e.get("sender_id"))
    if echo:
        c.eq("echo conversation", m.conversation_key, e.get("recipient_id"))
        c.eq("echo endpoint", [a.value for a in m.addressed_to], [e.get("sender_id")])
    else:
        c.eq("conversation", m.conversation_key, e.get("sender_id"))
        c.eq("addressed_to", [a.value for a in m.addressed_to], [e.get("recipient_id")])
    instagram = m.channel.value == "instagram"
    endpoint_kind = EndpointKind.instagram_account_id if instagram else EndpointKind.messenger_page_id
    c.true("endpoint kind", all(a.kind == endpoint_kind for a in m.addressed_to))
    c.eq("entry id", m.provider.get("entry_id"), e.get("entry_id"))
    if "timestamp" in e:
        c.eq("sent_at", m.sent_at, _meta_instant(e["timestamp"]))
    c.eq("text", m.text, e.get("text") or "")
    c.eq("attachment types", [a.kind for a in m.attachments], e.get("attachment_types", []))
    payload = e.get("quick_reply_payload") or e.get("postback_payload")
    c.eq("payload", m.provider.get("payload"), payload)
    c.eq("echo flag", AdapterFlag.echo in m.flags, echo)
    c.eq("standby", m.provider.get("standby", False), bool(e.get("standby")))
    if "reply_to_story" in e:
        c.eq("story url", m.provider.get("reply_to_story_url"), e["reply_to_story"])
        c.true("story reply ref", m.reply.reply_to_provider_id is not None)
    if "prior_message_source" in e:
        c.eq("prior message", m.provider.get("prior_message", {}).get("source"), e["prior_message_source"])
    if "referral_source" in e:
        c.true("referral flag", AdapterFlag.referral in m.flags)
        c.eq("referral source", m.provider.get("referral", {}).get("source"), e["referral_source"])
    if "app_id" in e:
        c.eq("app_id", m.provider.get("app_id"), e["app_id"])


def _meta_bundle(path: Path, group: str) -> None:
    cases = json.loads(path.read_bytes())["cases"]
    results: dict[str, list[str]] = {}
    for case, spec in cases.items():
        expected = spec["expected"]
        problems = _run_case(lambda body=spec["payload"]: normalize_meta(body, tenant=TENANT),
                             expected["events"], _check_meta, reject=bool(expected.get("reject_whole_body")))
        check = spec.get("signature_check")
        if check:
            valid = verify_meta_signature(spec["raw_body"].encode("utf-8"), check["value"], check["app_secret"])
            if valid != check["expected_valid"]:
                problems.append(f"signature valid={valid}, expected {check['expected_valid']}")
        results[case] = problems
    _report(group, results)


def test_messenger_botbuilder(conformance_dir: Path) -> None:
    folder = conformance_dir / "meta" / "messenger" / "botbuilder"
    expected = json.loads((folder / "expected.json").read_bytes())["files"]
    results = {
        name: _run_case(lambda raw=(folder / name).read_bytes(): normalize_meta(raw, tenant=TENANT),
                        exp["events"], _check_meta)
        for name, exp in expected.items()
    }
    _report("meta/messenger/botbuilder", results)


def test_messenger_messenger4j(conformance_dir: Path) -> None:
    _meta_bundle(conformance_dir / "meta" / "messenger" / "messenger4j_cases.json", "meta/messenger/messenger4j")


def test_messenger_botman(conformance_dir: Path) -> None:
    _meta_bundle(conformance_dir / "meta" / "messenger" / "botman_cases.json", "meta/messenger/botman")


def test_instagram_chatwoot(conformance_dir: Path) -> None:
    _meta_bundle(conformance_dir / "meta" / "instagram" / "chatwoot_cases.json", "meta/instagram/chatwoot")


# --- TikTok -------------------------------------------------------------------------------------------

# Chatwoot files a shared post as an "embed" attachment; the adapter keeps TikTok's own type name.
_TIKTOK_KIND = {"embed": "share_post"}


def _check_tiktok(c: Checker, m: InboundMessage, e: dict[str, Any]) -> None:
    c.eq("channel", m.channel.value, "tiktok")
    c.eq("message id", m.provider_message_id, e.get("message_id"))
    if "conversation_id" in e:
        c.eq("conversation", m.conversation_key, e["conversation_id"])
    if "sender_id" in e:
        c.eq("sender", m.sender.platform_id, e["sender_id"])
    if "business_id" in e:
        c.eq("addressed_to", [(a.kind, a.value) for a in m.addressed_to],
             [(EndpointKind.tiktok_business_id, e["business_id"])])
    if "text" in e:
        c.eq("text", m.text, e["text"] or "")
    c.eq("unsupported flag", AdapterFlag.unsupported_type in m.flags, "unsupported" in e["category"])
    wanted = e.get("attachments", [])
    c.eq("attachments", [(a.kind, a.provider_id) for a in m.attachments],
         [(_TIKTOK_KIND.get(a["kind"], a["kind"]), a.get("url") or a.get("media_id")) for a in wanted])


def test_tiktok_chatwoot(conformance_dir: Path) -> None:
    cases = json.loads((conformance_dir / "tiktok" / "chatwoot_cases.json").read_bytes())["cases"]
    results = {
        case: _run_case(lambda body=json.dumps(spec["payload"]): normalize_tiktok(body, tenant=TENANT),
                        [spec["expected"]], _check_tiktok)
        for case, spec in cases.items()
    }
    _report("tiktok/chatwoot", results)

