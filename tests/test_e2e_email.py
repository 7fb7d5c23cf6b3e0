"""Email end to end against real servers on loopback: IMAP (pymap) in, work items, SMTP (aiosmtpd) out."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import aiohttp
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from mail_servers import Mailbox, PymapServer, SmtpCatcher, mail
from polling import until

from channels.email.poller import ImapSession, PollerOptions
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.outbound import DeliveryEvent
from contracts.inbound import InboundMessage
from contracts.topics import ALL_TOPICS, DEAD_LETTER, INBOUND
from workers.app import Ingress, build_app
from workers.runtime.mail_pollers import MailPollers, start_mail_pollers
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "api-t0ken"
# idle_renew_s: pymap never announces mail that landed between the poller's last look and its IDLE; a renewal
# finds it (seen once in a full run: a test's mail was missed for the 30 s it waited)
FAST = PollerOptions(poll_interval_s=0.05, idle_check_s=0.1, backoff_s=0.05, max_backoff_s=0.2, timeout_s=10,
                     idle_renew_s=2.0)
ATTACHMENT_LIMIT = 20 * 2**20  # 20 MiB: a 20 MB attachment is kept, a 21 MB one is not


@dataclass
class Stack:
    bootstrap: str
    box: Mailbox
    smtp: SmtpCatcher
    ingress: Ingress
    queue: RedisWorkQueue
    mail: MailPollers
    events: list[DeliveryEvent]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    imap = PymapServer(tmp_path_factory.mktemp("pymap") / "pymap.log")
    smtp = SmtpCatcher()
    smtp.start()
    broker = EmbeddedBroker(tmp_path_factory.mktemp("email-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    box = Mailbox(imap)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix, api_token=TOKEN,
                        content_dir=tmp_path_factory.mktemp("content"), attachment_max_bytes=ATTACHMENT_LIMIT)
    app = build_app(settings, environ={"ALKONECT_IMAP_URL": box.url(), "ALKONECT_SMTP_URL": smtp.url()})
    stop, events = asyncio.Event(), []
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    task = asyncio.create_task(worker.run(stop))
    try:
        async with AsyncExitStack() as exits:
            await asyncio.wait_for(worker.ready.wait(), 30)
            ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
            await app.start_processors(exits, on_delivery=events.append)
            pollers = await start_mail_pollers(app, exits, producer=ingress.producer, redis=ingress.redis,
                                               options=FAST)
            yield Stack(bootstrap, box, smtp, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), pollers, events)
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        await broker.stop()
        smtp.stop()
        imap.stop()


async def item_for(stack: Stack, subject: str):
    return next((i for i in await stack.queue.list_open("alkonect") if i.subject == subject), None)


async def test_a_mail_appended_to_the_mailbox_becomes_a_work_item_and_is_marked_seen(stack: Stack) -> None:
    subject = f"Where is my order {uuid.uuid4().hex[:6]}"
    uid = stack.box.append(mail(subject))
    item = await until(lambda: item_for(stack, subject), what="the work item")
    assert item.channel == "email" and item.reply_to.recipient == "ada@example.net"
    await until(lambda: _true(b"\\Seen" in stack.box.flags(uid)), what="\\Seen")


async def test_an_auto_reply_opens_no_work(stack: Stack) -> None:
    marker = f"Customer after the auto-reply {uuid.uuid4().hex[:6]}"
    stack.box.append(mail("Automatic reply: Out of office", sender="bob@example.org",
                          extra="Auto-Submitted: auto-replied\r\n"))
    stack.box.append(mail(marker, sender="bob@example.org"))  # same sender, same partition: decided after it
    await until(lambda: item_for(stack, marker), what="the marker's work item")
    subjects = [i.subject for i in await stack.queue.list_open("alkonect")]
    assert "Automatic reply: Out of office" not in subjects


async def test_a_crash_between_publish_and_seen_redelivers_and_dedupe_drops_the_copy(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ImapSession.mark_taken
    crashes = []

    def crash_once(session, uids):
        if not crashes:
            crashes.append(uids)
            raise ConnectionError("the process died before \\Seen (simulated)")
        return real(session, uids)

    monkeypatch.setattr(ImapSession, "mark_taken", crash_once)
    duplicates = stack.mail.intake.counts.duplicates
    subject = f"Charged twice {uuid.uuid4().hex[:6]}"
    uid = stack.box.append(mail(subject, sender="chi@example.com"))
    await until(lambda: _true(b"\\Seen" in stack.box.flags(uid)), what="\\Seen after the retry")
    assert crashes == [[uid]] and stack.mail.intake.counts.duplicates == duplicates + 1
    await until(lambda: item_for(stack, subject), what="the work item")
    items = [i for i in await stack.queue.list_open("alkonect") if i.subject == subject]
    assert len(items) == 1 and len(items[0].message_ids) == 1


async def test_an_unreadable_mail_is_dead_lettered_with_its_uid_and_the_poller_goes_on(stack: Stack) -> None:
    bad = stack.box.append(b"\x00\x01 this is not a mail\r\n")
    subject = f"After the bad one {uuid.uuid4().hex[:6]}"
    stack.box.append(mail(subject, sender="dee@example.com", body="I cannot log in to my account since Monday."))
    await until(lambda: item_for(stack, subject), what="the next mail's work item")
    letters = await read_topic(stack.bootstrap, DEAD_LETTER.name, lambda v: b'"uid":%d' % bad in v)
    assert b"binary data" in letters[0] and b"alkonect" in letters[0]


async def test_an_agent_reply_reaches_the_smtp_server_threaded(stack: Stack) -> None:
    subject = f"Refund for order {uuid.uuid4().hex[:6]}"
    customer_id = f"<{uuid.uuid4().hex}@example.net>"
    stack.box.append(mail(subject, sender="eke@example.com", message_id=customer_id,
                          body="Please refund order 777, the item was damaged."))
    item = await until(lambda: item_for(stack, subject), what="the work item")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.ingress.url}/v1/alkonect/work-items/{item.id}/actions",
                             json={"kind": "reply", "agent_id": "agent-7", "text": "Refunded today, sorry!"},
                             headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 202, await answer.text()
    # two mails reach the customer: the policy's acknowledgement (automatic) and the agent's reply (not)
    await until(lambda: _true(len(to_customer(stack, "eke@example.com")) >= 2), what="both mails")
    mails = to_customer(stack, "eke@example.com")
    replies = [m for m in mails if m["Auto-Submitted"] is None]
    assert len(mails) == 2 and len(replies) == 1, [m["Subject"] for m in mails]
    reply = replies[0]
    event = await until(lambda: _first(e for e in stack.events if e.work_item_id == item.id
                                            and reply["Message-ID"] == f"<{e.provider_message_id}>"),
                             what="the reply's delivery event")
    assert event.status == "sent", event
    assert reply["In-Reply-To"] == customer_id and customer_id in reply["References"]
    assert reply["Subject"] == f"Re: {subject}" and reply["From"] == "support@alkonect.com"
    assert reply.get_content().strip() == "Refunded today, sorry!"


def with_attachment(subject: str, sender: str, data: bytes, filename: str) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, "support@alkonect.com", subject
    mail["Message-ID"], mail["Date"] = f"<{uuid.uuid4().hex}@example.net>", format_datetime(datetime.now(UTC))
    mail.set_content("The invoice for order 4411 is attached; the amount is wrong.")
    mail.add_attachment(data, maintype="application", subtype="pdf", filename=filename)
    return mail.as_bytes()


async def published(stack: Stack, subject: str) -> tuple[bytes, InboundMessage]:
    record = (await read_topic(stack.bootstrap, INBOUND.name, lambda v: subject.encode() in v))[0]
    return record, InboundMessage.model_validate_json(record)


async def test_a_20_mb_attachment_is_kept_in_the_content_store_and_travels_by_reference(stack: Stack) -> None:
    data = os.urandom(20_000_000)
    subject = f"Invoice attached {uuid.uuid4().hex[:6]}"
    raw = with_attachment(subject, "fola@example.com", data, "invoice.pdf")
    assert len(raw) > 26_000_000  # base64 on the wire
    await asyncio.to_thread(stack.box.append, raw)
    await until(lambda: item_for(stack, subject), what="the work item", timeout=60)
    record, message = await published(stack, subject)
    assert len(record) < 10_000, len(record)  # the message carries a reference, never the bytes
    [attachment] = message.attachments
    assert attachment.filename == "invoice.pdf" and attachment.content_type == "application/pdf"
    assert attachment.size == len(data) and attachment.dropped is None
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    path = Path(url2pathname(urlparse(attachment.uri).path))
    assert attachment.uri.startswith("file:///") and path.name == attachment.sha256
    assert hashlib.sha256(path.read_bytes()).hexdigest() == attachment.sha256


async def test_an_attachment_over_the_limit_is_dropped_with_its_reason_and_the_mail_taken_in(stack: Stack) -> None:
    dropped = stack.mail.intake.counts.attachments_dropped
    subject = f"Scans attached {uuid.uuid4().hex[:6]}"
    raw = with_attachment(subject, "gbenga@example.com", os.urandom(21_000_000), "scans.pdf")
    uid = await asyncio.to_thread(stack.box.append, raw)
    await until(lambda: item_for(stack, subject), what="the work item", timeout=60)
    _, message = await published(stack, subject)
    [attachment] = message.attachments
    assert attachment.size == 21_000_000 and attachment.sha256 is None and attachment.uri is None
    assert attachment.dropped == f"21,000,000 bytes, over the {ATTACHMENT_LIMIT:,}-byte attachment limit: not kept"
    assert stack.mail.intake.counts.attachments_dropped == dropped + 1
    await until(lambda: _true(b"\\Seen" in stack.box.flags(uid)), what="\\Seen")


async def test_an_answer_that_references_only_our_mail_is_threaded_onto_its_conversation(stack: Stack) -> None:
    """The customer's client dropped References: In-Reply-To names our acknowledgement only. Its reply token (the
    outbound id in our Message-ID) is found in the delivery index, and the answer joins the customer's thread."""
    customer_id = f"<{uuid.uuid4().hex}@example.net>"
    subject = f"Damaged blender {uuid.uuid4().hex[:6]}"
    stack.box.append(mail(subject, sender="ife@example.com", message_id=customer_id,
                          body="The blender from order 5521 arrived cracked."))
    item = await until(lambda: item_for(stack, subject), what="the work item")
    ack_id = (await acknowledgement_indexed(stack, "ife@example.com"))["Message-ID"]
    assert ack_id.startswith("<omniroute.")
    answer = mail("Re: thanks", sender="ife@example.com", body="Photos are on the way, thank you.",
                  extra=f"In-Reply-To: {ack_id}\r\n")
    stack.box.append(answer)
    _, message = await published(stack, "Photos are on the way")
    assert message.conversation_key == customer_id.strip("<>") and message.reply.references[0] == message.conversation_key
    assert message.provider["threaded_by"] == f"our Message-ID {ack_id}"
    await answer_merged(stack, item.id)


async def test_an_answer_sent_to_our_plus_tagged_reply_to_is_threaded_onto_its_conversation(stack: Stack) -> None:
    """The customer's client dropped References and In-Reply-To: the answer went to our Reply-To, the official
    mailbox tagged with the outbound id of our acknowledgement, and joins the customer's thread by that tag."""
    customer_id = f"<{uuid.uuid4().hex}@example.net>"
    subject = f"Broken kettle {uuid.uuid4().hex[:6]}"
    stack.box.append(mail(subject, sender="obi@example.com", message_id=customer_id,
                          body="The kettle from order 5522 leaks."))
    item = await until(lambda: item_for(stack, subject), what="the work item")
    plus = (await acknowledgement_indexed(stack, "obi@example.com"))["Reply-To"]
    assert plus.startswith("support+") and plus.endswith("@alkonect.com")
    stack.box.append(mail("Kettle photos", sender="obi@example.com", to=plus, body="Kettle photos attached soon."))
    _, message = await published(stack, "Kettle photos attached soon")
    assert message.reply.in_reply_to == [] and message.conversation_key == customer_id.strip("<>")
    assert message.provider["threaded_by"] == f"plus address <{plus.lower()}>"
    await answer_merged(stack, item.id)


async def test_an_answer_with_no_reply_headers_joins_by_subject_and_sender(stack: Stack) -> None:
    """The last resort: no References, no In-Reply-To, sent to the untagged mailbox; the same sender on the same
    subject (`AW: Re:` stripped) joins the open item, though its text alone would open new work."""
    subject = f"Blender {uuid.uuid4().hex[:6]}"
    stack.box.append(mail(subject, sender="uche@example.com", body="The blender from order 5523 arrived cracked."))
    item = await until(lambda: item_for(stack, subject), what="the work item")
    stack.box.append(mail(f"AW: Re: {subject.upper()}", sender="uche@example.com",
                          body="Also, how do I change the password of my account? The reset link never comes."))
    _, message = await published(stack, "The reset link never comes")
    assert message.reply.in_reply_to == message.reply.references == [] and "threaded_by" not in message.provider
    assert message.provider["thread_subject"] == subject.casefold()
    await answer_merged(stack, item.id)


async def acknowledgement_indexed(stack: Stack, address: str):
    """The acknowledgement mailed to `address`, once its delivery event is in (so the delivery index knows it)."""
    await until(lambda: _true(bool(to_customer(stack, address))), what="the acknowledgement")
    ack = to_customer(stack, address)[0]
    await until(lambda: _first(e for e in stack.events if f"<{e.provider_message_id}>" == ack["Message-ID"]),
                what="the acknowledgement's delivery event (the index knows it)")
    return ack


async def answer_merged(stack: Stack, item_id: str) -> None:
    """Wait until the answer joined the customer's work item (its second message)."""
    async def merged():
        current = await stack.queue.get(item_id)
        return current if len(current.message_ids) == 2 else None

    assert (await until(merged, what="the answer merged into the customer's work item")).id == item_id


def to_customer(stack: Stack, address: str) -> list:
    return [message_from_bytes(r.content, policy=policy.default) for r in stack.smtp.received
            if address in r.rcpt_tos]


async def _first(found):
    return next(iter(found), None)


async def read_topic(bootstrap: str, topic: str, wanted, timeout: float = 20.0) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None,
                                fetch_max_wait_ms=100)
    await consumer.start()
    found: list[bytes] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not found and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [r.value for r in records if wanted(r.value)]
    finally:
        await consumer.stop()
    assert found, f"nothing wanted on {topic}"
    return found


async def _true(value: bool) -> bool:
    return value
