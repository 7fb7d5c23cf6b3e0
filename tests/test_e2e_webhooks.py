"""Platform webhooks end to end: signed HTTP in, edge idempotency and limits, the real broker, Redis and route worker."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import pytest
import pytest_asyncio
from webhook_payloads import (
    SECRETS,
    messenger_body,
    signed,
    tiktok_body,
    tiktok_signed,
    whatsapp_body,
)

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import ALL_TOPICS
from workers.app import Ingress, build_app
from workers.runtime.route_worker import RouteWorker
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

pytestmark = pytest.mark.asyncio(loop_scope="module")
@dataclass
class Stack:
    ingress: Ingress
    worker: RouteWorker
    queue: RedisWorkQueue
    http: aiohttp.ClientSession

    async def post(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        async with self.http.post(self.ingress.url + path, data=raw, headers=headers) as answer:
            return answer.status, await answer.json(content_type=None)

    async def items_for(self, customer_digits: str) -> list:
        return [i for i in await self.queue.list_open() if customer_digits in (i.customer or "")]

    async def routed(self, count: int, timeout: float = 30.0) -> None:
        """Wait until the route worker has handled `count` records in all."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.worker.stats.records < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"route worker handled {self.worker.stats.records} of {count} records")
            await asyncio.sleep(0.05)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Stack]:
    broker = EmbeddedBroker(tmp_path_factory.mktemp("webhook-broker"))
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix)
    app = build_app(settings, environ=SECRETS)
    stop = asyncio.Event()
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    task = asyncio.create_task(worker.run(stop))
    async with AsyncExitStack() as exits:
        await asyncio.wait_for(worker.ready.wait(), 30)
        ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
        http = aiohttp.ClientSession()
        exits.push_async_callback(http.close)
        yield Stack(ingress, worker, RedisWorkQueue(ingress.redis, prefix=prefix), http)
        stop.set()
        await asyncio.wait_for(task, 30)
    await broker.stop()


async def test_fifty_concurrent_copies_of_one_signed_payload_make_one_work_item(stack: Stack) -> None:
    before = stack.worker.stats.records
    raw = whatsapp_body("wamid.fifty-" + uuid.uuid4().hex, sender="27830000050")
    answers = await asyncio.gather(*(stack.post("/webhooks/whatsapp/conek", raw, signed(raw)) for _ in range(50)))
    assert {status for status, _ in answers} == {200}
    assert sum(body["published"] for _, body in answers) == 1
    assert sum(body["duplicates"] for _, body in answers) == 49
    await stack.routed(before + 1)
    assert len(await stack.items_for("27830000050")) == 1
    assert stack.ingress.metrics.value("messages", "whatsapp", "duplicates") >= 49


async def test_forgeries_are_401_and_publish_nothing(stack: Stack) -> None:
    raw = whatsapp_body("wamid.forged-" + uuid.uuid4().hex, sender="27830000401")
    reserialised = json.dumps(json.loads(raw), indent=1).encode()
    cases = {
        "no signature": (raw, {"Content-Type": "application/json"}),
        "another secret": (raw, signed(raw, "not-the-secret")),
        "verify token as key": (raw, signed(raw, SECRETS["CONEK_WHATSAPP_VERIFY_TOKEN"])),
        "re-serialised": (reserialised, signed(raw)),
        "sha1 prefix": (raw, {"X-Hub-Signature-256": "sha1=" + signed(raw)["X-Hub-Signature-256"][7:]}),
    }
    for name, (body, headers) in cases.items():
        status, answer = await stack.post("/webhooks/whatsapp/conek", body, headers)
        assert status == 401 and answer["error"], name
    assert stack.ingress.metrics.value("requests", "whatsapp", "bad_signature") >= len(cases)
    status, _ = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))  # the genuine one still goes in
    assert status == 200


async def test_an_unknown_phone_number_id_is_acknowledged_and_never_routed(stack: Stack) -> None:
    before = stack.worker.stats.records
    raw = whatsapp_body("wamid.unknown-" + uuid.uuid4().hex, sender="27830000404", number="199999999999999")
    status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
    assert status == 200 and answer["unofficial"] == 1 and answer["published"] == 0
    assert stack.worker.stats.records == before
    assert await stack.items_for("27830000404") == []


async def test_unset_secrets_unknown_tenants_and_the_handshake(stack: Stack) -> None:
    raw = whatsapp_body("wamid.x")
    status, answer = await stack.post("/webhooks/meta/izonie", raw, {})  # signed check before the body is read
    assert status == 401
    status, answer = await stack.post("/webhooks/whatsapp/izonie", raw, signed(raw))
    assert status == 404 and "no official" in answer["error"]
    status, answer = await stack.post("/webhooks/whatsapp/nobody", raw, signed(raw))
    assert status == 404
    status, answer = await stack.post("/webhooks/tiktok/izonie", raw, {})
    assert status == 401
    query = {"hub.mode": "subscribe", "hub.verify_token": "conek-verify", "hub.challenge": "<script>1</script>"}
    async with stack.http.get(stack.ingress.url + "/webhooks/whatsapp/conek", params=query) as answer:
        assert answer.status == 200 and await answer.text() == "<script>1</script>"
        assert answer.content_type == "text/plain"
    async with stack.http.get(stack.ingress.url + "/webhooks/whatsapp/conek",
                              params={**query, "hub.verify_token": "wrong"}) as answer:
        assert answer.status == 403
    async with stack.http.get(stack.ingress.url + "/webhooks/meta/izonie", params=query) as answer:
        assert answer.status == 503 and "IZONIE_META_VERIFY_TOKEN" in (await answer.json())["error"]


@pytest.mark.parametrize(("name", "raw"), [
    ("not json", b"\x89PNG\r\n\x1a\n"),
    ("json array", b"[1,2,3]"),
    ("json string", b'"hello"'),
    ("invalid utf-8", b'{"object":"whatsapp_business_account","entry":[{"id":"\xff"}]}'),
    ("deep nesting", b"[" * 10_000 + b"]" * 10_000),
    ("huge number", b'{"object":"whatsapp_business_account","entry":[{"id":1' + b"0" * 5000 + b"}]}"),
    ("wrong object", b'{"object":"page","entry":[]}'),
    ("entry not a list", b'{"object":"whatsapp_business_account","entry":{}}'),
])
async def test_hostile_signed_bodies_get_a_clear_4xx(stack: Stack, name: str, raw: bytes) -> None:
    status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
    assert 400 <= status < 500, (name, status, answer)
    assert answer["error"], name


async def test_bodies_over_the_limit_are_413(stack: Stack) -> None:
    raw = b'{"pad":"' + b"x" * (5 * 1024 * 1024) + b'"}'
    status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
    assert status == 413 and "larger" in answer["error"]


async def test_statuses_and_echoes_in_a_body_are_not_published(stack: Stack) -> None:
    message = json.loads(whatsapp_body("wamid.mixed-" + uuid.uuid4().hex, sender="27830000777"))
    value = message["entry"][0]["changes"][0]["value"]
    value["statuses"] = [{"id": "wamid.ours", "status": "delivered", "timestamp": "1700000000",
                          "recipient_id": "27830000777"}]
    value["message_echoes"] = [{**value["messages"][0], "id": "wamid.echo-" + uuid.uuid4().hex,
                                "from": "27832885137", "to": "27830000777"}]
    raw = json.dumps(message, separators=(",", ":")).encode()
    status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
    assert status == 200 and answer["published"] == 1 and answer["echoes"] == 1


async def test_a_flooding_sender_is_stopped_at_the_edge_and_others_are_not(stack: Stack) -> None:
    limit = build_app(Settings()).policies["conek"].flood.max_messages * 3
    flooder, other = "27830000999", "27830000998"
    published = 0
    for n in range(limit + 5):
        raw = whatsapp_body(f"wamid.flood-{uuid.uuid4().hex}", sender=flooder, text=f"message number {n}")
        status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
        assert status == 200
        published += answer["published"]
    assert published == limit
    raw = whatsapp_body(f"wamid.calm-{uuid.uuid4().hex}", sender=other)
    status, answer = await stack.post("/webhooks/whatsapp/conek", raw, signed(raw))
    assert status == 200 and answer["published"] == 1


async def test_tiktok_signed_with_a_fresh_timestamp_is_taken_and_a_replay_is_not(stack: Stack) -> None:
    raw = tiktok_body(f"tt-{uuid.uuid4().hex}", sender="tt-user-77")
    for label, headers in {"stale": tiktok_signed(raw, at=time.time() - 301),
                           "future": tiktok_signed(raw, at=time.time() + 301),
                           "reordered and extra parts": {"TikTok-Signature": "s=00,t=1,v=2"},
                           "missing s": {"TikTok-Signature": f"t={int(time.time())}"}}.items():
        status, answer = await stack.post("/webhooks/tiktok/izonie", raw, headers)
        assert status == 401 and answer["error"], label
    status, answer = await stack.post("/webhooks/tiktok/izonie", raw, tiktok_signed(raw))
    assert status == 200 and answer["published"] == 1
    status, answer = await stack.post("/webhooks/tiktok/izonie", raw, tiktok_signed(raw))
    assert status == 200 and answer["duplicates"] == 1
    bad_content = raw.replace(b'"content":"{', b'"content":"{{', 1)
    status, answer = await stack.post("/webhooks/tiktok/izonie", bad_content, tiktok_signed(bad_content))
    assert status == 400 and "content" in answer["error"]


async def test_messenger_for_another_page_is_never_routed_and_its_own_page_is(stack: Stack) -> None:
    secret = SECRETS["IZONIE_META_APP_SECRET"]
    stranger = messenger_body(f"m_{uuid.uuid4().hex}", page="999000111222333")
    status, answer = await stack.post("/webhooks/meta/izonie", stranger, signed(stranger, secret))
    assert status == 200 and answer["unofficial"] == 1 and answer["published"] == 0
    own = messenger_body(f"m_{uuid.uuid4().hex}")
    status, answer = await stack.post("/webhooks/meta/izonie", own, signed(own, secret))
    assert status == 200 and answer["published"] == 1
