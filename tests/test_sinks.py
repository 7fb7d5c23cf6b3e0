"""Sinks without a broker: Standard Webhooks signing, sink files, the breaker, and the deliver processor's
retries, dead letters, replays and idempotency against a local receiver and Redis."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from redis.asyncio import Redis
from standardwebhooks import Webhook

from channels.platform_client import RetryPolicy
from channels.sinks.breaker import BreakerState, CircuitBreaker
from channels.sinks.http import SinkClient
from channels.sinks.redis_queue import RedisWorkQueue
from channels.sinks.webhook import signed_request, signer
from contracts.channels import ChannelKind
from contracts.decision import Priority
from contracts.errors import ConfigError
from contracts.sinks import (
    ReceiptStatus,
    SinkDeadLetter,
    SinkEvent,
    SinkEventType,
    SinkReceipt,
)
from contracts.workitem import AgentAction, AgentActionKind, WorkItem
from workers.runtime.codec import encode
from workers.runtime.deliver import DeliverProcessor
from workers.sink_files import load_sinks
from workers.stack.webhook_receiver import WebhookReceiver

SECRET = "whsec_" + base64.b64encode(os.urandom(24)).decode()
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def item(item_id: str = "wi-1", queue: str = "orders") -> WorkItem:
    return WorkItem(id=item_id, tenant="izonie", queue=queue, category="order_status", priority=Priority.normal,
                    channel=ChannelKind.messenger, customer="messenger:psid-1", conversation_key="c1",
                    text="Where is my order IZ-30021?", opened_at=NOW)


def event(item_id: str = "wi-1", queue: str = "orders") -> SinkEvent:
    return SinkEvent(id=f"msg_{item_id}", type=SinkEventType.created, tenant="izonie", at=NOW, item=item(item_id, queue))


def test_a_signed_request_verifies_with_the_standardwebhooks_package() -> None:
    now = datetime.now(UTC)
    request = signed_request(event(), "http://sink.example/hooks", signer(SECRET, "X"), now)
    payload = Webhook(SECRET).verify(request.body, dict(request.headers))
    assert request.headers["webhook-id"] == "msg_wi-1" and request.headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert request.headers["webhook-signature"].startswith("v1,")
    assert payload["type"] == "work_item.created" and payload["data"]["work_item"]["text"] == "Where is my order IZ-30021?"
    tampered = request.body.replace(b"IZ-30021", b"IZ-30022")
    with pytest.raises(Exception, match="signature"):
        Webhook(SECRET).verify(tampered, dict(request.headers))


def test_a_secret_that_is_not_whsec_base64_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="IZONIE_WEBHOOK_SINK_SECRET"):
        signer("whsec_not base64!", "IZONIE_WEBHOOK_SINK_SECRET")


def test_sinks_come_from_the_tenant_default_and_the_tenant_file(tmp_path: Path) -> None:
    (tmp_path / "izonie.yaml").write_text(
        "sinks:\n  - {name: orders-desk, kind: webhook, queues: [orders], url_env: IZ_ORDERS_URL, secret_env: IZ_ORDERS_SECRET}\n"
        "  - {name: spare, kind: webhook, url_env: IZ_OFF_URL, secret_env: IZ_OFF_SECRET}\n")
    env = {"IZONIE_WEBHOOK_SINK_URL": "http://a/", "IZONIE_WEBHOOK_SINK_SECRET": SECRET, "IZ_ORDERS_URL": "http://b/",
           "IZ_ORDERS_SECRET": SECRET, "CONEK_WEBHOOK_SINK_URL": "http://c/"}
    sinks = load_sinks(tmp_path, ["izonie", "conek", "alkonect"], env)
    assert sinks.describe() == ["izonie/webhook (webhook, every queue)", "izonie/orders-desk (webhook, orders)"]
    assert [s.name for s in sinks.for_event(event())] == ["webhook", "orders-desk"]
    assert [s.name for s in sinks.for_event(event(queue="payments"))] == ["webhook"]
    assert "conek/webhook is off until CONEK_WEBHOOK_SINK_SECRET is set (never unsigned)" in sinks.notes
    assert "izonie/spare is off until IZ_OFF_URL is set" in sinks.notes
    (tmp_path / "izonie.yaml").write_text("sinks:\n  - {name: x, kind: carrier-pigeon, url_env: A, secret_env: B}\n")
    with pytest.raises(ConfigError, match="izonie.yaml: sinks.0.kind"):
        load_sinks(tmp_path, ["izonie"], env)


def test_the_breaker_opens_after_failures_and_one_trial_closes_it() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures_to_open=2, open_for_s=10, monotonic=lambda: now[0])
    breaker.record(False)
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state == BreakerState.open and not breaker.allow()
    now[0] = 10.5
    assert breaker.allow() and not breaker.allow()  # half-open: one trial at a time
    breaker.record(False)
    assert breaker.state == BreakerState.open
    now[0] = 21
    assert breaker.allow()
    breaker.record(True)
    assert breaker.state == BreakerState.closed and breaker.allow()


class FixedClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@pytest_asyncio.fixture
async def parts(redis_url: str) -> AsyncIterator[tuple[DeliverProcessor, WebhookReceiver, RedisWorkQueue]]:
    receiver = WebhookReceiver(SECRET)
    url = await receiver.start()
    redis = Redis.from_url(redis_url)
    prefix = f"omniroute-test-{uuid.uuid4().hex[:8]}"
    queue = RedisWorkQueue(redis, prefix=prefix)
    session = aiohttp.ClientSession()
    sinks = load_sinks(Path("/nonexistent"), ["izonie"], {"IZONIE_WEBHOOK_SINK_URL": url,
                                                           "IZONIE_WEBHOOK_SINK_SECRET": SECRET})
    client = SinkClient(session, retry=RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02))
    processor = DeliverProcessor(redis, queue, sinks, client, FixedClock(), prefix=prefix, item_wait_s=0.2,
                                 new_breaker=lambda: CircuitBreaker(failures_to_open=2, open_for_s=3600))
    try:
        yield processor, receiver, queue
    finally:
        await session.close()
        await receiver.stop()
        keys = [k async for k in redis.scan_iter(f"{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


@pytest.mark.asyncio
async def test_a_sink_down_is_retried_then_dead_lettered_the_breaker_opens_and_a_replay_delivers(parts) -> None:
    processor, receiver, queue = parts
    await queue.upsert_many([item("wi-a"), item("wi-b")])
    receiver.refuse(3, 503)
    receiver.refuse(3, 500)  # two deliveries' worth of retries
    first = await processor.deliver(event("wi-a"))
    assert isinstance(first[0].value, SinkDeadLetter) and first[0].value.attempts == 3
    assert "HTTP 503" in first[0].value.error
    second = await processor.deliver(event("wi-b"))
    assert second[0].value.attempts == 3 and not receiver.refusals  # every retry reached the sink
    third = await processor.deliver(event("wi-b"))  # the breaker is open now: no call at all
    assert third[0].value.attempts == 0 and "circuit open" in third[0].value.error
    assert receiver.received == []
    processor.breakers.clear()  # the sink is back (a new process, or the breaker's period over)
    replayed = await processor.on_replay(encode(first[0].value))
    assert isinstance(replayed[0].value, SinkReceipt) and replayed[0].value.status == ReceiptStatus.delivered
    assert [d.item_id for d in receiver.received] == ["wi-a"] and receiver.received[0].verified
    assert await processor.on_replay(encode(first[0].value)) == []  # delivered already: nothing twice


@pytest.mark.asyncio
async def test_a_redelivered_action_is_delivered_once_and_other_tenants_items_are_ignored(parts) -> None:
    processor, receiver, queue = parts
    await queue.upsert_many([item("wi-c")])
    action = AgentAction(kind=AgentActionKind.resolve, work_item_id="wi-c", tenant="izonie", agent_id="ann", at=NOW)
    raw = encode(action)
    assert len(await processor.on_action(raw)) == 1
    assert await processor.on_action(raw) == []  # the same record again after a restart
    assert [d.type for d in receiver.received] == ["work_item.resolved"]
    assert receiver.received[0].payload["data"]["work_item"]["state"] == "resolved"
    other = AgentAction(kind=AgentActionKind.resolve, work_item_id="wi-c", tenant="conek", agent_id="x", at=NOW)
    assert await processor.on_action(encode(other)) == []
    reply = AgentAction(kind=AgentActionKind.reply, work_item_id="wi-c", tenant="izonie", agent_id="ann", at=NOW,
                        text="hi")
    assert await processor.on_action(encode(reply)) == []
