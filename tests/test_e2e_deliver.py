"""End to end on the broker and Redis: routed work delivered to a local Standard Webhooks receiver, and the agents'
API (checked actions, racing claims, tenant-scoped tokens, the API channel, OpenAPI)."""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from standardwebhooks import Webhook
from webhook_payloads import SECRETS, signed, whatsapp_body

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.sinks import SinkReceipt
from contracts.topics import ALL_TOPICS, ROUTED, SINK_RECEIPTS
from workers.app import Ingress, build_app
from workers.dlq_command import read_letters, replay
from workers.runtime.deliver import Publication
from workers.runtime.tokens import TokenStore
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics
from workers.stack.webhook_receiver import Delivery, WebhookReceiver
from workers.worker_command import Target

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "deliver-t0ken"
SINK_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    redis_url: str
    ingress: Ingress
    queue: RedisWorkQueue
    receiver: WebhookReceiver
    published: list[Publication]
    http: aiohttp.ClientSession

    async def customer_writes(self, sender: str, text: str = "My order never arrived, please help") -> str:
        raw = whatsapp_body(f"wamid.in-{uuid.uuid4().hex}", sender=sender, text=text)
        async with self.http.post(self.ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
            assert r.status == 200, await r.text()
        return (await eventually(lambda: self._item_of(sender))).id

    async def _item_of(self, sender: str):
        return next((i for i in await self.queue.list_open("conek") if sender in i.customer), None)

    async def act(self, item_id: str, kind: str, agent: str = "agent-7") -> None:
        async with self.http.post(f"{self.ingress.url}/v1/conek/work-items/{item_id}/actions",
                                  json={"kind": kind, "agent_id": agent},
                                  headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 202, await answer.text()

    async def delivered(self, item_id: str, kind: str) -> Delivery:
        return await eventually(lambda: _first(d for d in self.receiver.received
                                               if d.item_id == item_id and d.type == kind))


async def _first(found):
    return next(iter(found), None)


async def _pending(found):
    return next((x for x in await found() if not x.delivered), None)


def _await_list(target: Target, item_id: str):
    async def letters():
        return [x for x in await read_letters(target) if x.letter.event.item.id == item_id]
    return letters


async def eventually(probe, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)
    return value


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("deliver-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    receiver = WebhookReceiver(SINK_SECRET)
    await receiver.start()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix, api_token=TOKEN)
    app = build_app(settings, environ={**SECRETS, "CONEK_WEBHOOK_SINK_URL": receiver.url,
                                       "CONEK_WEBHOOK_SINK_SECRET": SINK_SECRET})
    stop, published = asyncio.Event(), []
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(worker.run(stop))]  # the SLA agent runs on the faust App (start_processors)
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(worker.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits, on_sink=published.append)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(bootstrap, prefix, redis_url, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), receiver, published, http)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await receiver.stop()
    await broker.stop()


async def test_a_new_item_is_delivered_signed_and_its_resolution_follows(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830002001")
    created = await stack.delivered(item_id, "work_item.created")
    assert created.verified, created.error
    Webhook(SINK_SECRET).verify(created.body, created.headers)  # the package itself agrees
    assert created.headers["webhook-id"].startswith("msg_")
    item = created.payload["data"]["work_item"]
    assert item["tenant"] == "conek" and item["channel"] == "whatsapp" and item["customer"].endswith("27830002001")
    assert item["text"] == "My order never arrived, please help" and item["sla_due"] and item["queue"]
    assert created.payload["data"]["trace"] and item["category"]
    await stack.act(item_id, "resolve")
    resolved = await stack.delivered(item_id, "work_item.resolved")
    assert resolved.verified and resolved.payload["data"]["work_item"]["state"] == "resolved"
    assert resolved.payload["data"]["agent_id"] == "agent-7"
    assert resolved.headers["webhook-id"] != created.headers["webhook-id"]
    receipts = await eventually(lambda: _first([p for p in stack.published if isinstance(p.value, SinkReceipt)
                                                and p.value.work_item_id == item_id][1:]))
    assert receipts.value.status == "delivered" and receipts.topic == SINK_RECEIPTS.name


async def test_an_insult_is_quarantined_into_a_review_item_a_person_receives_and_resolves(stack: Stack) -> None:
    """Conek's reading: abusive messages are quarantined for a person to review. The decision stays a quarantine
    (support.quarantine.v1) and opens a review item in the abuse queue, delivered like any new work."""
    item_id = await stack.customer_writes("27830002009", "you people are useless idiots, answer me")
    stored = await stack.queue.get(item_id)
    assert stored is not None and stored.queue == "trust_safety" and "abusive" in stored.flags
    assert stored.sla is None and stored.text == "you people are useless idiots, answer me"
    created = await stack.delivered(item_id, "work_item.created")
    assert created.verified and created.payload["data"]["work_item"]["queue"] == "trust_safety"
    assert any(step["rule"] == "abuse.review" for step in created.payload["data"]["trace"])
    await stack.act(item_id, "resolve")
    assert (await stack.delivered(item_id, "work_item.resolved")).verified


async def test_a_claim_is_an_update_and_a_republished_decision_is_not_delivered_again(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830002002")
    created = await stack.delivered(item_id, "work_item.created")
    decisions = await read_decisions(stack.bootstrap, item_id)
    for raw in decisions:  # a rebalance re-publishes decisions: the same record again
        meta = await stack.ingress.producer.send_and_wait(ROUTED.name, value=raw, key=b"conek:replay")
    await processed(stack, meta.partition, meta.offset)
    await stack.act(item_id, "claim", agent="agent-9")
    claimed = await stack.delivered(item_id, "work_item.updated")
    assert claimed.payload["data"]["change"] == "claim" and claimed.payload["data"]["work_item"]["assignee"] == "agent-9"
    assert [d.headers["webhook-id"] for d in stack.receiver.received if d.type == "work_item.created"
            and d.item_id == item_id] == [created.headers["webhook-id"]]


async def processed(stack: Stack, partition: int, offset: int) -> None:
    """Wait until the processors' group has committed past `offset` on support.routed.v1[partition]."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
    await admin.start()
    tp = TopicPartition(ROUTED.name, partition)
    try:
        async def committed():
            offsets = await admin.list_consumer_group_offsets(f"{stack.prefix}-processors", partitions=[tp])
            meta = offsets.get(tp)
            return True if meta is not None and meta.offset > offset else None
        await eventually(committed, timeout=60)
    finally:
        await admin.close()


async def read_decisions(bootstrap: str, item_id: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(ROUTED.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                group_id=None, fetch_max_wait_ms=100)
    await consumer.start()
    try:
        found: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + 20
        while not found and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found += [r.value for r in records if item_id.encode() in r.value]
        return found
    finally:
        await consumer.stop()


async def _call(stack: Stack, method: str, path: str, token: str = TOKEN, body: dict | None = None):
    async with stack.http.request(method, stack.ingress.url + path, json=body,
                                  headers={"Authorization": f"Bearer {token}"}) as answer:
        return answer.status, await answer.json()


async def test_two_racing_claims_one_wins_and_actions_are_checked_before_they_are_accepted(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830002003")
    path = f"/v1/conek/work-items/{item_id}/actions"
    answers = await asyncio.gather(*(_call(stack, "POST", path, body={"kind": "claim", "agent_id": agent})
                                     for agent in ("ann", "bob")))
    assert sorted(status for status, _ in answers) == [202, 409]
    loser = "bob" if answers[0][0] == 202 else "ann"
    assert "held by" in next(body["error"] for status, body in answers if status == 409)
    assert (await _call(stack, "POST", path, body={"kind": "resolve", "agent_id": loser}))[0] == 409
    status, body = await _call(stack, "POST", path, body={"kind": "escalate", "agent_id": "ann", "escalate_to": "moon"})
    assert status == 422 and "moon" in body["error"] and "billing_disputes" in body["known"]
    status, body = await _call(stack, "POST", path, body={"kind": "escalate", "agent_id": "ann"})
    assert status == 202 and body["escalate_to"] == "billing_disputes"  # Conek's policy: escalations go there
    assert (await _call(stack, "POST", "/v1/conek/work-items/wi-nothing/actions",
                        body={"kind": "claim", "agent_id": "ann"}))[0] == 404
    assert (await _call(stack, "POST", f"/v1/izonie/work-items/{item_id}/actions",
                        body={"kind": "claim", "agent_id": "ann"}))[0] == 404  # another tenant's item
    winner = "ann" if loser == "bob" else "bob"
    assert (await _call(stack, "POST", path, body={"kind": "resolve", "agent_id": winner}))[0] == 202
    status, body = await _call(stack, "POST", path, body={"kind": "reply", "agent_id": winner, "text": "too late"})
    assert status == 409 and "resolved" in body["error"]
    status, body = await _call(stack, "GET", f"/v1/conek/work-items/{item_id}")
    assert status == 200 and body["trace"] and [a["kind"] for a in body["history"]] == ["claim", "escalate", "resolve"]


async def test_a_tenant_token_reaches_only_its_tenant(stack: Stack) -> None:
    store = TokenStore(stack.ingress.redis, prefix=stack.prefix)
    principal, conek = await store.create("conek", label="crm")
    _, agent_only = await store.create("conek", agent="ann")
    item_id = await stack.customer_writes("27830002004")
    assert (await _call(stack, "GET", "/v1/conek/queues", conek))[0] == 200
    assert (await _call(stack, "GET", "/v1/izonie/queues", conek))[0] == 403
    assert (await _call(stack, "GET", f"/v1/izonie/work-items/{item_id}", conek))[0] == 403
    assert (await _call(stack, "GET", f"/v1/conek/work-items/{item_id}", "omr_forged"))[0] == 401
    status, body = await _call(stack, "POST", f"/v1/conek/work-items/{item_id}/actions", agent_only,
                               {"kind": "claim", "agent_id": "bob"})
    assert status == 403 and "ann" in body["error"]
    status, body = await _call(stack, "GET", "/v1/conek/queues", conek)
    queue = next(q for q in body["queues"] if q["open"])["queue"]
    status, body = await _call(stack, "GET", f"/v1/conek/queues/{queue}/items", conek)
    dues = [i["sla_due"] for i in body["items"]]
    assert status == 200 and dues == sorted(dues)
    await store.revoke(principal.id)
    assert (await _call(stack, "GET", "/v1/conek/queues", conek))[0] == 401


async def test_an_api_channel_message_is_official_by_its_token_and_routed(stack: Stack) -> None:
    _, token = await TokenStore(stack.ingress.redis, prefix=stack.prefix).create("conek", label="contact form")
    message = {"provider_message_id": f"form-{uuid.uuid4().hex}", "conversation_key": "form-7",
               "sender": {"platform_id": "form-user-7", "email": "seven@example.com"},
               "text": "I cannot log in to my account, the OTP never arrives"}
    status, body = await _call(stack, "POST", "/v1/conek/messages", token, message)
    assert status == 202, body
    found = await eventually(lambda: stack._item_of("form-user-7"))
    assert found.channel.value == "api"
    assert any(step.rule == "official_channel" and step.outcome == "official" for step in found.trace)


async def test_the_openapi_document_names_both_apis(stack: Stack) -> None:
    async with stack.http.get(stack.ingress.url + "/openapi.json") as answer:
        doc = await answer.json()
    assert answer.status == 200 and doc["openapi"].startswith("3.1")
    assert {"/v1/{tenant}/messages", "/v1/{tenant}/work-items/{item_id}/actions", "/v1/{tenant}/queues",
            "/v1/{tenant}/queues/{queue}/items", "/v1/{tenant}/work-items/{item_id}"} <= set(doc["paths"])
    assert {"InboundMessage", "ActionRequest"} <= set(doc["components"]["schemas"])


async def test_a_delivery_the_sink_refuses_is_dead_lettered_listed_and_replayed(stack: Stack) -> None:
    stack.receiver.refuse(4, 503, containing=b"27830002005")  # the whole retry budget of this item's delivery
    item_id = await stack.customer_writes("27830002005")
    target = Target(stack.bootstrap, stack.redis_url, stack.prefix, "test")
    found = _await_list(target, item_id)
    pending = await eventually(lambda: _pending(found))
    assert pending.letter.attempts == 4 and "HTTP 503" in pending.letter.error
    assert not stack.receiver.refusals
    assert await replay(target, [pending]) == 1
    delivered = await stack.delivered(item_id, "work_item.created")
    assert delivered.verified and delivered.headers["webhook-id"] == pending.letter.event.id
    letters = await read_letters(target, event_id=pending.letter.event.id)
    assert [x.delivered for x in letters] == [True]
    assert await replay(target, letters) == 0  # nothing pending: nothing sent twice
