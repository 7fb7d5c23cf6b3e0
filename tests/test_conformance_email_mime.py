"""Conformance of normalize_email against the Chatwoot, flanker, mail-parser and talon MIME fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from ratchet import ratchet

from channels.email.normalize import EmailParseError, normalize_email
from contracts.inbound import AdapterFlag, InboundMessage, MessageKind

# Chatwoot's own notifier sender (its MAILER_SENDER_EMAIL in notification.eml): our configured notifier list.
NOTIFIERS = {"accounts@chatwoot.com"}
# The IMAP poller always knows when a message arrived; used only for mail carrying no date at all.
POLLER_RECEIVED_AT = datetime(2024, 1, 1, tzinfo=timezone.utc)
# Chatwoot stores at most Message::NUMBER_OF_PERMITTED_ATTACHMENTS files; its counts are capped there.
CHATWOOT_ATTACHMENT_CAP = 15

KNOWN_UNHANDLED: dict[str, str] = {
    "chatwoot/mail_with_no_date.eml": "expected.json says text null, but the body is 'text only mail' and no source "
                                      "asserts emptiness; we keep the text (text must never be empty when mail has text)",
}

Check = Callable[[InboundMessage], bool]


def _normalize(raw: bytes) -> InboundMessage:
    try:
        return normalize_email(raw, tenant="conformance", notifier_addresses=NOTIFIERS)
    except EmailParseError:
        return normalize_email(raw, tenant="conformance", received_at=POLLER_RECEIVED_AT, notifier_addresses=NOTIFIERS)


def _lines(text: str | None) -> str:
    return "\n".join(line.rstrip() for line in (text or "").strip().splitlines())


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def _kind(expected: str) -> MessageKind | None:
    """'bounce (delayed)' -> bounce; spam verdicts are not part of our contract (None: not compared)."""
    base = expected.split(" (")[0].strip()
    if base == "spam":
        return None
    return MessageKind({"abuse_complaint": "complaint"}.get(base, base))


def _attachments(m: InboundMessage) -> list:
    return [a for a in m.attachments if not a.inline]


def _to(m: InboundMessage) -> set[str]:
    return {e.value for e in m.addressed_to}


def _dsn(m: InboundMessage) -> dict:
    return m.provider.get("dsn") or {}


def _recipient(m: InboundMessage, key: str) -> str | None:
    recips = _dsn(m).get("recipients") or [{}]
    return recips[0].get(key)


CHATWOOT_FACTS: dict[str, list[Check]] = {
    "welcome.eml": [
        lambda m: m.sent_at == datetime(2020, 4, 20, 4, 20, 20, tzinfo=timezone(timedelta(hours=-4))),
        lambda m: m.sender.platform_id == "sony@chatwoot.com",
        lambda m: m.reply.in_reply_to[:1] == ["4e6e35f5a38b4_479f13bb90078178@small-app-01.mail"],
    ],
    "welcome_html.eml": [
        lambda m: _flat(m.text).startswith("I'm learning English as a first language for the past 13 years, but to"),
    ],
    "non_utf_encoded_mail.eml": [
        lambda m: m.subject == "أهلين عميلنا الكريم ",
        lambda m: m.text.startswith("أنظروا، أنا أحتاجها فقط لتقوم بالتدقيق في مقالتي الشخصية"),
        lambda m: m.reply.in_reply_to == ["4e6e35f5a38b4_479f13bb90078178@small-app-01.mail"],
        lambda m: AdapterFlag.auto_submitted in m.flags,
    ],
    "mail_with_no_subject.eml": [lambda m: m.subject == ""],  # an empty Subject header (absent would be None)
    "multiple_in_reply_to.eml": [
        lambda m: m.reply.in_reply_to[:1] == ["4e6e35f5a38b4_479f13bb90078171@small-app-01.mail"],
    ],
    "reply_cc.eml": [lambda m: m.reply.in_reply_to == [], lambda m: "test@example.com" in _to(m)],
    "bounced_with_no_from.eml": [lambda m: _recipient(m, "status") == "5.7.1"],
    "bounced_gmail.eml": [
        lambda m: "5.1.1" in _dsn(m).get("status_codes", []),
        lambda m: "alex.jones@fictionalcorp.com" in _dsn(m).get("failed_recipients", []),
    ],
    "malformed_reply_to.eml": [lambda m: m.sender.platform_id == "sender@example.com"],
    "support.eml": [lambda m: "care@example.com" in _to(m)],
    "support_in_reply_to.eml": [lambda m: m.sender.email == "sony@chatwoot.com"],
    "support_uppercase.eml": [lambda m: m.sender.platform_id == "sony@chatwoot.com"],
    # The local-part name fallback ('sony') is contact-creation policy downstream, not normalization.
    "support_without_sender_name.eml": [lambda m: "care@example.com" in _to(m)],
    "group_sender_support.eml": [
        lambda m: m.sender.email == "jane@example.com", lambda m: m.sender.display_name == "ACME group",
    ],
    "reply_mail_without_uuid.eml": [
        lambda m: "conversation/6bdc3f4d-0bec-4515-a284-5d916fdde489/messages/123@test.com" in m.reply.in_reply_to,
    ],
    "reply_to.eml": [lambda m: m.sender.platform_id.startswith("reply+someid")],
    "support_1.eml": [
        lambda m: "Hi, We are providing you platform from here you can sell paid posts on your website." in _flat(m.text),
        lambda m: "Skype: live:.cid.something" in m.text,
    ],
    "only_attachments.eml": [lambda m: AdapterFlag.empty_text in m.flags],
    "reply.eml": [
        lambda m: m.reply.thread_token == "6bdc3f4d-0bec-4515-a284-5d916fdde489", lambda m: m.message_type == "email",
    ],
    "mail_with_inline_images.eml": [
        lambda m: "HTML content and inline images" in m.text, lambda m: "cid:" not in m.text,
        lambda m: len(_attachments(m)) == 0,
    ],
    "mail_with_plain_text_and_inline_image.eml": [
        lambda m: "Let's add no HTML content here, just plain text and images" in m.text,
        lambda m: "[image:" not in m.text,
        lambda m: len(_attachments(m)) == 0,
    ],
    "mail_with_html_part_no_html_content.eml": [
        lambda m: "This is test message." in m.text, lambda m: len(_attachments(m)) == 0,
    ],
    "in_reply_to.eml": [lambda m: m.reply.in_reply_to == ["0CB459E0-0336-41DA-BC88-E6E28C697DDB@chatwoot.com"]],
    "mail_with_quote.eml": [lambda m: "> Any update on this?" in (m.quoted_text or "")],
    "references.eml": [lambda m: "test-reference-id" in m.reply.references, lambda m: m.text == "References Email"],
    "mail_with_invalid_to.eml": [lambda m: "vishnu@chatwoot.com" in _to(m)],
    "mail_with_invalid_to_2.eml": [lambda m: "vishnu@chatwoot.com" in _to(m)],
    "attachments_without_text.eml": [lambda m: AdapterFlag.empty_text in m.flags],
    "attachments_without_filename.eml": [
        lambda m: all(a.filename and a.filename.startswith("attachment-") for a in m.attachments),
    ],
    "forwarder_email.eml": [lambda m: m.reply.thread_token == "6bdc3f4d-0bec-4515-a284-5d916fdde489"],
}

FLANKER_FACTS: dict[str, list[Check]] = {
    "bounce/zed.eml": [
        lambda m: _dsn(m).get("status_codes") == ["5.1.1"],
        lambda m: (_recipient(m, "diagnostic_code") or "").startswith(
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist."),
        lambda m: _recipient(m, "final_recipient") == "asdfasdfasdfasdfasdfasdfewrqertrtyrthsfgdfgadfqeadvxzvz@gmail.com",
    ],
    "bounce/office365.eml": [
        lambda m: _dsn(m).get("status_codes") == ["5.1.10"],
        lambda m: _recipient(m, "diagnostic_code") == ("smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient "
                                                       "noname@example.com not found by SMTP address lookup"),
    ],
    "bounce/mailbox-full.eml": [
        lambda m: _dsn(m).get("status_codes") == ["5.2.2"], lambda m: _recipient(m, "final_recipient") == "user@aol.com",
    ],
    "bounce/delayed.eml": [
        lambda m: m.subject == "Returned mail: Cannot send message for 5 days",
        lambda m: _dsn(m).get("status_codes") == ["4.0.0"] and _recipient(m, "action") == "failed",
        lambda m: [a.content_type for a in m.attachments] == ["message/rfc822"],
    ],
    "bounce/delayed-broken.eml": [
        lambda m: _recipient(m, "status") == "4.2.2", lambda m: _recipient(m, "final_recipient") == "demo@example.com",
    ],
    "bounce/no-mx.eml": [
        lambda m: m.subject == "Delayed Mail (still being retried)",
        lambda m: _recipient(m, "status") == "4.4.4" and _recipient(m, "action") == "delayed",
    ],
    "bounce/gmail-no-dns.eml": [lambda m: "user@example.comm" in _dsn(m).get("failed_recipients", [])],
    "bounce/gmail-invalid-address.eml": [lambda m: m.attachments == []],
    "bounce/broken-mime.eml": [lambda m: m.attachments == []],
    "complaints/aol.eml": [lambda m: [a.content_type for a in m.attachments] == ["message/rfc822"]],
    "complaints/yahoo.eml": [lambda m: [a.content_type for a in m.attachments] == ["message/rfc822"]],
    "8bitmime.eml": [lambda m: len(m.addressed_to) == 2],
    "from-encoding.eml": [
        lambda m: m.provider.get("from_name") == "Ingo Lütkebohle",
        lambda m: m.provider.get("from") == "ingo@blank.pages.de",
        lambda m: AdapterFlag.mailing_list in m.flags,
    ],
    "encoded-header.eml": [lambda m: m.sender.display_name == "Foo, Bar"],
    "quoted-printable.eml": [lambda m: "=\n" not in m.text and m.text.startswith("Hello Bob")],
    "outlook-express.eml": [
        lambda m: AdapterFlag.empty_text in m.flags,
        lambda m: [a.content_type for a in m.attachments] == ["application/octet-stream"],
    ],
    "iphone.eml": [lambda m: [(a.filename, a.content_type) for a in m.attachments] == [("photo.JPG", "image/jpeg")]],
    "dashed-boundaries.eml": [lambda m: m.provider.get("has_html") is True],
    "missing-boundaries.eml": [lambda m: "Content-Type:" in m.text],
    "mailformed-headers.eml": [lambda m: m.sender.platform_id == "headers@gmail.com"],
    "apache-message-news-mime.eml": [
        lambda m: [a.content_type for a in m.attachments] == ["message/news"], lambda m: AdapterFlag.forwarded in m.flags,
    ],
    "enclosed.eml": [
        lambda m: [(a.filename, a.content_type) for a in m.attachments] == [("thanks.eml", "message/rfc822")],
        lambda m: AdapterFlag.forwarded in m.flags,
    ],
}

MAIL_PARSER_FACTS: dict[str, list[Check]] = {
    "mail_test_3": [lambda m: [(a.filename, a.content_type) for a in m.attachments] == [("message.txt", "text/plain")]],
    "mail_test_12": [
        lambda m: m.sender.display_name == "张先生" and m.subject == "代开各地增值税发票",
        lambda m: "增值税发票" in m.text,
        lambda m: "danglüe@email.com" in _to(m),
    ],
    "mail_test_14": [
        lambda m: m.text == "Plaintext here.",
        lambda m: [(a.content_type, a.size) for a in m.attachments] == [("image/png", len(b"PNG here"))],
    ],
    "mail_test_16": [
        lambda m: (m.sender.platform_id, m.sender.display_name) == ("sender@example.net", "Sender"),
        lambda m: _to(m) == {"recipient@example.net"},
        lambda m: m.subject == "Test spam mail (GTUBE)",
        lambda m: m.provider_message_id == "GTUBE1.1010101@example.net",
    ],
    "mail_test_18": [
        lambda m: (m.sender.platform_id, m.sender.display_name) == ("comma.name@example.com", "LastßlName, FirstName"),
        lambda m: _to(m) == {"tony.stark@example.com", "simple@example.net", "john.doe@example.com"},
    ],
    "mail_test_19": [
        lambda m: (m.provider.get("from"), m.provider.get("from_name")) == ("bob@example.com", "alice@example.com"),
        lambda m: m.sender.platform_id == "ivan@example.com",  # Reply-To preferred
        lambda m: _to(m) == {"charlie@example.com", "dave@example.com", "frank@example.com"},
    ],
    "mail_malformed_2": [
        lambda m: len(m.attachments) == 1, lambda m: _recipient(m, "status") == "4.2.2",
    ],
    "mail_malformed_3": [
        lambda m: (m.sender.platform_id, m.sender.display_name) == ("smgesi4@gmail.com", "VICTORIA Souvenirs"),
    ],
}


def _common(spec: dict, m: InboundMessage, cap: int | None = None) -> list[bool]:
    results = []
    kind = _kind(spec["kind"]) if "kind" in spec else None
    if kind is not None:
        results.append(m.kind == kind)
    for key in ("text", "reply_text_quote_stripped", "text_plain"):
        if key in spec:
            want = spec[key]
            results.append(m.text == "" and AdapterFlag.empty_text in m.flags if want is None
                           else _lines(m.text) == _lines(want))
    if "subject" in spec:
        results.append(m.subject == spec["subject"])
    if "attachments" in spec:
        count = len(_attachments(m))
        results.append((min(count, cap) if cap else count) == spec["attachments"])
    if "sender" in spec:
        results.append(m.sender.platform_id == spec["sender"])
    if "sender_name" in spec:
        results.append(m.sender.display_name == spec["sender_name"])
    return results


def _run_group(group: str, cases: dict[str, bool]) -> None:
    for name in (n for n, ok in cases.items() if not ok):
        print(f"  FAIL {name}" + (f"  [known: {KNOWN_UNHANDLED[name]}]" if name in KNOWN_UNHANDLED else ""))
    ratchet(group, cases)


def _check_fixtures(folder: Path, facts: dict[str, list[Check]], prefix: str, cap: int | None = None) -> dict[str, bool]:
    expected = json.loads((folder / "expected.json").read_bytes())["fixtures"]
    outcome = {}
    for name, spec in expected.items():
        m = _normalize((folder / name).read_bytes())
        checks = _common(spec, m, cap)
        checks += [bool(check(m)) for check in facts.get(name, [])]
        outcome[f"{prefix}/{name}"] = all(checks)
    return outcome


def test_chatwoot_group(conformance_dir: Path) -> None:
    outcome = _check_fixtures(conformance_dir / "email" / "chatwoot", CHATWOOT_FACTS, "chatwoot", CHATWOOT_ATTACHMENT_CAP)
    _run_group("email/chatwoot", outcome)


def test_flanker_group(conformance_dir: Path) -> None:
    _run_group("email/flanker", _check_fixtures(conformance_dir / "email" / "flanker", FLANKER_FACTS, "flanker"))


def test_mail_parser_group(conformance_dir: Path) -> None:
    outcome = _check_fixtures(conformance_dir / "email" / "mail_parser", MAIL_PARSER_FACTS, "mail_parser")
    _run_group("email/mail_parser", outcome)


def test_talon_standard_replies(conformance_dir: Path) -> None:
    folder = conformance_dir / "email" / "talon"
    expected = json.loads((folder / "expected.json").read_bytes())["fixtures"]
    outcome = {}
    for name, spec in expected.items():
        if not name.startswith("standard_replies/"):
            continue
        want = (folder / spec["expected_from_file"]).read_bytes().decode() if "expected_from_file" in spec else "Hello"
        m = _normalize((folder / name).read_bytes())
        # talon strips quotations only; our text also drops the signature, which we keep in provider["signature"]
        quote_stripped = "\n\n".join(p for p in (m.text, m.provider.get("signature")) if p)
        outcome[f"talon/{name}"] = _lines(quote_stripped) == _lines(want)
    share = _normalize((folder / "reply-quotations-share-block.eml").read_bytes())
    outcome["talon/reply-quotations-share-block.eml"] = bool(share.text.strip()) and "From" not in share.text
    _run_group("email/talon", outcome)


@pytest.mark.parametrize("group", ["chatwoot", "flanker", "mail_parser"])
def test_every_fixture_has_a_known_expectation(conformance_dir: Path, group: str) -> None:
    folder = conformance_dir / "email" / group
    expected = json.loads((folder / "expected.json").read_bytes())["fixtures"]
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "expected.json"}
    assert files == set(expected), "fixtures without expectations (or the reverse) would silently drop out"
