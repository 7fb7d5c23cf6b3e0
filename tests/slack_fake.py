"""A local Slack: the Web API methods the Slack sink calls (chat.postMessage, chat.update) and response_url
endpoints, recording every call; and interaction requests signed the way Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web


@dataclass
class Call:
    method: str
    body: dict
    token: str | None
    ts: str | None = None  # the message's ts (the one posted, or the one updated)

    @property
    def item_id(self) -> str | None:
        """The work item a message is about (the `Item` field the sink renders)."""
        for block in self.body.get("blocks") or []:
            for f in block.get("fields") or []:
                if f["text"].startswith("*Item*\n`"):
                    return f["text"].split("`")[1]
        return None

    @property
    def text(self) -> str:
        """Every text of the message, joined (for assertions on what it shows)."""
        parts = [self.body.get("text") or ""]
        for block in self.body.get("blocks") or []:
            parts += [block.get("text", {}).get("text", "")]
            parts += [f["text"] for f in block.get("fields") or []]
            parts += [e.get("text", "") if isinstance(e.get("text"), str) else e.get("text", {}).get("text", "")
                      for e in block.get("elements") or []]
        return "\n".join(parts)

    @property
    def buttons(self) -> list[str]:
        return [e["action_id"] for b in self.body.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


@dataclass
class SlackFake:
    token: str
    calls: list[Call] = field(default_factory=list)
    answers: dict[str, list[dict]] = field(default_factory=dict)  # response_url id -> ephemeral answers
    messages: dict[tuple[str, str], dict] = field(default_factory=dict)  # (channel, ts) -> latest body
    refusals: list[tuple[int, str | None]] = field(default_factory=list)  # (HTTP status, Slack error) to answer next
    url: str = ""
    _runner: web.AppRunner | None = None
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - the bound port
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return self.url + "/api/"

    def response_url(self) -> str:
        key = uuid.uuid4().hex
        self.answers[key] = []
        return f"{self.url}/response/{key}"

    def refuse(self, times: int, status: int = 503, error: str | None = None) -> None:
        self.refusals += [(status, error)] * times

    def posts(self, item_id: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "chat.postMessage" and item_id in (None, c.item_id)]

    def updates(self, item_id: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == "chat.update" and item_id in (None, c.item_id)]

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        body = await request.json()
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self.refusals:
            status, error = self.refusals.pop(0)
            if error is None:
                return web.Response(status=status, text="upstream trouble", content_type="text/plain")
            return web.json_response({"ok": False, "error": error}, status=status, headers={"Retry-After": "0"})
        if method == "chat.postMessage":
            ts = f"{1_700_000_000 + next(self._ts)}.000100"
            self.calls.append(Call(method, body, token, ts))
            self.messages[(body["channel"], ts)] = body
            return web.json_response({"ok": True, "channel": body["channel"], "ts": ts, "message": body})
        self.calls.append(Call(method, body, token, body.get("ts")))
        if method == "chat.update":
            key = (body["channel"], body["ts"])
            if key not in self.messages:
                return web.json_response({"ok": False, "error": "message_not_found"})
            self.messages[key] = body
            return web.json_response({"ok": True, "channel": body["channel"], "ts": body["ts"]})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _response(self, request: web.Request) -> web.Response:
        self.answers.setdefault(request.match_info["id"], []).append(await request.json())
        return web.Response(text="ok")


def click(item_id: str, user_id: str, action_id: str = "omniroute_claim", response_url: str | None = None) -> dict:
    """A block_actions payload as Slack sends it when a user presses one of the message's buttons."""
    return {"type": "block_actions", "team": {"id": "T0TEAM"}, "user": {"id": user_id, "username": user_id.lower()},
            "api_app_id": "A0APP", "container": {"type": "message", "channel_id": "C0CONEK"},
            "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "block_id": f"omniroute:{item_id}",
                         "value": item_id, "action_ts": f"{time.time():.6f}"}]}


def signed_interaction(secret: str, payload: dict, at: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The form body and headers Slack sends: X-Slack-Signature = v0=HMAC-SHA256(secret, "v0:ts:body")."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time() if at is None else at))
    return body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(secret, ts, body),
                  "Content-Type": "application/x-www-form-urlencoded"}


def slack_signature(secret: str, ts: str, body: bytes) -> str:
    """Slack's documented scheme, written out here (not slack-sdk's) so the tests check the code against it."""
    return "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
