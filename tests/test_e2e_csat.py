"""CSAT end to end on the real broker and Redis: an Izonie customer's item is resolved, the survey reaches them on
Messenger (a local platform fake), their "4" becomes a CsatRating event instead of a request, and `omniroute
queues` and GET /v1/izonie/queues show the queue's 7-day CSAT."""

from __future__ import annotations

import asyncio
import json
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
from aiokafka import AIOKafkaConsumer, TopicPartition
from polling import until
from routing_helpers import policy
from webhook_payloads import SECRETS, messenger_body, signed

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.csat import CsatRating
from contracts.topics import CSAT
from contracts.workitem import WorkItem
from workers.app import Ingress, build_app
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.platform_fake import PlatformFake

pytestmark = pytest.mark.asyncio(loop_scope="module")
TOKEN = "csat-t0ken"
EXE = str(Path(sys.executable).with_name("omniroute"))
FAKE = "The seller sent me a fake charger for order IZ-40001 and refuses to refund me"


@dataclass
class Stack:
    redis_url: str
    prefix: str
    ingress: Ingress
    queue: RedisWorkQueue
    fake: PlatformFake
    ratings: list[CsatRating]
    http: aiohttp.ClientSession

    async def messenger(self, sender: str, text: str, quick_reply: str | None = None) -> None:
        raw = messenger_body(f"m_{uuid.uuid4().hex}", sender=sender, text=text)
        if quick_reply is not None:  # a tap on a quick reply: its title as text, its payload beside
            body = json.loads(raw)
            body["entry"][0]["messaging"][0]["message"]["quick_reply"] = {"payload": quick_reply}
            raw = json.dumps(body).encode()
        headers = signed(raw, SECRETS["IZONIE_META_APP_SECRET"])
        async with self.http.post(self.ingress.url + "/webhooks/meta/izonie", data=raw, headers=headers) as r:
            assert r.status == 200, await r.text()

    async def open_items_of(self, sender: str) -> list[WorkItem]:
        return [i for i in await self.queue.list_open("izonie") if sender in i.customer]

    async def api(self, path: str) -> dict:
        async with self.http.get(self.ingress.url + path, headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
            assert answer.status == 200
            return await answer.json()

    def sent_to(self, recipient: str) -> list[dict]:
        """Messages the platform fake received for this Messenger customer."""
        return [r.body["message"] for r in self.fake.received if r.body.get("recipient", {}).get("id") == recipient]


async def _collect(bootstrap: str, into: list[CsatRating], stop: asyncio.Event) -> None:
    """Every record on support.csat.v1, as a CsatRating (a consumer of the test's own, on every partition)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=100, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(CSAT.name, p) for p in range(CSAT.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while not stop.is_set():
            for records in (await consumer.getmany(timeout_ms=200)).values():
                into.extend(CsatRating.model_validate_json(r.value) for r in records)
    finally:
        await consumer.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(module_broker: EmbeddedBroker, redis_url: str) -> AsyncIterator[Stack]:
    bootstrap = module_broker.bootstrap
    fake = PlatformFake()
    await fake.start()
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=TOKEN, graph_api_base=fake.base_urls["graph"],
                        tiktok_api_base=fake.base_urls["tiktok"])
    app = build_app(settings, environ={**SECRETS, "IZONIE_META_PAGE_TOKEN": "izonie-page"})
    stop, ratings, deliveries = asyncio.Event(), [], []
    route = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    tasks = [asyncio.create_task(route.run(stop)), asyncio.create_task(_collect(bootstrap, ratings, stop))]
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(route.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=route.ready.is_set, host="127.0.0.1", port=0)
        await app.start_processors(exits, on_delivery=deliveries.append)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(redis_url, prefix, ingress, RedisWorkQueue(ingress.redis, prefix=prefix), fake, ratings, http)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        keys = [k async for k in ingress.redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await ingress.redis.delete(*keys)
    await fake.stop()


async def test_a_resolution_is_surveyed_and_the_customers_digit_becomes_the_queues_csat(stack: Stack) -> None:
    sender = "psid-csat-e2e-1"
    await stack.messenger(sender, FAKE)
    item, = await until(lambda: stack.open_items_of(sender), what="the customer's work item")
    async with stack.http.post(f"{stack.ingress.url}/v1/izonie/work-items/{item.id}/actions",
                               json={"kind": "resolve", "agent_id": "ann"},
                               headers={"Authorization": f"Bearer {TOKEN}"}) as answer:
        assert answer.status == 202, await answer.text()

    # generous deadlines: the processors' faust App may still be joining its group on a loaded machine
    survey, = await until(lambda: stack.sent_to(sender), 90, what="the survey on Messenger")
    assert survey["text"] == policy("izonie").csat_survey
    assert [q["title"] for q in survey["quick_replies"]] == ["1", "2", "3", "4", "5"]

    await stack.messenger(sender, "4", quick_reply="CHOICE:4")  # the customer taps "4"
    rating, = await until(lambda: stack.ratings, 90, what="the rating on support.csat.v1")
    assert (rating.tenant, rating.work_item_id, rating.queue, rating.rating) == ("izonie", item.id, item.queue, 4)
    csat = await until(lambda: _api_csat(stack, item.queue), what="the rating in GET /v1/izonie/queues")
    assert csat == {"average": 4.0, "ratings": 1}

    env = {**os.environ, "REDIS_URL": stack.redis_url, "OMNIROUTE_REDIS_PREFIX": stack.prefix}
    listed = await asyncio.create_subprocess_exec(EXE, "queues", "--tenant", "izonie", env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await listed.communicate()
    assert listed.returncode == 0, err.decode()
    csat_lines = out.decode().split("TENANT  QUEUE", 1)[1].splitlines()
    assert csat_lines[0].split() == ["CSAT", "7D", "RATINGS"]
    assert [line.split() for line in csat_lines[1:]] == [["izonie", item.queue, "4.00", "1"]]

    # the "4" opened no request: a later message (same customer, same partition) finds no other open work
    await stack.messenger(sender, "My new phone from order IZ-40002 will not charge at all")
    later, = await until(lambda: stack.open_items_of(sender), what="the later message's work item")
    assert later.id != item.id and len(later.message_ids) == 1 and "4" not in later.text.split()
    assert len(stack.ratings) == 1


async def _api_csat(stack: Stack, queue: str) -> dict | None:
    rows = (await stack.api("/v1/izonie/queues"))["queues"]
    return next((r["csat_7d"] for r in rows if r["queue"] == queue), None)
