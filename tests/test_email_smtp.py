"""Email replies against a real SMTP server (aiosmtpd on loopback): threading headers, errors, loops."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
import pytest_asyncio
from mail_servers import SmtpCatcher
from redis.asyncio import Redis

from channels.email.loops import AutoMailCap
from channels.email.send import EmailSender, compose
from channels.email.smtp import SmtpTransport
from channels.platform_client import RetryPolicy
from contracts.channels import ChannelKind
from contracts.outbound import OutboundKind, OutboundMessage, ReplyTarget

pytestmark = pytest.mark.asyncio
FROM = "support@alkonect.com"
CUSTOMER_ID = "CA+abc123@mail.example.net"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest_asyncio.fixture
async def transport(redis_url: str) -> AsyncIterator[SmtpTransport]:
    redis = Redis.from_url(redis_url)
    cap = AutoMailCap(redis, prefix=f"omniroute-test-{uuid.uuid4().hex[:8]}", limit=3)
    yield SmtpTransport({"alkonect": FROM}, cap=cap, retry=RetryPolicy(attempts=3, base_delay_s=0.01),
                        timeout_s=10, sleep=_no_wait)
    await redis.aclose()


async def _no_wait(_: float) -> None:
    return None


def reply(text: str = "Your parcel left the depot this morning.", *, recipient: str = "ada@example.net",
          kind: OutboundKind = OutboundKind.agent_reply, subject: str | None = "My order never arrived",
          root: str = "root-1@mail.example.net") -> OutboundMessage:
    target = ReplyTarget(channel=ChannelKind.email, recipient=recipient, conversation_key=root,
                         endpoint=FROM, provider_message_id=CUSTOMER_ID, received_at=datetime.now(UTC),
                         subject=subject)
    return OutboundMessage(id=str(uuid.uuid4()), tenant="alkonect", work_item_id="wi-1", kind=kind, target=target,
                           text=text)


def received(smtp: SmtpCatcher, recipient: str):
    found = [r for r in smtp.received if recipient in r.rcpt_tos]
    assert len(found) == 1, found
    return found[0], message_from_bytes(found[0].content, policy=policy.default)


async def test_an_agent_reply_is_threaded_and_sent_as_the_tenant(smtp: SmtpCatcher, transport: SmtpTransport) -> None:
    recipient = f"ada-{uuid.uuid4().hex[:6]}@example.net"
    message = reply(recipient=recipient)
    sent = await transport.send(EmailSender(), message, smtp.url())
    assert sent.result.ok and sent.attempts == 1
    envelope, mail = received(smtp, recipient)
    assert envelope.mail_from == FROM and mail["From"] == FROM and mail["To"] == recipient
    assert mail["Subject"] == "Re: My order never arrived"
    assert mail["In-Reply-To"] == f"<{CUSTOMER_ID}>"
    assert mail["References"] == f"<root-1@mail.example.net> <{CUSTOMER_ID}>"
    assert mail["Message-ID"] == f"<omniroute.{message.id}@alkonect.com>" == f"<{sent.result.provider_message_id}>"
    assert mail["X-Auto-Response-Suppress"] == "All" and mail["Auto-Submitted"] is None
    assert mail["Reply-To"] == FROM.replace("@", f"+{message.id}@")  # answers carry the outbound id back
    assert mail.get_content().strip() == "Your parcel left the depot this morning."


async def test_automatic_mail_says_so_and_goes_with_a_null_envelope_sender(smtp: SmtpCatcher,
                                                                           transport: SmtpTransport) -> None:
    recipient = f"bo-{uuid.uuid4().hex[:6]}@example.net"
    sent = await transport.send(EmailSender(), reply(recipient=recipient, kind=OutboundKind.policy_message,
                                                     subject="Re: refund"), smtp.url())
    assert sent.result.ok
    envelope, mail = received(smtp, recipient)
    assert mail["Auto-Submitted"] == "auto-replied" and envelope.mail_from in ("", "<>")
    assert mail["Subject"] == "Re: refund"


async def test_a_loop_with_an_auto_responder_stops_at_the_cap(smtp: SmtpCatcher, transport: SmtpTransport) -> None:
    responder = f"vacation-{uuid.uuid4().hex[:6]}@example.org"
    results = [(await transport.send(EmailSender(), reply(recipient=responder, kind=OutboundKind.policy_message),
                                     smtp.url())).result for _ in range(5)]
    assert [r.ok for r in results] == [True, True, True, False, False]
    assert results[-1].error_code == "auto_mail_capped" and not results[-1].retry
    people = await transport.send(EmailSender(), reply(recipient=responder), smtp.url())
    assert people.result.ok  # an agent's own words are never capped
    for robot in ("MAILER-DAEMON@example.org", "no-reply@example.org"):
        answer = await transport.send(EmailSender(), reply(recipient=robot, kind=OutboundKind.policy_message),
                                      smtp.url())
        assert answer.result.error_code == "robot_recipient"
    ours = await transport.send(EmailSender(), reply(recipient="Support@Alkonect.com"), smtp.url())
    assert ours.result.error_code == "own_address"


async def test_a_wrong_smtp_password_is_a_final_failure(smtp: SmtpCatcher, transport: SmtpTransport) -> None:
    sent = await transport.send(EmailSender(), reply(), smtp.url(password="wrong"))
    assert not sent.result.ok and not sent.result.retry and sent.attempts == 1
    assert sent.result.error_code == "535" and "wrong" not in sent.result.error


async def test_a_refused_recipient_is_final_on_5xx_and_retried_on_4xx(smtp: SmtpCatcher,
                                                                      transport: SmtpTransport) -> None:
    smtp.refuse["gone@example.net"] = "550 5.1.1 No such user"
    smtp.refuse["busy@example.net"] = "451 4.3.0 Try again later"
    gone = await transport.send(EmailSender(), reply(recipient="gone@example.net"), smtp.url())
    assert (gone.result.error_code, gone.result.retry, gone.attempts) == ("550", False, 1)
    busy = await transport.send(EmailSender(), reply(recipient="busy@example.net"), smtp.url())
    assert (busy.result.error_code, busy.attempts) == ("451", 3) and "Try again later" in busy.result.error


async def test_a_disconnect_mid_data_is_retried_and_then_delivered(smtp: SmtpCatcher, transport: SmtpTransport) -> None:
    async def hang_up(server) -> str:
        server.transport.abort()
        return "451 gone"

    smtp.on_data.append(hang_up)
    recipient = f"cut-{uuid.uuid4().hex[:6]}@example.net"
    sent = await transport.send(EmailSender(), reply(recipient=recipient), smtp.url())
    assert sent.result.ok and sent.attempts == 2
    received(smtp, recipient)


async def test_an_unreachable_server_is_retried_then_reported(transport: SmtpTransport) -> None:
    sent = await transport.send(EmailSender(), reply(), "smtp://127.0.0.1:1")
    assert not sent.result.ok and sent.result.retry and sent.attempts == 3 and sent.result.error_code == "unreachable"


async def test_nothing_a_customer_wrote_can_add_a_header() -> None:
    message = reply(subject="Hello\r\nBcc: victim@example.com\r\nX-Evil: 1")
    mail = compose(message, FROM, from_name="Alkonect\r\nBcc: x@example.com")
    raw = mail.as_bytes()
    assert b"\r\nBcc:" not in raw and b"\r\nX-Evil" not in raw
    assert mail["Subject"] == "Re: Hello Bcc: victim@example.com X-Evil: 1"
    for bad in ("ada@example.net\r\nBcc: x@example.com", "not an address", ""):
        with pytest.raises(ValueError):
            compose(reply(recipient=bad), FROM)


async def test_mail_without_a_message_id_is_answered_unthreaded() -> None:
    message = reply().model_copy(update={"target": reply().target.model_copy(
        update={"provider_message_id": "sha256:" + "0" * 64, "conversation_key": "sha256:" + "1" * 32,
                "subject": None})})
    mail = compose(message, FROM)
    assert mail["In-Reply-To"] is None and mail["References"] is None and mail["Subject"] == "Re: your message"
