"""Unit tests for normalize_email: charsets, RFC 2047, dates, filenames, classification, threading."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from channels.filenames import safe_filename
from channels.email.normalize import UNKNOWN_SENDER, EmailParseError, normalize_email
from contracts.inbound import AdapterFlag, MessageKind

RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
BASE_HEADERS = (
    b"From: Ann Customer <ann@example.com>\r\n"
    b"To: support@acme.test\r\n"
    b"Date: Tue, 30 Apr 2024 10:00:00 +0200\r\n"
    b"Message-ID: <m1@example.com>\r\n"
)


def mail(extra: bytes = b"", body: bytes = b"Hello there\r\n", *, base: bytes = BASE_HEADERS,
         ctype: bytes = b"text/plain; charset=utf-8", cte: bytes | None = None) -> bytes:
    head = base + extra + b"Content-Type: " + ctype + b"\r\n"
    if cte:
        head += b"Content-Transfer-Encoding: " + cte + b"\r\n"
    return head + b"\r\n" + body


def norm(raw: bytes, **kw):
    kw.setdefault("received_at", RECEIVED)
    return normalize_email(raw, tenant="acme", **kw)


# --- charsets and encodings -------------------------------------------------------------------------

@pytest.mark.parametrize(("ctype", "cte", "body", "text"), [
    (b"text/plain; charset=iso-8859-1", b"8bit", "Grüße, café".encode("latin-1"), "Grüße, café"),
    (b"text/plain; charset=gb2312", b"8bit", "你好，发票".encode("gb18030"), "你好，发票"),
    (b"text/plain; charset=gb2312", b"8bit", "鎔".encode("gb18030"), "鎔"),  # GBK-only char under a gb2312 label
    (b"text/plain", b"8bit", "Превет".encode(), "Превет"),  # undeclared 8-bit UTF-8
    (b"text/plain; charset=utf-8", b"8bit", "Preço €5".encode("cp1252"), "Preço €5"),  # lies about utf-8
    (b"text/plain; charset=x-no-such-charset", b"8bit", "naïve".encode(), "naïve"),
    (b"text/plain; charset=utf-8", b"base64", b"SGVsbG8gd29ybGQg4pyU", "Hello world ✔"),
    (b"text/plain; charset=utf-8", b"quoted-printable", b"caf=C3=A9 =\r\nau lait", "café au lait"),
    (b"text/plain; charset=utf-8", b"8bit", b"\xef\xbb\xbfBOM first", "BOM first"),
])
def test_body_charsets_never_raise(ctype, cte, body, text):
    assert norm(mail(ctype=ctype, cte=cte, body=body)).text == text


@pytest.mark.parametrize(("subject", "expected"), [
    (b"=?UTF-8?Q?Caf=C3=A9_ouvert?=", "Café ouvert"),
    (b"=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?=", "café"),  # one UTF-8 character split over two encoded words
    (b"=?ISO-8859-1?Q?Gr=FC=DFe?= aus Berlin", "Grüße aus Berlin"),
    (b"=?GB2312?B?tPq/qrj3tdjU9ta1y7C3osax?=", "代开各地增值税发票"),
    ("Grüße raw".encode(), "Grüße raw"),  # raw 8-bit UTF-8 in a header
    (b"caf\xe9 raw", "café raw"),  # raw latin-1 byte in a header
    (b"=?UTF-8?B?broken", "=?UTF-8?B?broken"),  # malformed word kept as written
])
def test_subject_decoding(subject, expected):
    assert norm(mail(b"Subject: " + subject + b"\r\n")).subject == expected


def test_display_name_with_encoded_comma_and_raw_byte():
    base = (b"From: =?UTF-8?B?Rm9vLCBCYXI=?= <Foo.Bar@Example.com>\r\nTo: a@acme.test\r\n"
            b"Date: Tue, 30 Apr 2024 10:00:00 +0200\r\n")
    m = norm(mail(base=base))
    assert (m.sender.platform_id, m.sender.display_name, m.sender.email) == ("foo.bar@example.com", "Foo, Bar",
                                                                            "foo.bar@example.com")
    latin = base.replace(b"=?UTF-8?B?Rm9vLCBCYXI=?=", b'"Ingo L\xfctkebohle"')
    assert norm(mail(base=latin)).sender.display_name == "Ingo Lütkebohle"


# --- missing headers and dates -------------------------------------------------------------------------

def test_missing_subject_message_id_and_date():
    raw = b"From: ann@example.com\r\nTo: support@acme.test\r\n\r\nhi\r\n"
    m = norm(raw)
    assert m.subject is None
    assert m.sent_at is None and m.received_at == RECEIVED
    assert m.provider_message_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert m.reply.message_id is None
    assert m.conversation_key.startswith("sha256:")


def test_date_is_used_when_received_at_missing():
    m = normalize_email(mail(), tenant="acme")
    assert m.sent_at == m.received_at == datetime(2024, 4, 30, 8, 0, tzinfo=timezone.utc)


def test_received_header_is_the_last_resort():
    raw = (b"Received: from mx.acme.test by mail.acme.test; Wed, 1 May 2024 09:15:00 +0000\r\n"
           b"Received: from edge by mx.acme.test; Wed, 1 May 2024 09:14:00 +0000\r\n"
           b"From: ann@example.com\r\n\r\nhi\r\n")
    m = normalize_email(raw, tenant="acme")
    assert m.sent_at is None
    assert m.received_at == datetime(2024, 5, 1, 9, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize("date", [b"", b"Date: yesterday-ish\r\n", b"Date: Tue, 30 Apr 2024 10:00:00 -0000\r\n"])
def test_no_usable_date_raises_without_received_at(date):
    raw = b"From: ann@example.com\r\n" + date + b"\r\nhi\r\n"
    with pytest.raises(EmailParseError):
        normalize_email(raw, tenant="acme")
    assert norm(raw).sent_at is None  # naive (-0000) and garbage dates are not sent_at


# --- attachments -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "ctype", "expected"), [
    ("../../etc/passwd", None, "passwd"),
    ("C:\\Users\\bob\\evil.exe", None, "evil.exe"),
    ("a\x00b\x1fc.txt", None, "abc.txt"),
    ("invoice\u202egpj.exe", None, "invoicegpj.exe"),  # RTL override (a format character) dropped
    ("  .hidden  ", None, "hidden"),
    ("", "image/png", "attachment-3.png"),
    (None, None, "attachment-3.bin"),
    (None, "message/rfc822", "attachment-3.eml"),
    ("x" * 300 + ".pdf", None, "x" * 116 + ".pdf"),
])
def test_safe_filename(name, ctype, expected):
    assert safe_filename(name, 3, ctype) == expected


def _multipart(parts: list[bytes], subtype: bytes = b"mixed") -> bytes:
    body = b"".join(b"--XYZ\r\n" + p + b"\r\n" for p in parts) + b"--XYZ--\r\n"
    return mail(ctype=b"multipart/" + subtype + b'; boundary="XYZ"', body=body)


TEXT_PART = b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee attached\r\n"
PNG_INLINE = (b"Content-Type: image/png\r\nContent-Disposition: inline; filename=\"pic.png\"\r\n"
              b"Content-ID: <img1@acme>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n")


def test_attachment_metadata_and_cid_inline():
    html = b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Look</p><img src=\"cid:img1@acme\">\r\n"
    m = norm(_multipart([html, PNG_INLINE], b"related"))
    (att,) = m.attachments
    assert (att.filename, att.content_type, att.size, att.inline, att.content_id) == (
        "pic.png", "image/png", 8, True, "img1@acme")
    assert m.text == "Look"


def test_unreferenced_inline_image_is_a_real_attachment():
    m = norm(_multipart([TEXT_PART, PNG_INLINE]))
    assert [(a.filename, a.inline) for a in m.attachments] == [("pic.png", False)]


def test_attachment_only_mail_has_empty_text_flag():
    pdf = (b"Content-Type: application/pdf; name=\"../x.pdf\"\r\nContent-Disposition: attachment\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n")
    m = norm(_multipart([pdf]))
    assert m.text == "" and AdapterFlag.empty_text in m.flags
    assert [(a.filename, a.size) for a in m.attachments] == [("x.pdf", 5)]


def test_forwarded_message_counts_as_attachment():
    inner = b"Content-Type: message/rfc822\r\n\r\nFrom: x@y.test\r\nSubject: Old\r\n\r\nold body\r\n"
    m = norm(_multipart([TEXT_PART, inner]))
    assert [(a.filename, a.content_type) for a in m.attachments] == [("attachment-1.eml", "message/rfc822")]
    assert AdapterFlag.forwarded in m.flags
    assert m.text == "See attached"


def test_html_only_mail_becomes_text():
    m = norm(mail(ctype=b"text/html; charset=utf-8", body=b"<html><body><h1>Order 42</h1><p>is late</p></body></html>"))
    assert "Order 42" in m.text and "is late" in m.text and "<" not in m.text


def test_plain_text_attachment_is_not_the_body():
    note = b"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=notes.txt\r\n\r\nsecret notes\r\n"
    m = norm(_multipart([note, TEXT_PART]))
    assert m.text == "See attached"
    assert [a.filename for a in m.attachments] == ["notes.txt"]


# --- classification ------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "kind", "flags"), [
    (b"", MessageKind.customer_message, set()),
    (b"Auto-Submitted: auto-replied\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"Auto-Submitted: auto-generated\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"Auto-Submitted: no\r\n", MessageKind.customer_message, set()),
    (b"X-Autoreply: yes\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"X-Autorespond: on vacation\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"Precedence: auto_reply\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"X-Auto-Response-Suppress: All\r\n", MessageKind.customer_message, set()),  # a request, not a marker
    (b"X-Auto-Response-Suppress: All\r\nX-MS-Exchange-Inbox-Rules-Loop: ann@example.com\r\n",
     MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"Subject: Automatic reply: your ticket\r\n", MessageKind.auto_reply, {AdapterFlag.auto_submitted}),
    (b"Subject: Question about vacation packages\r\n", MessageKind.customer_message, set()),
    (b"List-Id: <news.acme.test>\r\n", MessageKind.customer_message, {AdapterFlag.mailing_list}),
    (b"List-Unsubscribe: <mailto:u@acme.test>\r\n", MessageKind.customer_message, {AdapterFlag.mailing_list}),
    (b"Precedence: list\r\n", MessageKind.customer_message, {AdapterFlag.mailing_list}),
    (b"X-Omniroute-Notification: assigned\r\n", MessageKind.system_notification, set()),
    (b"X-Failed-Recipients: gone@example.com\r\n", MessageKind.bounce, set()),
])
def test_header_classification(headers, kind, flags):
    m = norm(mail(headers))
    assert m.kind == kind
    assert {AdapterFlag.auto_submitted, AdapterFlag.mailing_list} & set(m.flags) == flags


def test_configured_notifier_sender_is_system_notification():
    assert norm(mail(), notifier_addresses={"ANN@example.com"}).kind == MessageKind.system_notification
    assert norm(mail(), notifier_addresses={"@example.com"}).kind == MessageKind.system_notification
    assert norm(mail(), notifier_addresses={"other@example.com"}).kind == MessageKind.customer_message


def _report(report_type: bytes, report_part: bytes) -> bytes:
    return _multipart([TEXT_PART, report_part], b"report; report-type=" + report_type)


def test_dsn_is_a_bounce_with_facts():
    status = (b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.acme.test\r\n\r\n"
              b"Final-Recipient: rfc822; Gone@Example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
              b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n")
    m = norm(_report(b"delivery-status", status))
    assert m.kind == MessageKind.bounce
    assert m.provider["dsn"]["status_codes"] == ["5.1.1"] and m.provider["dsn"]["permanent"] is True
    assert m.provider["dsn"]["recipients"][0]["final_recipient"] == "gone@example.com"
    assert AdapterFlag.forwarded not in m.flags


@pytest.mark.parametrize(("report_type", "ctype", "kind"), [
    (b"feedback-report", b"message/feedback-report", MessageKind.complaint),
    (b"disposition-notification", b"message/disposition-notification", MessageKind.read_receipt),
])
def test_reports(report_type, ctype, kind):
    assert norm(_report(report_type, b"Content-Type: " + ctype + b"\r\n\r\nX: y\r\n")).kind == kind


def test_plain_text_daemon_bounce():
    base = (b"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>\r\nTo: support@acme.test\r\n"
            b"Date: Tue, 30 Apr 2024 10:00:00 +0200\r\nSubject: Undelivered Mail Returned to Sender\r\n")
    m = norm(mail(base=base, body=b"Your message could not be delivered: 550 5.2.2 mailbox full\r\n"))
    assert m.kind == MessageKind.bounce and m.provider["dsn"]["status_codes"] == ["5.2.2"]
    # the same daemon sender writing something that is not a DSN stays a customer message
    base_info = base.replace(b"Undelivered Mail Returned to Sender", b"Postmaster hours")
    assert norm(mail(base=base_info, body=b"We are open 9-5.\r\n")).kind == MessageKind.customer_message


# --- sender preference -------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "platform_id", "name"), [
    (b"From: Ann <ANN@Example.com>\r\n", "ann@example.com", "Ann"),
    (b"From: Ann <ann@example.com>\r\nReply-To: Ann Home <ann.home@example.org>\r\n", "ann.home@example.org", "Ann Home"),
    (b"From: Ann <ann@example.com>\r\nReply-To: <\"\">\r\n", "ann@example.com", "Ann"),
    (b"From: Group <group@lists.test>\r\nX-Original-Sender: jane@example.com\r\n", "jane@example.com", "Group"),
    (b"From: Ann <ann@example.com>\r\nReply-To: support@acme.test\r\n", "ann@example.com", "Ann"),  # list munging
    (b"From: alice@example.com <bob@example.com>\r\n", "bob@example.com", "alice@example.com"),
    (b"From: \"\" (Mail Delivery System)\r\n", UNKNOWN_SENDER, "Mail Delivery System"),
])
def test_sender_preference(headers, platform_id, name):
    base = b"To: support@acme.test\r\nDate: Tue, 30 Apr 2024 10:00:00 +0200\r\n" + headers
    m = norm(mail(base=base))
    assert (m.sender.platform_id, m.sender.display_name) == (platform_id, name)


def test_addressed_to_collects_every_recipient_header():
    base = (b"From: ann@example.com\r\nTo: \"Support\" <Support@Acme.test>, <vishnu@acme.test>vishnu@acme.test\r\n"
            b"Cc: sales@acme.test, support@acme.test\r\nDelivered-To: inbox@acme.test\r\n"
            b"X-Original-To: orig@acme.test\r\nEnvelope-To: env@acme.test\r\n")
    m = norm(mail(base=base))
    assert [e.value for e in m.addressed_to] == [
        "support@acme.test", "vishnu@acme.test", "sales@acme.test", "inbox@acme.test", "orig@acme.test", "env@acme.test"]
    assert {e.kind.value for e in m.addressed_to} == {"mailbox"}


# --- threading and dedupe ------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "key"), [
    (b"In-Reply-To: <p2@x>\r\nReferences: <root@x>\r\n <p1@x> <p2@x>\r\n", "root@x"),
    (b"In-Reply-To: <p2@x>, <p2@x>\r\n", "p2@x"),
    (b"", "m1@example.com"),
])
def test_conversation_key(headers, key):
    assert norm(mail(headers)).conversation_key == key


def test_reply_refs_and_thread_token():
    base = BASE_HEADERS.replace(b"To: support@acme.test",
                                b"To: Replies <reply+6BDC3F4D-0bec-4515-a284-5d916fdde489@acme.test>")
    m = norm(mail(b"In-Reply-To: <a@x> <b@x>\r\nReferences: <a@x>\r\n", base=base))
    assert m.reply.message_id == "m1@example.com" and m.provider_message_id == "m1@example.com"
    assert m.reply.in_reply_to == ["a@x", "b@x"] and m.reply.references == ["a@x"]
    assert m.reply.thread_token == "6bdc3f4d-0bec-4515-a284-5d916fdde489"
    assert (m.channel.value, m.message_type) == ("email", "email")


def test_message_id_reuse_with_other_body_changes_fingerprint():
    first, second = norm(mail(body=b"Order 1 is late\r\n")), norm(mail(body=b"Order 2 is late\r\n"))
    assert first.provider_message_id == second.provider_message_id
    assert first.provider["body_sha256"] != second.provider["body_sha256"]
    rewrapped = norm(mail(body=b"Order 1   is\r\nlate\r\n"))
    assert rewrapped.provider["body_sha256"] == first.provider["body_sha256"]


def test_quoted_history_is_split_off():
    body = b"Thanks, that works.\r\n\r\nOn Mon, Apr 29, 2024 at 9:00 AM Support <support@acme.test> wrote:\r\n> Try again\r\n"
    m = norm(mail(body=body))
    assert m.text == "Thanks, that works."
    assert "> Try again" in (m.quoted_text or "")
    assert AdapterFlag.has_quoted_history in m.flags


def test_sent_at_keeps_the_offset():
    assert norm(mail()).sent_at.utcoffset() == timedelta(hours=2)
