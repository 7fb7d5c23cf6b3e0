"""A scrape of `/metrics` after real traffic (the dev stack's wiring: route and SLA workers hosted by the ingress,
the faust processors beside them): histograms, SLA events and sink deliveries by tenant, lag, and no PII in labels."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from contextlib import AsyncExitStack

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from webhook_payloads import SECRETS, signed, whatsapp_body

from channels.sinks.redis_queue import RedisWorkQueue
from polling import until
from workers.app import build_app
from workers.runtime.faust_view import FaustView
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "metrics-t0ken"
SINK_SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
SENDERS = ["27830009101", "27830009102", "27830009103"]
TEXTS = ["Hi, this is Thabo, thabo.m@example.org, my order 7781 never arrived",
         "We were charged twice for the Pro plan, call me on +27 83 000 9102",
         "How do I add a second WhatsApp number to our account? Lindiwe"]
# what a label value must never look like: an address, a phone number or any run of digits, words of the text
PII = [re.compile(r"@"), re.compile(r"\d{5,}"), re.compile(r"\s"), re.compile(r"thabo|lindiwe|order|charged|number", re.I)]


def _labels(body: str) -> dict[str, set[str]]:
    """Label name -> every value it takes in the scrape."""
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            for name, value in sample.labels.items():
                out.setdefault(name, set()).add(value)
    return out


def _value(body: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def test_a_scrape_after_traffic_shows_histograms_sla_events_sinks_and_lag_without_pii(
        module_broker: EmbeddedBroker, redis_url: str) -> None:
    receiver = WebhookReceiver(SINK_SECRET)
    await receiver.start()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=module_broker.bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=TOKEN)
    app = build_app(settings, environ={**SECRETS, "CONEK_WEBHOOK_SINK_URL": receiver.url,
                                       "CONEK_WEBHOOK_SINK_SECRET": SINK_SECRET})
    stop = asyncio.Event()
    route = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(route.run(stop))]
    try:
        async with AsyncExitStack() as exits:
            sla = app.sla_processor(exits)  # an agent and a timer of the faust App
            await asyncio.wait_for(route.ready.wait(), 30)
            ingress = await app.start_ingress(exits, is_ready=route.ready.is_set, hosted={"route": route, "sla": sla},
                                              host="127.0.0.1", port=0)
            processors = await app.start_processors(exits, sla=sla)
            ingress.workers.add("processors", FaustView(processors))  # as `omniroute dev` does
            http = aiohttp.ClientSession()
            exits.push_async_callback(http.close)
            queue = RedisWorkQueue(ingress.redis, prefix=prefix)
            for sender, text in zip(SENDERS, TEXTS, strict=True):
                raw = whatsapp_body(f"wamid.metrics-{uuid.uuid4().hex}", sender=sender, text=text)
                async with http.post(ingress.url + "/webhooks/whatsapp/conek", data=raw, headers=signed(raw)) as r:
                    assert r.status == 200, await r.text()
            items = await until(lambda: _open(queue), what="three work items")
            async with http.post(f"{ingress.url}/v1/conek/work-items/{items[0].id}/actions",
                                 json={"kind": "escalate", "agent_id": "agent-7"},
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
                assert answer.status == 202, await answer.text()

            async def scrape() -> str:
                async with http.get(ingress.url + "/metrics") as answer:
                    return await answer.text()

            async def settled() -> str | None:
                body = await scrape()
                done = (_value(body, "omniroute_sla_events_total", tenant="conek", kind="escalated") >= 1
                        and _value(body, "omniroute_sink_deliveries_total", tenant="conek", status="delivered") >= 3)
                return body if done else None

            body = await until(settled, 60, "the escalation's SLA event and three sink deliveries")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
        await receiver.stop()
    assert _value(body, "omniroute_batch_records_count", role="route") >= 1
    assert _value(body, "omniroute_partitions_assigned", role="route") >= 1
    for role in ("route", "sla"):  # the SLA agent's partitions are the processors' (below)
        assert _value(body, "omniroute_handler_seconds_bucket", role=role, le="+Inf") >= 1, role
    assert _value(body, "omniroute_partitions_assigned", role="processors") >= 1
    assert _value(body, "omniroute_worker_records_total", role="processors") >= 1
    assert re.search(r'omniroute_consumer_lag\{partition="\d+",role="processors",topic="support.routed.v1"\}', body)
    for agent in ("deliver", "automail"):
        assert _value(body, "omniroute_handler_seconds_count", role=agent) >= 1, agent
    assert 'omniroute_batch_records_bucket{le="1.0",role="route"}' in body
    assert re.search(r'omniroute_consumer_lag\{partition="\d+",role="route",topic="support.inbound.v1"\}', body)
    assert _value(body, "omniroute_decisions_total", tenant="conek", channel="whatsapp", action="route") >= 3
    values = _labels(body)
    assert "conek" in values["tenant"]
    leaked = sorted({v for vs in values.values() for v in vs if any(p.search(v) for p in PII)})
    assert leaked == [], f"label values that look like text, addresses or phone numbers: {leaked}"


async def _open(queue: RedisWorkQueue):
    items = [i for i in await queue.list_open("conek") if any(s in i.customer for s in SENDERS)]
    return items if len(items) == len(SENDERS) else None
