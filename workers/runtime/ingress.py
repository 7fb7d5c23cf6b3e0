"""HTTP ingress: the authenticated API channel (POST /v1/{tenant}/messages), agents' actions, /healthz, /readyz."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from aiohttp import web
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from contracts.topics import INBOUND
from workers.runtime.auth import invalid, json_response, tenant_and_object
from workers.runtime.actions_api import add_action_routes
from workers.runtime.codec import encode
from workers.runtime.customer_keys import CustomerKeys
from workers.runtime.publisher import inbound_keys

MAX_BODY = 5 * 1024 * 1024



def build_ingress(producer: AIOKafkaProducer, tenants: set[str], api_token: str | None,
                  is_ready: Callable[[], bool], customers: CustomerKeys | None = None) -> web.Application:
    """The aiohttp application; nothing is acknowledged before Kafka acknowledged the write."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_: web.Request) -> web.Response:
        return json_response(200, {"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ready = is_ready()
        return json_response(200 if ready else 503, {"status": "ready" if ready else "starting"})

    async def post_message(request: web.Request) -> web.Response:
        checked = await tenant_and_object(request, tenants, api_token)
        if isinstance(checked, web.Response):
            return checked
        tenant, data = checked
        data = {"channel": ChannelKind.api.value, "received_at": datetime.now(timezone.utc).isoformat(),
                **data, "tenant": tenant}
        try:
            message = InboundMessage.model_validate(data)
        except ValidationError as exc:
            return invalid("InboundMessage", exc)
        key, = await inbound_keys([message], customers)
        meta = await producer.send_and_wait(INBOUND.name, value=encode(message), key=key)
        return json_response(202, {"id": message.id, "topic": meta.topic, "partition": meta.partition, "offset": meta.offset})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/v1/{tenant}/messages", post_message)
    add_action_routes(app, producer, tenants, api_token)
    return app
