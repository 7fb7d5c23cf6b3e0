"""HTTP ingress: the API channel, the platform webhooks, agents' actions, /healthz, /readyz and /metrics."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from aiohttp import web
from pydantic import ValidationError

from contracts.adapters import ChannelAdapter
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from workers.runtime.actions_api import add_action_routes
from workers.runtime.agents_api import add_agent_routes
from workers.runtime.api_channel import AgentsApiDeps, official_by_token
from workers.runtime.auth import authorise, invalid, json_object, json_response
from workers.runtime.chat_typing import AgentTyping
from workers.runtime.openapi import add_openapi_route
from workers.runtime.publisher import BrokerUnavailable, publish_within
from workers.runtime.readiness import Readiness
from workers.runtime.tokens import Authoriser
from workers.runtime.webhooks import RETRY_AFTER_S, EdgeDeps, add_webhook_routes

MAX_BODY = 5 * 1024 * 1024


def build_ingress(deps: EdgeDeps, adapters: Sequence[ChannelAdapter], api_token: Authoriser | str | None,
                  readiness: Readiness, *, agents: AgentsApiDeps | None = None,
                  typing: AgentTyping | None = None) -> web.Application:
    """The aiohttp application; nothing is acknowledged before Kafka acknowledged the write."""
    app = web.Application(client_max_size=MAX_BODY)
    tenants = set(deps.policies)

    async def healthz(_: web.Request) -> web.Response:
        return json_response(200, {"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        report = await readiness.report()
        return json_response(200 if report.ready else 503, report.as_json())

    async def post_message(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, api_token)
        if isinstance(checked, web.Response):
            return checked
        (tenant, principal), data = checked, await json_object(request)
        if isinstance(data, web.Response):
            return data
        data = {"channel": ChannelKind.api.value, "received_at": datetime.now(timezone.utc).isoformat(),
                **data, "tenant": tenant, "addressed_to": official_by_token(data, principal)}
        try:
            message = InboundMessage.model_validate(data)
        except ValidationError as exc:
            return invalid("InboundMessage", exc)
        try:
            meta, = await publish_within(deps.producer, [message], deps.customers, deps.ack_timeout_s,
                                         answers=deps.answers)
        except BrokerUnavailable as exc:
            return json_response(503, {"error": f"{exc}; retry later"}, headers={"Retry-After": str(RETRY_AFTER_S)})
        return json_response(202, {"id": message.id, "topic": meta.topic, "partition": meta.partition, "offset": meta.offset})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", deps.metrics.handle)
    app.router.add_post("/v1/{tenant}/messages", post_message)
    add_action_routes(app, deps.producer, tenants, api_token, **(agents.action_checks() if agents else {}),
                      typing=typing)
    if agents is not None:
        add_agent_routes(app, tenants, agents.auth, agents.queue, agents.history, agents.csat)
    add_openapi_route(app)
    add_webhook_routes(app, adapters, deps)
    return app
