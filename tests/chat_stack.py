"""A live-chat test stack: embedded broker, Redis, route worker, two gateway replicas and the processors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from channels.chat import tokens
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.outbound import DeliveryEvent
from contracts.topics import ALL_TOPICS
from contracts.workitem import WorkItem
from workers.app import Ingress, build_app
from workers.runtime.chat_store import ChatStore
from workers.settings import Settings
from workers.stack.broker import EmbeddedBroker
from workers.stack.topics import ensure_topics

API_TOKEN = "chat-api-t0ken"
IZONIE_KEY = "izonie-chat-signing-key"
IZONIE = "https://izonie.com"
ENVIRON = {"IZONIE_LIVECHAT_SIGNING_KEY": IZONIE_KEY}  # Alkonect's key left unset on purpose: its chat is off


@dataclass
class ChatStack:
    ingress: Ingress
    replica: Ingress  # a second gateway on the same Redis and Kafka
    queue: RedisWorkQueue
    store: ChatStore
    http: aiohttp.ClientSession
    deliveries: list[DeliveryEvent] = field(default_factory=list)  # what the outbound processor reported, in order

    def url(self, path: str, tenant: str = "izonie", replica: bool = False) -> str:
        return f"{(self.replica if replica else self.ingress).url}/chat/{tenant}/{path}"

    async def open_session(self, origin: str = IZONIE, **who) -> dict:
        async with self.http.post(self.url("sessions"), json=who, headers={"Origin": origin}) as answer:
            assert answer.status == 201, await answer.text()
            return await answer.json()

    async def send(self, token: str, text: str, client_message_id: str | None = None,
                   origin: str | None = IZONIE) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} | ({"Origin": origin} if origin else {})
        body = {"client_message_id": client_message_id or uuid.uuid4().hex, "text": text}
        async with self.http.post(self.url("messages"), json=body, headers=headers) as answer:
            return answer.status, await answer.json()

    async def item_of(self, session_id: str, timeout: float = 30.0) -> WorkItem:
        return await eventually(lambda: self._item(session_id), timeout)

    async def _item(self, session_id: str) -> WorkItem | None:
        return next((i for i in await self.queue.list_open("izonie")
                     if i.reply_to is not None and i.reply_to.conversation_key == session_id), None)

    async def items_of(self, session_id: str) -> list[WorkItem]:
        return [i for i in await self.queue.list_open("izonie")
                if i.reply_to is not None and i.reply_to.conversation_key == session_id]

    async def agent_replies(self, item_id: str, text: str) -> None:
        async with self.http.post(f"{self.ingress.url}/v1/izonie/work-items/{item_id}/actions",
                                  json={"kind": "reply", "agent_id": "a1", "text": text},
                                  headers={"Authorization": f"Bearer {API_TOKEN}"}) as answer:
            assert answer.status == 202, await answer.text()


async def eventually(probe, timeout: float = 30.0):
    """The probe's first non-None answer; fails after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await probe()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s")
        await asyncio.sleep(0.05)
    return value


def mint(session: dict, *, key: str = IZONIE_KEY, tenant: str = "izonie", issued: datetime | None = None,
         ttl: timedelta = timedelta(hours=1)) -> str:
    """A token for `session` as the gateway would sign it, with chosen key, tenant and times (forgeries)."""
    claims = tokens.read(session["token"], tokens.verification_keys({"signing_key": IZONIE_KEY}),
                         datetime.fromisoformat(session["expires_at"]) - timedelta(minutes=1))
    issued = issued or claims.issued_at
    forged = tokens.VisitorClaims(tenant=tenant, session_id=claims.session_id, visitor_id=claims.visitor_id,
                                  origin=claims.origin, issued_at=issued, expires_at=issued + ttl)
    return tokens.issue(forged, key)


@asynccontextmanager
async def chat_stack(workdir: Path, redis_url: str, environ: dict[str, str] | None = None,
                     **settings_overrides) -> AsyncIterator[ChatStack]:
    """The stack with the tenants' secrets of ENVIRON plus `environ` (e.g. IZONIE_SMTP_URL)."""
    broker = EmbeddedBroker(workdir)
    bootstrap = await broker.start()
    await ensure_topics(bootstrap, ALL_TOPICS)
    prefix = f"omniroute-chat-test-{uuid.uuid4().hex[:8]}"
    settings = Settings(kafka_bootstrap_servers=bootstrap, redis_url=redis_url, redis_prefix=prefix,
                        api_token=API_TOKEN, chat_auth_timeout_s=1.0, **settings_overrides)
    app = build_app(settings, environ=ENVIRON | (environ or {}))
    stop = asyncio.Event()
    worker = app.route_worker(group=f"route-{prefix}", session_timeout_ms=6000, checkpoint_every_s=0.2)
    task = asyncio.create_task(worker.run(stop))
    try:
        async with AsyncExitStack() as exits:
            await asyncio.wait_for(worker.ready.wait(), 30)
            ingress = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
            replica = await app.start_ingress(exits, is_ready=worker.ready.is_set, host="127.0.0.1", port=0)
            deliveries: list[DeliveryEvent] = []
            await app.start_processors(exits, on_delivery=deliveries.append)
            http = aiohttp.ClientSession()
            exits.push_async_callback(http.close)
            yield ChatStack(ingress, replica, RedisWorkQueue(ingress.redis, prefix=prefix),
                            ChatStore(ingress.redis, prefix=prefix), http, deliveries)
            stop.set()
            await asyncio.wait_for(task, 30)
    finally:
        stop.set()
        await broker.stop()
