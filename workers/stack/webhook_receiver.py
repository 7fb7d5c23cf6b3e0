"""A local Standard Webhooks receiver on loopback, for `omniroute dev --demo` and the tests: records and verifies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str | None = None

    @property
    def payload(self) -> dict:
        return orjson.loads(self.body)

    @property
    def type(self) -> str:
        return self.payload.get("type", "")

    @property
    def item_id(self) -> str:
        return self.payload.get("data", {}).get("work_item", {}).get("id", "")


@dataclass
class WebhookReceiver:
    secret: str
    received: list[Delivery] = field(default_factory=list)
    refusals: list[tuple[bytes, int]] = field(default_factory=list)  # (body marker, status) scripted, in order
    on_delivery: Callable[[Delivery], None] | None = None
    url: str = ""

    def refuse(self, times: int, status: int = 503, containing: bytes = b"") -> None:
        """Answer the next `times` requests whose body contains `containing` with `status` (a sink that is down)."""
        self.refusals += [(containing, status)] * times

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hooks", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}/hooks"  # noqa: SLF001 - the port
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        refusal = next((r for r in self.refusals if r[0] in body), None)
        if refusal is not None:
            self.refusals.remove(refusal)
            return web.Response(status=refusal[1])
        try:
            Webhook(self.secret).verify(body, headers)
            delivery = Delivery(headers, body, True)
        except WebhookVerificationError as exc:
            delivery = Delivery(headers, body, False, str(exc))
        self.received.append(delivery)
        if self.on_delivery is not None:
            self.on_delivery(delivery)
        return web.Response(status=204 if delivery.verified else 401)


def describe_delivery(delivery: Delivery) -> str:
    """One line for the demo: event type, item, queue, and whether the signature verified."""
    item = delivery.payload.get("data", {}).get("work_item", {})
    check = "signature ok" if delivery.verified else f"BAD SIGNATURE ({delivery.error})"
    return (f"webhook receiver: {delivery.type} {item.get('id')} ({item.get('tenant')}/{item.get('queue')}, "
            f"{item.get('state')}) webhook-id {delivery.headers.get('webhook-id')}: {check}")
