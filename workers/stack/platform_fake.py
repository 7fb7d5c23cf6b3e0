"""A local stand-in for the platforms' send APIs (Graph and TikTok) on loopback, for the demo and the tests.

It records every request and answers like the platform: a message id on success, or a scripted answer
(a 429 with Retry-After, a platform error code) queued by the caller. It never talks to the internet.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Received:
    api: str  # "graph" or "tiktok"
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class PlatformFake:
    received: list[Received] = field(default_factory=list)
    scripted: list[tuple[int, dict, dict[str, str]]] = field(default_factory=list)  # (status, body, headers)
    url: str = ""
    on_request: Callable[[Received], None] | None = None
    _ids = itertools.count(1)

    def then_answer(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        """Answer the next request this way instead of with success."""
        self.scripted.append((status, body, headers or {}))

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/graph/{node}/messages", self._graph)
        app.router.add_post("/tiktok/business/message/send/", self._tiktok)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.url = f"http://{host}:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - the chosen port
        return self.url

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def base_urls(self) -> dict[str, str]:
        return {"graph": f"{self.url}/graph", "tiktok": f"{self.url}/tiktok"}

    async def _record(self, api: str, request: web.Request) -> web.Response | None:
        self.received.append(Received(api, request.path, dict(request.headers), await request.json()))
        if self.on_request is not None:
            self.on_request(self.received[-1])
        if self.scripted:
            status, body, headers = self.scripted.pop(0)
            return web.json_response(body, status=status, headers=headers)
        return None

    async def _graph(self, request: web.Request) -> web.Response:
        answer = await self._record("graph", request)
        if answer is not None:
            return answer
        n = next(self._ids)
        if request.match_info["node"].isdigit() and "messaging_product" in self.received[-1].body:
            return web.json_response({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.fake{n}",
                                                                                     "message_status": "accepted"}]})
        return web.json_response({"recipient_id": self.received[-1].body.get("recipient", {}).get("id"),
                                  "message_id": f"m_fake{n}"})

    async def _tiktok(self, request: web.Request) -> web.Response:
        answer = await self._record("tiktok", request)
        return answer or web.json_response({"code": 0, "message": "OK",
                                            "data": {"message": {"message_id": f"tt-fake{next(self._ids)}"}}})


def describe_send(received: Received) -> str:
    """One line: who the platform was asked to message, and what."""
    body = received.body
    to = body.get("to") or body.get("recipient")
    to = to.get("id") if isinstance(to, dict) else to
    text = (body.get("text") or {}).get("body") or (body.get("message") or {}).get("text") or ""
    return f"to {to}: {text[:60]!r}"
