"""End to end on the broker and Redis with a local Zendesk and a real SMTP server: a Conek item becomes one ticket
however often it is delivered, an agent's public comment in Zendesk (signed as Zendesk signs) reaches the customer
on WhatsApp as a reply, a solve resolves the item, forged, stale or duplicated webhooks change nothing; the team
mailbox gets one mail per event, threaded per item."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from mail_servers import SmtpCatcher
from test_e2e_deliver import eventually, processed, read_decisions
from webhook_payloads import SECRETS, signed, whatsapp_body
from zendesk_fake import ZendeskFake, comment_event, signed_event, solved_event

from channels.sinks.redis_queue import RedisWorkQueue, sla_due
from contracts.sinks import SinkReceipt
from contracts.topics import ALL_TOPICS, ROUTED
from contracts.workitem import WorkItemState
from workers.app import Ingress, build_app
from workers.runtime.deliver import Publication
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.platform_fake import PlatformFake
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
EMAIL, API_TOKEN, SIGNING = "omniroute@conek.example", "zd-" + uuid.uuid4().hex, uuid.uuid4().hex
SINK_FILE = """sinks:
  - name: zendesk
    kind: zendesk
    agents: {"5001": ann}
  - name: team-mail
    kind: email
    mailboxes: {"*": conek-team@conek.example}
    from_address: omniroute@conek.example
    url_env: CONEK_TEAM_SMTP_URL
"""


@dataclass
class Stack:
    bootstrap: str
    prefix: str
    ingress: Ingress
    queue: RedisWorkQueue
    zendesk: ZendeskFake
    platform: PlatformFake
    smtp: SmtpCatcher
    published: list[Publication]
    http: aiohttp.ClientSession

    async def customer_writes(self, sender: str) -> str:
        raw = whatsapp_body(f"wamid.in-{uuid.uuid4().hex}", sender=sender, text="My order never arrived, please help")
        async with self.http.post(self.ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
            assert r.status == 200, await r.text()

        async def item_of():
            return next((i for i in await self.queue.list_open("conek") if sender in i.customer), None)
        return (await eventually(item_of)).id

    async def ticket(self, item_id: str, **showing) -> dict:
        async def found():
            return next((t for t in self.zendesk.of_item(item_id)
                         if all(t.get(k) == v for k, v in showing.items())), None)
        return await eventually(found)

    async def webhook(self, payload: dict, *, secret: str = SIGNING, at: datetime | None = None,
                      tenant: str = "conek") -> tuple[int, dict]:
        body, headers = signed_event(secret, payload, at)
        async with self.http.post(f"{self.ingress.url}/zendesk/{tenant}/events", data=body, headers=headers) as r:
            return r.status, await r.json()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("zendesk-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    zendesk, platform = ZendeskFake(EMAIL, API_TOKEN), PlatformFake()
    await zendesk.start()
    await platform.start()
    smtp = SmtpCatcher()
    smtp.start()
    sinks_dir: Path = tmp_path_factory.mktemp("sinks")
    (sinks_dir / "conek.yaml").write_text(SINK_FILE)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token="zendesk-t0ken", sinks_dir=sinks_dir, graph_api_base=platform.base_urls["graph"])
    app = build_app(settings, environ={**SECRETS, "CONEK_WHATSAPP_ACCESS_TOKEN": "conek-access",
                                       "CONEK_ZENDESK_URL": zendesk.url, "CONEK_ZENDESK_EMAIL": EMAIL,
                                       "CONEK_ZENDESK_API_TOKEN": API_TOKEN, "CONEK_ZENDESK_WEBHOOK_SECRET": SIGNING,
                                       "CONEK_TEAM_SMTP_URL": smtp.url()})
    assert app.sinks.describe() == ["conek/zendesk (zendesk, every queue)", "conek/team-mail (email, every queue)"]
    assert app.sinks.notes == []
    stop, published = asyncio.Event(), []
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(worker.run(stop))]  # the SLA agent runs on the faust App (start_processors)
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(worker.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits, on_sink=published.append)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(bootstrap, prefix, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), zendesk, platform,
                    smtp, published, http)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    smtp.stop()
    await platform.stop()
    await zendesk.stop()
    await broker.stop()


async def test_an_item_is_one_ticket_even_when_its_decision_is_delivered_twice(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830004001")
    ticket = await stack.ticket(item_id)
    item = await stack.queue.get(item_id)
    assert ticket["external_id"] == item_id and ticket["priority"] == item.priority.value
    assert ticket["requester"] == {"name": item.customer} and "omniroute" in ticket["tags"]
    assert f"category_{item.category}" in ticket["tags"] and ticket["status"] == "open"
    assert ticket["type"] == "task" and ticket["due_at"] == sla_due(item).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for raw in await read_decisions(stack.bootstrap, item_id):  # a rebalance re-publishes the decision
        meta = await stack.ingress.producer.send_and_wait(ROUTED.name, value=raw, key=b"conek:replay")
    await processed(stack, meta.partition, meta.offset)
    assert len(stack.zendesk.of_item(item_id)) == 1
    creates = [c for c in stack.zendesk.calls_for("POST") if c.body["ticket"]["external_id"] == item_id]
    assert len(creates) == 1
    receipts = [p.value for p in stack.published if isinstance(p.value, SinkReceipt)
                and p.value.work_item_id == item_id and p.value.sink == "zendesk"]
    assert len(receipts) == 1 and receipts[0].event_type.value == "work_item.created"


async def test_an_agent_comment_in_zendesk_reaches_the_customer_and_a_solve_resolves(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830004002")
    ticket = await stack.ticket(item_id)
    reply = comment_event(ticket, "Your parcel left the depot this morning.", author_id=5001)
    assert await stack.webhook(reply) == (200, {"taken": "reply", "work_item_id": item_id, "agent_id": "ann"})
    assert (await stack.webhook(reply))[1]["duplicate"] == reply["id"]  # Zendesk retried: taken once

    async def sent():
        found = [r for r in stack.platform.received if r.body.get("to") == "27830004002"]
        return found or None
    message, = await eventually(sent)
    assert message.body["text"]["body"] == "Your parcel left the depot this morning."

    assert await stack.webhook(solved_event(ticket, assignee_id=5001)) == (
        200, {"taken": "resolve", "work_item_id": item_id, "agent_id": "ann"})
    assert (await stack.queue.get(item_id)).state == WorkItemState.resolved
    await stack.ticket(item_id, status="solved")  # the resolve came back to the ticket through the deliver agent
    status, answer = await stack.webhook(solved_event(ticket, assignee_id=5001))  # solved again: nothing to do
    assert status == 200 and answer["taken"] is None and "is resolved" in answer["refused"]
    assert len([r for r in stack.platform.received if r.body.get("to") == "27830004002"]) == 1

    async def team_mails():
        found = [message_from_bytes(r.content, policy=policy.default) for r in stack.smtp.received]
        found = [m for m in found if f"({item_id})" in m["Subject"]]
        return found if len(found) >= 2 else None
    created, resolved = sorted(await eventually(team_mails), key=lambda m: m["Subject"].startswith("Re:"))
    root = f"<omniroute.item.{item_id}@conek.example>"  # long ids are folded onto a continuation line (RFC 5322)
    assert created["Message-ID"].strip() == root and created["To"] == "conek-team@conek.example"
    assert resolved["In-Reply-To"].strip() == root and resolved["References"].strip() == root
    assert "Resolved: work item" in resolved.get_content() and "By: ann" in resolved.get_content()


async def test_forged_stale_and_own_events_change_nothing(stack: Stack) -> None:
    item_id = await stack.customer_writes("27830004003")
    ticket = await stack.ticket(item_id)
    status, answer = await stack.webhook(solved_event(ticket), secret="not-the-signing-secret")
    assert status == 401 and "does not match" in answer["error"]
    status, answer = await stack.webhook(solved_event(ticket), at=datetime.now(UTC) - timedelta(minutes=10))
    assert status == 401 and "stale" in answer["error"]
    assert (await stack.webhook(comment_event(ticket, "internal", public=False))) == (200, {"taken": None})
    assert (await stack.webhook(comment_event(ticket, ticket["description"]))) == (200, {"taken": None})
    status, _ = await stack.webhook(solved_event(ticket), tenant="izonie")
    assert status == 404  # Izonie has no Zendesk sink
    item = await stack.queue.get(item_id)
    assert item.state == WorkItemState.open and item.assignee is None
