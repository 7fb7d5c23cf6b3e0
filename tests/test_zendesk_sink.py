"""The Zendesk sink without a broker: the ticket mapping, Zendesk's webhook signatures and events, sink files, and
the sink itself against a local Zendesk fake and Redis (one ticket per item however often it is delivered)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis
from zendesk_fake import ZendeskFake, comment_event, signed_event, solved_event, ticket_event

from channels.platform_client import RetryPolicy
from channels.sinks.breaker import CircuitBreaker
from channels.sinks.config import SinkSpec
from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.zendesk import ZendeskSink
from channels.sinks.zendesk_ticket import MARKER, TicketMap, create_body, requester, update_body
from channels.sinks.zendesk_verify import parse_event, verify
from contracts.channels import ChannelKind
from contracts.decision import Priority, SlaTargets, TraceStep
from contracts.errors import ConfigError, PayloadError
from contracts.sinks import SinkDeadLetter, SinkEvent, SinkEventType, SinkReceipt
from contracts.workitem import AgentActionKind, WorkItem, WorkItemState
from workers.runtime.deliver import DeliverProcessor
from workers.runtime.openapi import document
from workers.runtime.take_action import ActionChecks
from workers.runtime.zendesk_events import PATH, ZendeskDeps, add_zendesk_routes, agent_for
from workers.sink_files import load_sinks

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EMAIL, TOKEN, SECRET = "bot@conek.example", "zd-api-token", "zd-signing-" + uuid.uuid4().hex
DUE = NOW + timedelta(hours=2, minutes=5)


def item(item_id: str = "wi-1", **changes) -> WorkItem:
    sla = SlaTargets(timezone="Africa/Lagos", clock="business", calendar="default", started_at=NOW, rule="std",
                     first_response_due=DUE)
    found = WorkItem(id=item_id, tenant="conek", queue="payment_billing", category="billing dispute",
                     priority=Priority.urgent, channel=ChannelKind.email, customer="email:ada@example.net",
                     conversation_key="c1", subject="Charged twice", text="I was charged twice for May.",
                     opened_at=NOW, sla=sla, trace=[TraceStep(rule="categorize", outcome="billing_dispute")])
    return found.model_copy(update=changes)


def event(found: WorkItem, kind: SinkEventType = SinkEventType.created, **extra) -> SinkEvent:
    return SinkEvent(id=f"msg_{uuid.uuid4().hex}", type=kind, tenant="conek", at=NOW, item=found, **extra)


# --- mapping

def test_a_new_ticket_carries_the_item_id_category_priority_requester_and_sla_due() -> None:
    mapping = TicketMap(groups={"payment_billing": 77, "*": 70}, agents={"5001": "ann"})
    ticket = create_body(event(item()), mapping)["ticket"]
    assert ticket["external_id"] == "wi-1" and ticket["subject"] == "Charged twice"
    assert ticket["priority"] == "urgent" and ticket["status"] == "open" and ticket["group_id"] == 77
    assert ticket["requester"] == {"name": "ada", "email": "ada@example.net"}
    assert ticket["type"] == "task" and ticket["due_at"] == "2026-11-24T11:05:00Z"
    assert ticket["tags"] == ["omniroute", "queue_payment_billing", "category_billing_dispute", "channel_email"]
    assert ticket["comment"]["public"] is False  # Zendesk would mail a public one to the customer
    assert "I was charged twice" in ticket["comment"]["body"] and ticket["comment"]["body"].endswith(MARKER)
    assert "categorize: billing_dispute" in ticket["comment"]["body"] and "assignee_id" not in ticket


def test_custom_fields_take_the_category_and_due_time_when_the_sink_names_them() -> None:
    ticket = create_body(event(item()), TicketMap(category_field=360001, due_field=360002))["ticket"]
    assert ticket["custom_fields"] == [{"id": 360001, "value": "billing dispute"},
                                       {"id": 360002, "value": "2026-11-24T11:05:00Z"}]
    assert "type" not in ticket and "due_at" not in ticket and "group_id" not in ticket


def test_an_update_adds_tags_and_follows_state_and_assignee() -> None:
    mapping = TicketMap(agents={"5001": "ann"})
    claimed = update_body(event(item(state=WorkItemState.claimed, assignee="ann"), SinkEventType.updated,
                                change="claim"), mapping)["ticket"]
    assert claimed["status"] == "open" and claimed["assignee_id"] == 5001 and "tags" not in claimed
    assert claimed["additional_tags"][0] == "omniroute"
    breach = update_body(event(item(), SinkEventType.sla_breach, sla_clock="first_response"), mapping)["ticket"]
    assert "sla_breach_first_response" in breach["additional_tags"]
    resolved = update_body(event(item(state=WorkItemState.resolved, assignee="bob"), SinkEventType.resolved),
                           mapping)["ticket"]
    assert resolved["status"] == "solved" and "assignee_id" not in resolved  # bob is no Zendesk user we know
    waiting = update_body(event(item(state=WorkItemState.waiting_customer)), mapping)["ticket"]
    assert waiting["status"] == "pending"


def test_a_customer_who_is_no_mail_address_is_a_requester_by_name() -> None:
    assert requester("whatsapp:27830001001") == {"name": "whatsapp:27830001001"}
    assert requester("jane@example.com") == {"name": "jane", "email": "jane@example.com"}


# --- the webhook: signatures and events

def test_a_signed_fresh_event_is_zendesks_and_forgeries_are_refused() -> None:
    body, headers = signed_event(SECRET, comment_event({"id": 1, "external_id": "wi-1"}, "Hi"), NOW)
    assert verify(SECRET, body, headers, NOW.timestamp()) is None
    assert "does not match" in verify("another-secret", body, headers, NOW.timestamp())
    assert "does not match" in verify(SECRET, body.replace(b"Hi", b"Ho"), headers, NOW.timestamp())
    assert "stale" in verify(SECRET, body, headers, (NOW + timedelta(minutes=6)).timestamp())
    assert "missing" in verify(SECRET, body, {"Content-Type": "application/json"}, NOW.timestamp())
    bad_time = {**headers, "X-Zendesk-Webhook-Signature-Timestamp": "yesterday"}
    assert "ISO 8601" in verify(SECRET, body, bad_time, NOW.timestamp())


def test_a_public_agent_comment_is_a_reply_and_a_solve_a_resolve() -> None:
    ticket = {"id": 1001, "external_id": "wi-1"}
    reply = parse_event(signed_event(SECRET, comment_event(ticket, " Refunded today. ", author_id=5001))[0])
    assert (reply.kind, reply.item_id, reply.ticket_id, reply.user_id, reply.text) == (
        AgentActionKind.reply, "wi-1", "1001", "5001", "Refunded today.")
    solve = parse_event(signed_event(SECRET, solved_event(ticket, assignee_id=5002))[0])
    assert (solve.kind, solve.item_id, solve.user_id) == (AgentActionKind.resolve, "wi-1", "5002")


@pytest.mark.parametrize("payload", [
    comment_event({"id": 1, "external_id": "wi-1"}, "internal note", public=False),
    comment_event({"id": 1, "external_id": "wi-1"}, "the customer again", is_staff=False),
    comment_event({"id": 1, "external_id": "wi-1"}, f"our own words\n{MARKER}"),
    comment_event({"id": 1, "external_id": None}, "a ticket that is not ours"),
    ticket_event("status_changed", {"id": 1, "external_id": "wi-1"}, {"current": "PENDING", "previous": "OPEN"}),
    ticket_event("created", {"id": 1, "external_id": "wi-1"}, {}),
], ids=["private", "requester", "ours", "not-ours", "pending", "created"])
def test_events_that_are_no_reply_or_solve_are_ignored(payload: dict) -> None:
    assert parse_event(signed_event(SECRET, payload)[0]) is None


def test_a_body_zendesk_never_sends_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="not JSON"):
        parse_event(b"payload=1")
    with pytest.raises(PayloadError, match="type"):
        parse_event(b"[1, 2]")


# --- sink files

def _sink_file(tmp_path: Path, text: str) -> Path:
    (tmp_path / "conek.yaml").write_text(text)
    return tmp_path


ZENDESK_FILE = """sinks:
  - name: zendesk
    kind: zendesk
    queues: [payment_billing]
    agents: {"5001": ann}
    groups: {payment_billing: 77}
    due_field: 360002
"""


def test_a_zendesk_sink_reads_its_url_email_token_and_secret_from_the_environment(tmp_path: Path) -> None:
    env = {"CONEK_ZENDESK_URL": "https://conek.zendesk.com", "CONEK_ZENDESK_EMAIL": EMAIL,
           "CONEK_ZENDESK_API_TOKEN": TOKEN, "CONEK_ZENDESK_WEBHOOK_SECRET": SECRET}
    found = load_sinks(_sink_file(tmp_path, ZENDESK_FILE), ["conek", "izonie"], env)
    sink, = found.zendesk("conek")
    assert (sink.base_url, sink.email, sink.token, sink.signing_secret) == ("https://conek.zendesk.com", EMAIL,
                                                                            TOKEN, SECRET)
    assert sink.queues == frozenset({"payment_billing"}) and sink.mapping.due_field == 360002
    assert found.describe() == ["conek/zendesk (zendesk, payment_billing)"] and found.notes == []
    assert agent_for(found, "conek", "5001") == "ann" and agent_for(found, "conek", "5009") == "zendesk:5009"
    assert agent_for(found, "izonie", "5001") == "zendesk:5001"

    unsigned = load_sinks(tmp_path, ["conek"], {k: v for k, v in env.items() if "SECRET" not in k})
    assert unsigned.notes == ["conek/zendesk: its webhook (comments and solves back) answers 503 until "
                              "CONEK_ZENDESK_WEBHOOK_SECRET is set"]
    off = load_sinks(tmp_path, ["conek"], {"CONEK_ZENDESK_URL": "https://conek.zendesk.com"})
    assert off.sinks == [] and off.notes == ["conek/zendesk is off until CONEK_ZENDESK_EMAIL and "
                                             "CONEK_ZENDESK_API_TOKEN are set"]
    with pytest.raises(ConfigError, match="CONEK_ZENDESK_URL is malformed"):
        load_sinks(tmp_path, ["conek"], {**env, "CONEK_ZENDESK_URL": "conek.zendesk.com"})


def test_a_sink_entry_takes_only_the_fields_of_its_kind() -> None:
    with pytest.raises(ValidationError, match="mailboxes: only a email sink takes these"):
        SinkSpec(name="z", kind="zendesk", mailboxes={"*": "team@conek.example"})
    with pytest.raises(ValidationError, match="groups: only a zendesk sink"):
        SinkSpec(name="s", kind="slack", channels={"*": "C1"}, groups={"*": 1})
    with pytest.raises(ValidationError, match="agents: only a slack or zendesk sink"):
        SinkSpec(name="w", kind="webhook", url_env="U", secret_env="S", agents={"U1": "ann"})


# --- the sink against the fake

@pytest_asyncio.fixture
async def zendesk(redis_url: str) -> AsyncIterator[tuple[ZendeskSink, SinkClient, ZendeskFake]]:
    fake = ZendeskFake(EMAIL, TOKEN)
    await fake.start()
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    session = aiohttp.ClientSession()
    sink = ZendeskSink(name="zendesk", tenant="conek", queues=None, base_url=fake.url, email=EMAIL, token=TOKEN,
                       mapping=TicketMap(agents={"5001": "ann"})).bind(redis, prefix)
    client = SinkClient(session, retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02))
    try:
        yield sink, client, fake
    finally:
        await session.close()
        await fake.stop()
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=10000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.mark.asyncio
async def test_an_item_delivered_twice_is_one_ticket_and_later_events_update_it(zendesk) -> None:
    sink, client, fake = zendesk
    created = event(item("wi-1"))
    assert (await sink.deliver(created, client, NOW)).ok
    assert (await sink.deliver(created, client, NOW)).ok  # a redelivery after a restart mid-batch
    ticket, = fake.of_item("wi-1")
    assert len(fake.calls_for("POST")) == 1 and ticket["priority"] == "urgent"
    claimed = item("wi-1", state=WorkItemState.claimed, assignee="ann")
    assert (await sink.deliver(event(claimed, SinkEventType.updated, change="claim"), client, NOW)).ok
    assert (await sink.deliver(event(claimed.model_copy(update={"state": WorkItemState.resolved}),
                                     SinkEventType.resolved), client, NOW)).ok
    assert fake.of_item("wi-1") == [ticket] and ticket["status"] == "solved" and ticket["assignee_id"] == 5001
    assert len(fake.calls_for("POST")) == 1 and len(fake.calls_for("PUT")) == 3


@pytest.mark.asyncio
async def test_a_create_whose_answer_was_lost_is_retried_under_its_idempotency_key(zendesk) -> None:
    sink, client, fake = zendesk
    fake.lose_next_create = True  # Zendesk made the ticket, the 201 never arrived: the client sees a 500
    attempt = await sink.deliver(event(item("wi-2")), client, NOW)
    assert attempt.ok and attempt.attempts == 2
    first, second = fake.calls_for("POST")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert len(fake.of_item("wi-2")) == 1


@pytest.mark.asyncio
async def test_a_created_and_a_claim_racing_on_a_new_item_make_one_ticket(zendesk) -> None:
    sink, client, fake = zendesk
    claimed = item("wi-3", state=WorkItemState.claimed, assignee="ann")
    answers = await asyncio.gather(sink.deliver(event(item("wi-3")), client, NOW),
                                   sink.deliver(event(claimed, SinkEventType.updated, change="claim"), client, NOW))
    assert all(a.ok for a in answers)
    assert len(fake.of_item("wi-3")) == 1 and len(fake.calls_for("POST")) == 1


@pytest.mark.asyncio
async def test_a_wrong_token_fails_at_once_and_a_503_is_retried(zendesk) -> None:
    sink, client, fake = zendesk
    wrong = ZendeskSink(name="zendesk", tenant="conek", queues=None, base_url=fake.url, email=EMAIL,
                        token="wrong", locks=sink.locks)
    attempt = await wrong.deliver(event(item("wi-4")), client, NOW)
    assert not attempt.ok and attempt.attempts == 1 and attempt.status == 401 and fake.of_item("wi-4") == []
    fake.refusals += [503, 503, 503]
    attempt = await sink.deliver(event(item("wi-4")), client, NOW)
    assert not attempt.ok and attempt.attempts == 3 and "HTTP 503" in attempt.error and fake.of_item("wi-4") == []


# --- the webhook endpoint's refusals that need no broker

class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def test_the_openapi_document_lists_the_zendesk_endpoint() -> None:
    path = document()["paths"][PATH]["post"]
    assert path["security"] == [] and {"200", "400", "401", "404", "503"} <= set(path["responses"])


@pytest.mark.asyncio
async def test_the_endpoint_answers_503_without_its_secret_and_400_for_a_signed_body_that_is_no_event(
        tmp_path: Path, redis_url: str) -> None:
    env = {"CONEK_ZENDESK_URL": "https://conek.zendesk.com", "CONEK_ZENDESK_EMAIL": EMAIL,
           "CONEK_ZENDESK_API_TOKEN": TOKEN}
    redis, session, runners, urls = Redis.from_url(redis_url), aiohttp.ClientSession(), [], {}
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    queue = RedisWorkQueue(redis, prefix=prefix)
    try:
        for name, extra in {"signed": {"CONEK_ZENDESK_WEBHOOK_SECRET": SECRET}, "unsigned": {}}.items():
            app = web.Application()  # no producer: nothing here may reach the action path
            add_zendesk_routes(app, ZendeskDeps(None, ActionChecks(queue, {}),
                                                load_sinks(_sink_file(tmp_path, ZENDESK_FILE), ["conek"],
                                                           {**env, **extra}),
                                                WallClock(), redis, prefix))
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            runners.append(runner)
            port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the bound port
            urls[name] = f"http://127.0.0.1:{port}/zendesk/conek/events"
        body, headers = signed_event(SECRET, solved_event({"id": 1, "external_id": "wi-1"}))
        async with session.post(urls["unsigned"], data=body, headers=headers) as answer:
            assert answer.status == 503 and "CONEK_ZENDESK_WEBHOOK_SECRET" in (await answer.json())["error"]
        body, headers = signed_event(SECRET, {"id": 1})
        async with session.post(urls["signed"], data=body, headers=headers) as answer:
            assert answer.status == 400 and "type" in (await answer.json())["error"]
    finally:
        for runner in runners:
            await runner.cleanup()
        await session.close()
        await redis.aclose()


@pytest.mark.asyncio
async def test_a_dead_lettered_delivery_replayed_makes_the_ticket_once(zendesk, redis_url: str) -> None:
    sink, client, fake = zendesk
    redis, prefix = Redis.from_url(redis_url), f"omniroute-test-{uuid.uuid4().hex[:8]}"
    try:
        processor = DeliverProcessor(redis, RedisWorkQueue(redis, prefix=prefix), load_sinks(Path("/nonexistent"),
                                     [], {}), client, WallClock(), prefix=prefix, item_wait_s=0.2,
                                     new_breaker=lambda: CircuitBreaker(failures_to_open=5, open_for_s=3600))
        processor.sinks.sinks.append(sink)
        fake.refusals += [502, 502, 502]  # the whole retry budget
        created = event(item("wi-9"))
        dead, = await processor.deliver(created)
        assert isinstance(dead.value, SinkDeadLetter) and dead.value.attempts == 3 and fake.of_item("wi-9") == []
        taken, = await processor.on_replay(dead.value.model_dump_json().encode())  # `omniroute dlq replay`
        assert isinstance(taken.value, SinkReceipt) and taken.value.sink == "zendesk"
        assert await processor.on_replay(dead.value.model_dump_json().encode()) == []  # replayed twice: once
        assert len(fake.of_item("wi-9")) == 1 and len(fake.calls_for("POST")) == 1
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=10000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
