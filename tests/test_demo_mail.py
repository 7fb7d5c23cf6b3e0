"""The demo's local mail servers: set for tenants without their own mailbox only, mail appended, catcher lines."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest
from mail_servers import mail
from polling import until

from contracts.channels import ChannelKind
from contracts.outbound import DeliveryEvent, DeliveryStatus
from workers.policy_files import load_policies
from workers.runtime.demo import describe_delivery
from workers.runtime import demo_mail
from workers.runtime.demo_mail import describe_caught, mailbox_tenants, start_demo_mail
from workers.settings import Settings
from workers.stack.mail_servers import Received

POLICIES = load_policies(Settings().policy_dirs)


def test_only_tenants_without_their_own_imap_url_get_the_local_mailbox() -> None:
    assert mailbox_tenants(POLICIES, {}) == ["alkonect", "conek", "izonie"]
    assert mailbox_tenants(POLICIES, {"CONEK_IMAP_URL": "imaps://me:pw@imap.gmail.com/INBOX"}) == ["alkonect", "izonie"]


@pytest.mark.asyncio
async def test_missing_dev_packages_leave_the_demo_on_kafka_with_one_clear_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(demo_mail, "missing_packages", lambda: ["pymap"])
    lines: list[str] = []
    async with AsyncExitStack() as stack:
        assert await start_demo_mail(stack, POLICIES, tmp_path, lines.append, environ={}) is None
    assert len(lines) == 1 and "pymap not installed" in lines[0] and "straight to Kafka" in lines[0], lines


@pytest.mark.asyncio
async def test_the_local_servers_take_appended_mail_and_print_what_they_catch(tmp_path: Path) -> None:
    lines: list[str] = []
    own_smtp = "smtps://me:pw@smtp.example.com"
    async with AsyncExitStack() as stack:
        running = await start_demo_mail(stack, POLICIES, tmp_path, lines.append,
                                        environ={"IZONIE_IMAP_URL": "imaps://me:pw@imap.example.com/INBOX",
                                                 "CONEK_SMTP_URL": own_smtp})
        assert running is not None
        await running.ready()
        assert running.tenants == ["alkonect", "conek"] and running.takes("alkonect") and not running.takes("izonie")
        assert set(running.env) == {"ALKONECT_IMAP_URL", "ALKONECT_SMTP_URL", "CONEK_IMAP_URL"}  # their own win
        uid = await running.append("alkonect", mail("Where is my parcel?"), datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
        with running.imap.client() as client:
            client.select_folder("alkonect", readonly=True)
            assert list(client.search(["ALL"])) == [uid]
            assert client.fetch([uid], ["INTERNALDATE"])[uid][b"INTERNALDATE"].date().isoformat() == "2026-03-02"
        from aiosmtplib import SMTP
        async with SMTP(hostname="127.0.0.1", port=running.catcher.port) as smtp:
            await smtp.login("mailer", "s3cret")
            await smtp.sendmail("", ["ada@example.net"], b"From: support@alkonect.com\r\nTo: ada@example.net\r\n"
                                b"Subject: Re: Where is my parcel?\r\nIn-Reply-To: <a-1@example.net>\r\n"
                                b"Auto-Submitted: auto-replied\r\n\r\nThank you for writing.\r\n")
        await until(lambda: any(line.startswith("mail catcher:") for line in lines), what="the catcher's line")
    assert lines[0].startswith("demo: mailboxes of alkonect, conek on a local IMAP server (pymap, in memory)")
    assert ("mail catcher: automatic mail to ada@example.net (In-Reply-To <a-1@example.net>): "
            "'Re: Where is my parcel?': Thank you for writing.") in lines
    assert running.imap.proc.poll() is not None  # stopped with the stack


def test_an_agents_reply_is_told_apart_from_automatic_mail() -> None:
    raw = b"Subject: Re: Refund\r\nIn-Reply-To: <t-1@example.ng>\r\n\r\nOn it!\r\n"
    assert describe_caught(Received("<support@alkonect.com>", ["t@example.ng"], raw)) == \
        "mail catcher: reply to t@example.ng (In-Reply-To <t-1@example.ng>): 'Re: Refund': On it!"


@pytest.mark.asyncio
async def test_a_local_imap_server_that_does_not_come_up_is_one_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(demo_mail, "START_TIMEOUT_S", 0.2)
    async with AsyncExitStack() as stack:
        running = await start_demo_mail(stack, POLICIES, tmp_path, [].append, environ={})
        running.imap.stop()  # gone before it listened
        with pytest.raises(demo_mail.LocalMailError, match="the local IMAP server failed: pymap exited"):
            await running.ready()


def test_a_delivery_without_a_work_item_says_so_rather_than_none() -> None:
    event = DeliveryEvent(outbound_id="o-1", tenant="alkonect", work_item_id=None, channel=ChannelKind.email,
                          status=DeliveryStatus.sent, at=datetime(2026, 3, 2, tzinfo=UTC),
                          provider_message_id="omniroute.o-1@alkonect.com", attempts=1)
    assert describe_delivery(event) == ("outbound: alkonect (no work item) reply sent on email "
                                        "(omniroute.o-1@alkonect.com, 1 attempt(s))")
