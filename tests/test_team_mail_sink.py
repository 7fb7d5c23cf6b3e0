"""The team email sink against a real SMTP server (aiosmtpd on loopback): one mail per event, threaded per work item
by stable Message-IDs, retried on 4xx, and taken once by the deliver processor however often the event comes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from mail_servers import SmtpCatcher
from pydantic import ValidationError
from redis.asyncio import Redis

from channels.email.classify import NOTIFICATION_HEADER
from channels.email.config import parse_smtp_url
from channels.platform_client import RetryPolicy
from channels.sinks.breaker import CircuitBreaker
from channels.sinks.config import SinkSpec
from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.team_mail import TeamMailSink
from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets, TraceStep
from contracts.errors import ConfigError
from contracts.sinks import SinkEvent, SinkEventType, SinkReceipt
from contracts.workitem import WorkItem, WorkItemState
from workers.runtime.deliver import DeliverProcessor
from workers.sink_files import load_sinks

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
FROM = "omniroute@izonie.example"


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def item(item_id: str, **changes) -> WorkItem:
    sla = SlaTargets(timezone="Africa/Lagos", clock="business", calendar="default", started_at=NOW, rule="std",
                     first_response_due=NOW + timedelta(hours=2))
    found = WorkItem(id=item_id, tenant="izonie", queue="orders", category="order_status", priority=Priority.high,
                     channel=ChannelKind.messenger, customer="messenger:psid-1", conversation_key="c1",
                     text="Where is my order IZ-30021?\r\nBcc: victim@example.com", opened_at=NOW, sla=sla,
                     trace=[TraceStep(rule="categorize", outcome="order_status")])
    return found.model_copy(update=changes)


def event(found: WorkItem, kind: SinkEventType = SinkEventType.created, source: str | None = None,
          **extra) -> SinkEvent:
    return SinkEvent(id=f"msg_{source or uuid.uuid4().hex}", type=kind, tenant="izonie", at=NOW, item=found, **extra)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest_asyncio.fixture
async def sink_and_client(smtp: SmtpCatcher) -> AsyncIterator[tuple[TeamMailSink, SinkClient, str]]:
    team = f"orders-{uuid.uuid4().hex[:6]}@izonie.example"
    sink = TeamMailSink(name="team-mail", tenant="izonie", queues=None, url=parse_smtp_url(smtp.url(), "T"),
                        mailboxes={"orders": team, "*": "support@izonie.example"}, from_address=FROM)
    async with aiohttp.ClientSession() as session:
        yield sink, SinkClient(session, retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)), team


def mails_to(smtp: SmtpCatcher, address: str):
    return [message_from_bytes(r.content, policy=policy.default) for r in smtp.received if address in r.rcpt_tos]


@pytest.mark.asyncio
async def test_every_event_of_an_item_is_one_mail_in_one_thread(smtp: SmtpCatcher, sink_and_client) -> None:
    sink, client, team = sink_and_client
    created, claim = event(item("wi-1")), event(item("wi-1", state=WorkItemState.claimed, assignee="ann"),
                                                SinkEventType.updated, change="claim", agent_id="ann")
    for each in (created, claim, event(item("wi-1", state=WorkItemState.resolved), SinkEventType.resolved)):
        assert (await sink.deliver(each, client, NOW)).ok
    first, second, third = mails_to(smtp, team)
    root = "<omniroute.item.wi-1@izonie.example>"
    assert first["Message-ID"] == root and first["In-Reply-To"] is None
    assert first["Subject"] == "[izonie] order_status from messenger:psid-1 (wi-1)"
    assert second["Message-ID"] == f"<omniroute.{claim.id}@izonie.example>"
    assert second["In-Reply-To"] == root and second["References"] == root and third["References"] == root
    assert second["Subject"] == "Re: " + first["Subject"]
    assert first["Auto-Submitted"] == "auto-generated" and first[NOTIFICATION_HEADER] == created.id
    assert first["Bcc"] is None and "Bcc: victim@example.com" in first.get_content()  # text, not a header
    assert "Queue: orders · category: order_status · priority: high" in first.get_content()
    assert "Updated (claim): work item wi-1" in second.get_content() and "assignee: ann" in second.get_content()


@pytest.mark.asyncio
async def test_a_redelivered_event_repeats_its_message_id(smtp: SmtpCatcher, sink_and_client) -> None:
    sink, client, team = sink_and_client
    again = event(item("wi-2"), SinkEventType.sla_breach, sla_clock="first_response", sla_due=NOW)
    assert (await sink.deliver(again, client, NOW)).ok and (await sink.deliver(again, client, NOW)).ok
    ids = {m["Message-ID"] for m in mails_to(smtp, team)}
    assert ids == {f"<omniroute.{again.id}@izonie.example>"}  # the same id twice: the mailbox dedupes on it


@pytest.mark.asyncio
async def test_a_4xx_is_retried_and_a_5xx_is_final(smtp: SmtpCatcher, sink_and_client) -> None:
    sink, client, team = sink_and_client
    smtp.refuse[team] = "451 4.3.0 Try again later"
    busy = await sink.deliver(event(item("wi-3")), client, NOW)
    assert not busy.ok and busy.attempts == 3 and "451" in busy.error and busy.error.startswith("SMTP mailer@")
    smtp.refuse[team] = "550 5.1.1 No such mailbox"
    gone = await sink.deliver(event(item("wi-3")), client, NOW)
    assert not gone.ok and gone.attempts == 1 and "550" in gone.error
    del smtp.refuse[team]


@pytest.mark.asyncio
async def test_the_deliver_processor_sends_an_event_once(smtp: SmtpCatcher, sink_and_client, redis_url: str) -> None:
    sink, client, team = sink_and_client
    redis, prefix = Redis.from_url(redis_url), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    try:
        queue = RedisWorkQueue(redis, prefix=prefix)
        processor = DeliverProcessor(redis, queue, load_sinks(Path("/nonexistent"), [], {}), client, WallClock(),
                                     prefix=prefix, item_wait_s=0.2, new_breaker=lambda: CircuitBreaker())
        processor.sinks.sinks.append(sink)
        created = event(item("wi-4"), source=f"e4-{prefix}")
        taken, = await processor.deliver(created)
        assert isinstance(taken.value, SinkReceipt) and taken.value.sink == "team-mail"
        assert await processor.deliver(created) == []  # a worker restarted mid-batch: the record comes again
        assert len(mails_to(smtp, team)) == 1
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=10000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def test_a_team_mail_sink_is_configured_per_queue_in_the_sink_file(tmp_path: Path) -> None:
    (tmp_path / "izonie.yaml").write_text("sinks:\n  - name: team-mail\n    kind: email\n"
                                          "    mailboxes: {orders: orders-team@izonie.example}\n"
                                          "    from_address: omniroute@izonie.example\n")
    found = load_sinks(tmp_path, ["izonie"], {"IZONIE_SMTP_URL": "smtps://mailer:pw@smtp.izonie.example"})
    sink, = found.sinks
    assert isinstance(sink, TeamMailSink) and sink.queues == frozenset({"orders"})
    assert (sink.url.host, sink.url.port, sink.from_address) == ("smtp.izonie.example", 465, FROM)
    off = load_sinks(tmp_path, ["izonie"], {})
    assert off.sinks == [] and off.notes == ["izonie/team-mail is off until IZONIE_SMTP_URL is set"]
    with pytest.raises(ConfigError, match="IZONIE_SMTP_URL is malformed"):
        load_sinks(tmp_path, ["izonie"], {"IZONIE_SMTP_URL": "http://smtp.izonie.example"})
    (tmp_path / "izonie.yaml").write_text("sinks:\n  - {name: m, kind: email, mailboxes: {'*': team@izonie.example}}\n")
    with pytest.raises(ConfigError, match="name a from_address"):
        load_sinks(tmp_path, ["izonie"], {"IZONIE_SMTP_URL": "smtp://127.0.0.1:25"})
    with pytest.raises(ValidationError, match="names its mailboxes"):
        SinkSpec(name="m", kind="email")
    with pytest.raises(ValidationError, match="not a mail address"):
        SinkSpec(name="m", kind="email", mailboxes={"*": "team"})
