"""Agents' replies end to end: a signed WhatsApp message in, an agent's reply out to a local platform fake."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from webhook_payloads import (
    CONEK_NUMBER,
    SECRETS,
    signed,
    whatsapp_body,
    whatsapp_statuses,
)

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.outbound import STATUS_RANK, DeliveryEvent, DeliveryStatus
from contracts.topics import AGENT_ACTIONS, ALL_TOPICS, DELIVERY
from contracts.workitem import AgentAction, AgentActionKind
from workers.app import Ingress, build_app
from workers.runtime.actions_api import action_key
from workers.runtime.codec import encode
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.platform_fake import PlatformFake
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "api-t0ken"


class ShiftedClock:
    """The system clock, moved forward by `offset` (the customer-service window tests)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Stack:
    bootstrap: str
    ingress: Ingress
    queue: RedisWorkQueue
    fake: PlatformFake
    clock: ShiftedClock
    events: list[DeliveryEvent]
    http: aiohttp.ClientSession

    async def customer_writes(self, sender: str, text: str = "My order never arrived, please help") -> str:
        """A signed WhatsApp message in; returns the id of the work item it opened."""
        raw = whatsapp_body(f"wamid.in-{uuid.uuid4().hex}", sender=sender, text=text)
        async with self.http.post(self.ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
            assert r.status == 200, await r.text()
        return (await eventually(lambda: self._item_of(sender))).id

    async def _item_of(self, sender: str):
        return next((i for i in await self.queue.list_open("conek") if sender in i.customer), None)

    async def agent_replies(self, item_id: str, text: str) -> None:
        async with self.http.post(f"{self.ingress.url}/v1/conek/work-items/{item_id}/actions",
                                  json={"kind": "reply", "agent_id": "agent-7", "text": text},
                                  headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 202, await answer.text()

    async def delivery(self, item_id: str) -> DeliveryEvent:
        return await eventually(lambda: _first(e for e in self.events if e.work_item_id == item_id))


async def _first(events):
    return next(iter(events), None)


async def eventually(probe, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
    return value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("outbound-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    fake = PlatformFake()
    await fake.start()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=TOKEN, graph_api_base=fake.base_urls["graph"],
                        tiktok_api_base=fake.base_urls["tiktok"])
    clock = ShiftedClock()
    app = build_app(settings, clock, environ={**SECRETS, "CONEK_WHATSAPP_ACCESS_TOKEN": "conek-access"})
    stop, events = asyncio.Event(), []
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    task = asyncio.create_task(worker.run(stop))
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(worker.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits, on_delivery=events.append)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(bootstrap, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), fake, clock, events, http)
        stop.set()
        await asyncio.wait_for(task, 30)
    await fake.stop()
    await broker.stop()


async def test_an_agent_reply_reaches_the_customer_on_whatsapp(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001001")
    item = await stack.queue.get(item_id)
    await stack.agent_replies(item_id, "Sorry about that! Your parcel left the depot this morning.")
    event = await stack.delivery(item_id)
    assert event.status == DeliveryStatus.sent and event.provider_message_id.startswith("wamid.fake")
    sent = [r for r in stack.fake.received if r.body.get("to") == "27830001001"]
    assert len(sent) == 1
    assert sent[0].path == f"/graph/{CONEK_NUMBER}/messages"
    assert sent[0].headers["Authorization"] == "Bearer conek-access"
    assert sent[0].body["text"]["body"] == "Sorry about that! Your parcel left the depot this morning."
    assert sent[0].body["context"] == {"message_id": item.reply_to.provider_message_id}


async def test_a_429_is_retried_once_then_delivered(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001002")
    stack.fake.then_answer(429, {"error": {"code": 130429, "message": "Rate limit hit"}}, {"Retry-After": "0"})
    await stack.agent_replies(item_id, "Checking with the courier now.")
    event = await stack.delivery(item_id)
    assert event.status == DeliveryStatus.sent and event.attempts == 2
    assert len([r for r in stack.fake.received if r.body.get("to") == "27830001002"]) == 2


async def test_a_permanent_platform_error_becomes_a_failed_delivery_event(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001003")
    stack.fake.then_answer(400, {"error": {"code": 131026, "message": "Message undeliverable"}})
    await stack.agent_replies(item_id, "Could you confirm your address?")
    event = await stack.delivery(item_id)
    assert event.status == DeliveryStatus.failed and event.error_code == "131026" and event.attempts == 1
    assert "undeliverable" in event.error


async def test_outside_the_24_hour_window_the_agent_is_told_and_nothing_is_sent(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001004")
    before = len(stack.fake.received)
    stack.clock.offset = timedelta(hours=24, minutes=1)
    try:
        await stack.agent_replies(item_id, "Following up on your request.")
        event = await stack.delivery(item_id)
    finally:
        stack.clock.offset = timedelta()
    assert event.status == DeliveryStatus.failed and event.error_code == "outside_window"
    assert "template" in event.error
    assert len(stack.fake.received) == before


async def test_a_long_reply_is_split_into_parts_within_the_limit(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001005")
    text = ("Here is what happened. " * 200).strip()  # ~4,600 characters: two WhatsApp messages
    await stack.agent_replies(item_id, text)
    await eventually(lambda: _first([True] if len([e for e in stack.events if e.work_item_id == item_id]) == 2 else []))
    parts = [r for r in stack.fake.received if r.body.get("to") == "27830001005"]
    assert len(parts) == 2 and all(len(p.body["text"]["body"]) <= 4096 for p in parts)
    assert "context" in parts[0].body and "context" not in parts[1].body
    assert " ".join(p.body["text"]["body"] for p in parts) == text


async def test_a_redelivered_action_is_not_sent_twice(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001006")
    action = AgentAction(kind=AgentActionKind.reply, work_item_id=item_id, tenant="conek", agent_id="agent-7",
                         at=datetime.now(UTC), text="We have refunded you.")
    for _ in range(2):  # the same record twice, as a redelivery after a crash would bring it
        await stack.ingress.producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))
    marker = AgentAction(**{**action.model_dump(), "text": "marker"})
    await stack.ingress.producer.send_and_wait(AGENT_ACTIONS.name, value=encode(marker), key=action_key(marker))
    await eventually(lambda: _first(r for r in stack.fake.received if r.body.get("text", {}).get("body") == "marker"))
    sends = [r for r in stack.fake.received if r.body.get("to") == "27830001006" and r.body["text"]["body"] != "marker"]
    assert len(sends) == 1


async def test_status_callbacks_of_our_replies_become_monotonic_delivery_events(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830001007")
    await stack.agent_replies(item_id, "All sorted, thank you for waiting.")
    sent = await stack.delivery(item_id)
    wamid = sent.provider_message_id
    for pairs in ([(wamid, "delivered")], [(wamid, "read"), ("wamid.not-ours", "read")], [(wamid, "delivered")]):
        raw = whatsapp_statuses(*pairs)
        async with stack.http.post(stack.ingress.url + "/webhooks/whatsapp/conek", data=raw,
                                   headers=signed(raw)) as answer:
            assert answer.status == 200
            counts = await answer.json()
        assert counts["statuses"] == len(pairs)
    assert counts["status_events"] == 0  # `delivered` after `read` moves nothing
    events = await read_deliveries(stack, item_id, expected=3)
    assert [e.status for e in events] == [DeliveryStatus.sent, DeliveryStatus.delivered, DeliveryStatus.read]
    assert {e.outbound_id for e in events} == {sent.outbound_id}


async def read_deliveries(stack: Stack, item_id: str, expected: int) -> list[DeliveryEvent]:
    consumer = AIOKafkaConsumer(DELIVERY.name, bootstrap_servers=stack.bootstrap, auto_offset_reset="earliest",
                                group_id=None, fetch_max_wait_ms=100)
    await consumer.start()
    found: list[DeliveryEvent] = []
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [e for e in (DeliveryEvent.model_validate_json(r.value) for r in records)
                          if e.work_item_id == item_id]
    finally:
        await consumer.stop()
    return sorted(found, key=lambda e: STATUS_RANK[e.status])
