"""`/webhooks/{channel}/{tenant}`, generated from the channel registry: handshake, verify, normalize, publish."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from redis.exceptions import RedisError

from contracts.adapters import ChannelAdapter
from contracts.errors import PayloadError
from contracts.inbound import InboundMessage
from contracts.ports import Clock
from contracts.topics import DELIVERY
from routing.policy import TenantPolicy
from workers.channel_secrets import ChannelSecrets
from workers.runtime.auth import json_response
from workers.runtime.codec import encode
from workers.runtime.csat_answers import CsatAnswers
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.delivery_index import DeliveryIndex
from workers.runtime.edge_guard import EdgeGuard
from workers.runtime.edge_metrics import EdgeMetrics
from workers.runtime.publisher import BrokerUnavailable, publish_within
from workers.runtime.webhook_gates import (
    Sorted,
    edge_limit,
    sort_by_endpoint_and_kind,
    split_admitted,
)

log = logging.getLogger("omniroute.webhooks")
RETRY_AFTER_S = 5


@dataclass
class EdgeDeps:
    """What every webhook route needs; built once by the app factory."""

    producer: AIOKafkaProducer
    policies: dict[str, TenantPolicy]
    secrets: ChannelSecrets
    guard: EdgeGuard | None
    customers: CustomerKeys | None
    metrics: EdgeMetrics
    clock: Clock
    deliveries: DeliveryIndex | None = None
    ack_timeout_s: float = 5.0
    answers: CsatAnswers | None = None  # CSAT answers caught before Kafka


def add_webhook_routes(app: web.Application, adapters: Sequence[ChannelAdapter], deps: EdgeDeps) -> list[str]:
    """One GET (handshake) and one POST route per webhook adapter; returns the paths added."""
    paths = []
    for adapter in adapters:
        if adapter.webhook is None:
            continue
        path = f"/webhooks/{adapter.webhook.path}/{{tenant}}"
        app.router.add_get(path, _handshake_handler(adapter, deps))
        app.router.add_post(path, _receive_handler(adapter, deps))
        paths.append(path)
    return paths


def _tenant_refusal(adapter: ChannelAdapter, tenant: str, deps: EdgeDeps) -> web.Response | None:
    policy = deps.policies.get(tenant)
    if policy is None:
        return json_response(404, {"error": f"unknown tenant {tenant!r}", "known": sorted(deps.policies)})
    if not {e.kind for e in policy.official_endpoints} & set(adapter.endpoint_kinds):
        kinds = ", ".join(k.value for k in adapter.endpoint_kinds)
        return json_response(404, {"error": f"tenant {tenant!r} has no official {kinds} in its policy, so no "
                                            f"{adapter.name} webhook"})
    return None


def _secret_refusal(adapter: ChannelAdapter, tenant: str, role: str, deps: EdgeDeps) -> web.Response | None:
    variable = deps.secrets.missing(adapter.name, tenant, role)
    if variable is None:
        return None
    return json_response(503, {"error": f"the {adapter.name} webhook of {tenant} is disabled: set {variable}"})


def _handshake_handler(adapter: ChannelAdapter, deps: EdgeDeps):
    async def handshake(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        refused = _tenant_refusal(adapter, tenant, deps)
        if refused is not None:
            return refused
        role = adapter.webhook.handshake if adapter.webhook else None
        if role is None:
            return json_response(405, {"error": f"the {adapter.name} webhook takes POST only"})
        refused = _secret_refusal(adapter, tenant, role, deps)
        if refused is not None:
            return refused
        answer = adapter.handshake(request.query, deps.secrets.for_tenant(adapter.name, tenant))
        if answer is None:
            return json_response(405, {"error": f"the {adapter.name} webhook has no handshake"})
        deps.metrics.request(adapter.name, f"handshake_{answer.status}")
        return web.Response(status=answer.status, text=answer.body, content_type="text/plain")

    return handshake


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is larger than `limit` (declared or streamed without a length)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def _admit(guard: EdgeGuard, sorted_: Sorted, policy: TenantPolicy, keep: timedelta,
                 wait_s: float) -> list[InboundMessage] | None:
    """The messages this request publishes; None when a copy is still in flight elsewhere after `wait_s`."""
    window, limit = policy.flood.window.as_timedelta(), edge_limit(policy)
    admissions = await guard.admit(sorted_.publish, window=window, limit=limit, keep=keep)
    new, in_flight = split_admitted(sorted_.publish, admissions, sorted_)
    if not in_flight:
        return new
    settled = await guard.settle(in_flight, wait_s)
    if None in settled:
        await guard.release(new)
        return None
    sorted_.duplicates += [m for m, done in zip(in_flight, settled) if done]
    released = [m for m, done in zip(in_flight, settled) if not done]  # the other request failed: ours to take
    again, still = split_admitted(released, await guard.admit(released, window=window, limit=limit, keep=keep),
                                  sorted_)
    if still:
        await guard.release([*new, *again])
        return None
    return [*new, *again]


async def _publish_statuses(adapter: ChannelAdapter, raw: bytes, deps: EdgeDeps) -> dict[str, int]:
    """Status callbacks of our own sends become delivery events on support.delivery.v1."""
    statuses = adapter.statuses(raw)
    if not statuses or deps.deliveries is None:
        return {"statuses": len(statuses)} if statuses else {}
    try:
        events, unmatched = await deps.deliveries.match(adapter.kinds[0], statuses)
    except (RedisError, OSError) as exc:
        log.warning("%s statuses not matched (Redis unavailable: %s)", adapter.name, exc)
        return {"statuses": len(statuses)}
    sends = [await deps.producer.send(DELIVERY.name, key=f"{e.tenant}:{e.work_item_id}".encode(), value=encode(e))
             for e in events]
    try:
        await asyncio.wait_for(asyncio.gather(*sends), deps.ack_timeout_s)
    except (TimeoutError, KafkaError) as exc:
        raise BrokerUnavailable(f"Kafka did not acknowledge within {deps.ack_timeout_s:g} s") from exc
    return {"statuses": len(statuses), "status_events": len(events), "unmatched_statuses": unmatched}


def _receive_handler(adapter: ChannelAdapter, deps: EdgeDeps):
    spec = adapter.webhook
    assert spec is not None

    async def receive(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        refused = _tenant_refusal(adapter, tenant, deps) or _secret_refusal(adapter, tenant, spec.signature, deps)
        if refused is not None:
            return refused
        raw = await _read_limited(request, spec.max_body)
        if raw is None:
            deps.metrics.request(adapter.name, "too_large")
            return json_response(413, {"error": f"body larger than {spec.max_body} bytes"})
        now = deps.clock.now()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verdict = adapter.verify(raw, headers, deps.secrets.for_tenant(adapter.name, tenant), now)
        if not verdict.ok:
            deps.metrics.request(adapter.name, "bad_signature")
            log.warning("%s webhook for %s refused: %s", adapter.name, tenant, verdict.reason)
            return json_response(401, {"error": verdict.reason})
        try:
            messages = adapter.normalize(raw, tenant=tenant, channel=None, received_at=now)
        except PayloadError as exc:
            deps.metrics.request(adapter.name, "bad_payload")
            log.warning("%s webhook for %s: signed but unreadable: %s", adapter.name, tenant, exc)
            return json_response(400, {"error": str(exc).splitlines()[0]})
        policy = deps.policies[tenant]
        sorted_ = sort_by_endpoint_and_kind(messages, policy)
        if sorted_.unofficial:
            log.warning("%s webhook for %s: %d event(s) for addresses the tenant does not own, not routed: %s",
                        adapter.name, tenant, len(sorted_.unofficial),
                        sorted({e.value for m in sorted_.unofficial for e in m.addressed_to}))
        guard, keep = deps.guard, spec.redelivery_window * 2
        if guard is not None:
            admitted = await _admit(guard, sorted_, policy, keep, deps.ack_timeout_s)
            if admitted is None:
                deps.metrics.request(adapter.name, "copy_in_flight")
                return json_response(503, {"error": "a copy of this message is still being published; retry later"},
                                     headers={"Retry-After": str(RETRY_AFTER_S)})
            sorted_.publish = admitted
        try:
            await publish_within(deps.producer, sorted_.publish, deps.customers, deps.ack_timeout_s,
                                 answers=deps.answers)
        except BrokerUnavailable as exc:
            if guard is not None:
                await guard.release(sorted_.publish)  # the platform's retry must be taken
            deps.metrics.request(adapter.name, "broker_unavailable")
            return json_response(503, {"error": f"{exc}; retry later"}, headers={"Retry-After": str(RETRY_AFTER_S)})
        if guard is not None:
            await guard.confirm(sorted_.publish, keep)
        counts = sorted_.counts()
        try:
            counts |= await _publish_statuses(adapter, raw, deps)
        except BrokerUnavailable as exc:  # the messages are in; the platform's retry brings the statuses again
            deps.metrics.request(adapter.name, "broker_unavailable")
            return json_response(503, {"error": f"{exc}; retry later"}, headers={"Retry-After": str(RETRY_AFTER_S)})
        for outcome, n in counts.items():
            deps.metrics.message(adapter.name, outcome, n)
        deps.metrics.request(adapter.name, "accepted")
        return json_response(200, counts)

    return receive
