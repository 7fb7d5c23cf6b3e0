"""The agents' reassign, internal note and request-information actions end to end: broker, Redis, route and SLA
workers, the processors (outbound to a local platform fake, deliver to a local Standard Webhooks receiver)."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from standardwebhooks import Webhook
from webhook_payloads import SECRETS, messenger_body, signed, whatsapp_body

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.outbound import DeliveryEvent, DeliveryStatus
from contracts.topics import ALL_TOPICS
from contracts.workitem import SlaEvent, WorkItem, WorkItemState
from polling import until
from workers.app import Ingress, build_app
from workers.runtime.sla_store import SlaStore
from workers.settings import Settings
from workers.stack import statefile
from workers.stack.broker import EmbeddedBroker
from workers.stack.platform_fake import PlatformFake
from workers.stack.topics import ensure_topics
from workers.stack.webhook_receiver import Delivery, WebhookReceiver

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "actions-t0ken"
SINK_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
EXE = str(Path(sys.executable).with_name("omniroute"))
FAKE = "The seller sent me a fake charger for order IZ-40001 and refuses to refund me"  # Izonie: a resolution clock


@dataclass
class Stack:
    bootstrap: str
    redis_url: str
    prefix: str
    ingress: Ingress
    queue: RedisWorkQueue
    clocks: SlaStore
    fake: PlatformFake
    receiver: WebhookReceiver
    sla_events: list[SlaEvent]
    deliveries: list[DeliveryEvent]
    http: aiohttp.ClientSession

    async def whatsapp(self, sender: str, text: str = "My order never arrived, please help") -> WorkItem:
        """A Conek customer writes on WhatsApp; returns the work item it opened (or joined)."""
        raw = whatsapp_body(f"wamid.in-{uuid.uuid4().hex}", sender=sender, text=text)
        async with self.http.post(self.ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
            assert r.status == 200, await r.text()
        return await until(lambda: self._item_of("conek", sender), what=f"{sender}'s work item")

    async def messenger(self, sender: str, text: str = FAKE) -> WorkItem:
        """An Izonie customer writes on Messenger; returns the work item it opened (or joined)."""
        raw = messenger_body(f"m_{uuid.uuid4().hex}", sender=sender, text=text)
        headers = signed(raw, SECRETS["IZONIE_META_APP_SECRET"])
        async with self.http.post(self.ingress.url + "/webhooks/meta/izonie", data=raw, headers=headers) as r:
            assert r.status == 200, await r.text()
        return await until(lambda: self._item_of("izonie", sender), what=f"{sender}'s work item")

    async def _item_of(self, tenant: str, sender: str) -> WorkItem | None:
        return next((i for i in await self.queue.list_open(tenant) if sender in i.customer), None)

    async def act(self, item: WorkItem, body: dict, status: int = 202) -> dict:
        async with self.http.post(f"{self.ingress.url}/v1/{item.tenant}/work-items/{item.id}/actions", json=body,
                                  headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            found = await answer.json()
            assert answer.status == status, found
            return found

    async def history(self, item: WorkItem) -> list[dict]:
        async with self.http.get(f"{self.ingress.url}/v1/{item.tenant}/work-items/{item.id}",
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 200
            return (await answer.json())["history"]

    def sent_to(self, recipient: str) -> list[dict]:
        """Bodies the platform fake received for this customer (WhatsApp `to`, Messenger `recipient.id`)."""
        return [r.body for r in self.fake.received
                if r.body.get("to") == recipient or r.body.get("recipient", {}).get("id") == recipient]

    def delivered(self, item: WorkItem, kind: str, change: str | None = None) -> list[Delivery]:
        return [d for d in self.receiver.received if d.item_id == item.id and d.type == kind
                and (change is None or d.payload["data"].get("change") == change)]

    def clock_events(self, item: WorkItem) -> list[tuple[str, str]]:
        return [(e.kind.value, e.clock.value) for e in self.sla_events if e.work_item_id == item.id]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("actions-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    fake, receiver = PlatformFake(), WebhookReceiver(SINK_SECRET)
    await fake.start()
    await receiver.start()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=TOKEN, graph_api_base=fake.base_urls["graph"],
                        tiktok_api_base=fake.base_urls["tiktok"])
    app = build_app(settings, environ={
        **SECRETS, "CONEK_WHATSAPP_ACCESS_TOKEN": "conek-access", "IZONIE_META_PAGE_TOKEN": "izonie-page",
        "CONEK_WEBHOOK_SINK_URL": receiver.url, "CONEK_WEBHOOK_SINK_SECRET": SINK_SECRET,
        "IZONIE_WEBHOOK_SINK_URL": receiver.url, "IZONIE_WEBHOOK_SINK_SECRET": SINK_SECRET})
    stop, sla_events, deliveries = asyncio.Event(), [], []
    route = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(route.run(stop))]
    async with AsyncExitStack() as exits:
        sla = app.sla_processor(exits, on_event=sla_events.append)  # an agent and a timer of the faust App
        await asyncio.wait_for(route.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=route.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits, on_delivery=deliveries.append, sla=sla)
        await asyncio.wait_for(sla.ready.wait(), 30)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(bootstrap, redis_url, prefix, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), SlaStore(ingress.redis, prefix=prefix),
                    fake, receiver, sla_events, deliveries, http)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        keys = [k async for k in ingress.redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await ingress.redis.delete(*keys)
    await receiver.stop()
    await fake.stop()
    await broker.stop()


async def test_reassign_moves_the_item_to_another_queue_and_agent_and_the_sinks_hear_it(stack: Stack) -> None:
    item = await stack.whatsapp("27830003001")
    await stack.act(item, {"kind": "claim", "agent_id": "ann"})
    answer = await stack.act(item, {"kind": "reassign", "agent_id": "ann", "to_queue": "moon"}, 422)
    assert "moon" in answer["error"] and "billing" in answer["known"]
    await stack.act(item, {"kind": "reassign", "agent_id": "ann"}, 422)  # neither a queue nor an agent
    await stack.act(item, {"kind": "reassign", "agent_id": "ann", "to_agent": " "}, 422)  # an empty agent
    await stack.act(item, {"kind": "claim", "agent_id": "ann", "to_queue": "billing"}, 422)  # only for reassign
    await stack.act(item, {"kind": "reassign", "agent_id": "ann", "to_agent": "ann"}, 409)  # changes nothing

    answer = await stack.act(item, {"kind": "reassign", "agent_id": "ann", "to_queue": "billing", "to_agent": "bob"})
    assert (answer["to_queue"], answer["to_agent"]) == ("billing", "bob")
    moved = await stack.queue.get(item.id)
    assert (moved.queue, moved.state, moved.assignee) == ("billing", WorkItemState.claimed, "bob")
    assert item.id in {i.id for i in await stack.queue.list_open("conek", "billing")}
    assert item.id not in {i.id for i in await stack.queue.list_open("conek", item.queue)}
    assert moved.trace[-1].rule == "agent.reassign" and "ann" in moved.trace[-1].outcome

    update = (await until(lambda: stack.delivered(item, "work_item.updated", "reassignment"),
                          what="the reassignment at the sink"))[0]
    assert update.verified, update.error
    Webhook(SINK_SECRET).verify(update.body, update.headers)
    data = update.payload["data"]
    assert data["agent_id"] == "ann" and data["work_item"]["queue"] == "billing"
    assert data["work_item"]["assignee"] == "bob"

    # bob holds it now: ann can no longer resolve it; back to the queue, anyone may claim it
    await stack.act(item, {"kind": "resolve", "agent_id": "ann"}, 409)
    answer = await stack.act(item, {"kind": "reassign", "agent_id": "bob", "to_queue": "billing"})
    assert answer["to_agent"] is None
    assert (await stack.queue.get(item.id)).state == WorkItemState.open
    assert (await stack.queue.claim("conek", "billing", "cara")).id == item.id
    await stack.act(item, {"kind": "resolve", "agent_id": "cara"})
    await stack.act(item, {"kind": "reassign", "agent_id": "cara", "to_queue": "support"}, 409)
    assert [a["kind"] for a in await stack.history(item)] == ["claim", "reassign", "reassign", "resolve"]
    await until(lambda: ("met", "first_response") in stack.clock_events(item), what="the resolution's met event")


async def test_an_internal_note_is_kept_in_the_history_and_never_sent(stack: Stack) -> None:
    item = await stack.whatsapp("27830003002")
    await stack.act(item, {"kind": "note", "agent_id": "ann"}, 422)  # a note without text
    answer = await stack.act(item, {"kind": "note", "agent_id": "ann", "text": "Customer is a reseller; check VAT"})
    assert answer["kind"] == "note"
    await stack.act(item, {"kind": "reply", "agent_id": "ann", "text": "We are on it."})
    # the item's actions are in order on one partition: once the reply is out, the note was handled before it
    await until(lambda: stack.sent_to("27830003002"), what="the reply on WhatsApp")
    assert [b["text"]["body"] for b in stack.sent_to("27830003002")] == ["We are on it."]
    await until(lambda: [e for e in stack.deliveries if e.work_item_id == item.id and e.status == DeliveryStatus.sent],
                what="the reply's delivery event")
    notes = [a for a in await stack.history(item) if a["kind"] == "note"]
    assert [(n["agent_id"], n["text"]) for n in notes] == [("ann", "Customer is a reseller; check VAT")]
    assert (await stack.queue.get(item.id)).state == WorkItemState.open  # a note changes nothing else


async def test_request_info_asks_on_the_customers_channel_and_pauses_clocks_where_the_policy_says(
        stack: Stack) -> None:
    """Izonie (`sla.pause_on_request_info: true`): the first response is met, the resolution clock pauses, the
    item waits for the customer, and the customer's answer starts the clock again."""
    item = await stack.messenger("psid-actions-1")
    await until(lambda: stack.clocks.has_clocks(item.id), what="clocks started")
    assert (await stack.clocks.clock_fields(item.id))["resolution:state"] == "running"
    await stack.act(item, {"kind": "request_info", "agent_id": "ann"}, 422)  # no fields
    answer = await stack.act(item, {"kind": "request_info", "agent_id": "ann", "fields": ["order_number", "photo"],
                                    "text": "Sorry to hear that."})
    assert answer["pauses_clocks"] is True
    assert answer["text"].startswith("Sorry to hear that. Please share your order number")  # the policy's words

    sent = await until(lambda: stack.sent_to("psid-actions-1"), what="the request on Messenger")
    assert sent[0]["message"]["text"] == answer["text"]
    await until(lambda: ("met", "first_response") in stack.clock_events(item), what="the first response met")
    fields = await until(lambda: _paused(stack, item), what="the resolution clock paused")
    assert fields["first_response:state"] == "stopped"
    assert (await stack.queue.get(item.id)).state == WorkItemState.waiting_customer
    assert [a["fields"] for a in await stack.history(item) if a["kind"] == "request_info"] == [["order_number",
                                                                                                "photo"]]

    await stack.messenger("psid-actions-1", "Here it is: IZ-40001, photos attached")  # the customer answers
    await until(lambda: _running(stack, item), what="the resolution clock running again")
    assert (await stack.queue.get(item.id)).state != WorkItemState.waiting_customer


async def test_request_info_leaves_the_clocks_running_where_the_policy_does_not_pause(stack: Stack) -> None:
    """Conek (`sla.pause_on_request_info: false`): the request goes out on WhatsApp, nothing pauses."""
    item = await stack.whatsapp("27830003003", "I was charged twice for my plan, please refund one")
    await until(lambda: stack.clocks.has_clocks(item.id), what="clocks started")
    answer = await stack.act(item, {"kind": "request_info", "agent_id": "ann",
                                    "fields": ["transaction_date", "amount"]})
    assert answer["pauses_clocks"] is False
    assert answer["text"] == "Please send us the date of the transaction and the amount you were charged."
    sent = await until(lambda: stack.sent_to("27830003003"), what="the request on WhatsApp")
    assert sent[0]["text"]["body"] == answer["text"]
    await until(lambda: ("met", "first_response") in stack.clock_events(item), what="the first response met")
    fields = await stack.clocks.clock_fields(item.id)
    assert "paused" not in {v for k, v in fields.items() if k.endswith(":state")}
    assert (await stack.queue.get(item.id)).state == WorkItemState.open


async def test_request_info_and_reassign_are_refused_on_a_resolved_item(stack: Stack) -> None:
    item = await stack.whatsapp("27830003004")
    await stack.act(item, {"kind": "resolve", "agent_id": "ann"})
    answer = await stack.act(item, {"kind": "request_info", "agent_id": "ann", "fields": ["amount"]}, 409)
    assert "resolved" in answer["error"]
    await stack.act(item, {"kind": "note", "agent_id": "ann", "text": "late note"}, 409)


async def _paused(stack: Stack, item: WorkItem) -> dict | None:
    fields = await stack.clocks.clock_fields(item.id)
    return fields if fields.get("resolution:state") == "paused" else None


async def _running(stack: Stack, item: WorkItem) -> bool:
    return (await stack.clocks.clock_fields(item.id)).get("resolution:state") == "running"


async def test_omniroute_act_takes_the_new_actions_with_their_flags(stack: Stack, tmp_path: Path) -> None:
    state_file = tmp_path / "dev-stack.json"
    statefile.write(state_file, statefile.StackState(bootstrap=stack.bootstrap, redis_url=stack.redis_url,
                                                     redis_prefix=stack.prefix, http_url=stack.ingress.url))
    env = {**os.environ, "OMNIROUTE_STATE_FILE": str(state_file), "OMNIROUTE_API_TOKEN": TOKEN}

    async def act(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(EXE, "act", *args, "--agent", "ann", env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode, out.decode(), err.decode()

    item = await stack.whatsapp("27830003005")
    code, out, err = await act(item.id, "--kind", "reassign", "--to-queue", "technical", "--to-agent", "bob")
    assert code == 0, err
    assert out.startswith(f"accepted: reassign on {item.id}") and "to technical, held by bob" in out
    moved = await stack.queue.get(item.id)
    assert (moved.queue, moved.assignee) == ("technical", "bob")
    code, _, err = await act(item.id, "--kind", "reassign", "--to-queue", "moon")
    assert code == 1 and "HTTP 422" in err and "moon" in err
    code, out, err = await act(item.id, "--kind", "note", "--text", "asked finance")
    assert code == 0 and out.startswith("accepted: note"), err
    code, out, err = await act(item.id, "--kind", "request_info", "--fields", "amount, transaction_date")
    assert code == 0, err
    assert "clocks keep running" in out and "the amount you were charged and the date of the transaction" in out
    await until(lambda: stack.sent_to("27830003005"), what="the request on WhatsApp")
    code, _, err = await act(item.id, "--kind", "request_info")
    assert code == 1 and "HTTP 422" in err and "fields" in err
    assert [a["kind"] for a in await stack.history(item)] == ["reassign", "note", "request_info"]
