"""A local Zendesk: the REST API calls the Zendesk sink makes (find by external_id, create, update) recording every
call, honouring Idempotency-Key on creation as Zendesk does; and ticket events signed the way Zendesk signs them."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from channels.sinks.zendesk_verify import signature


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive, as HTTP headers are
    body: dict | None


@dataclass
class ZendeskFake:
    email: str
    token: str
    calls: list[Call] = field(default_factory=list)
    tickets: dict[int, dict] = field(default_factory=dict)
    refusals: list[int] = field(default_factory=list)  # HTTP statuses to answer next, before doing anything
    lose_next_create: bool = False  # create the next ticket, then answer 500 (the answer lost on the way)
    url: str = ""
    _created_by_key: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))
    _runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/api/v2/tickets.json", self._find)
        app.router.add_post("/api/v2/tickets.json", self._create)
        app.router.add_put("/api/v2/tickets/{id}.json", self._update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - the bound port
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def of_item(self, item_id: str) -> list[dict]:
        return [t for t in self.tickets.values() if t.get("external_id") == item_id]

    def calls_for(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _record(self, request: web.Request) -> web.Response | None:
        raw = await request.read()
        self.calls.append(Call(request.method, request.path, dict(request.query), request.headers.copy(),
                               json.loads(raw) if raw else None))
        expected = "Basic " + base64.b64encode(f"{self.email}/token:{self.token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response({"error": "Couldn't authenticate you"}, status=401)
        if self.refusals:
            return web.json_response({"error": "refused by the test"}, status=self.refusals.pop(0))
        return None

    async def _find(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        wanted = request.query.get("external_id")
        return web.json_response({"tickets": [t for t in self.tickets.values() if t.get("external_id") == wanted]})

    async def _create(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        key = request.headers.get("Idempotency-Key")
        if key and key in self._created_by_key:
            return web.json_response({"ticket": self.tickets[self._created_by_key[key]]}, status=201,
                                     headers={"x-idempotency-lookup": "hit"})
        ticket = dict(self.calls[-1].body["ticket"])
        ticket["id"] = next(self._ids)
        ticket["description"] = ticket.pop("comment")["body"]
        self.tickets[ticket["id"]] = ticket
        if key:
            self._created_by_key[key] = ticket["id"]
        if self.lose_next_create:
            self.lose_next_create = False
            return web.json_response({"error": "upstream timeout"}, status=500)
        return web.json_response({"ticket": ticket}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if (refused := await self._record(request)) is not None:
            return refused
        ticket = self.tickets.get(int(request.match_info["id"]))
        if ticket is None:
            return web.json_response({"error": "RecordNotFound"}, status=404)
        change = dict(self.calls[-1].body["ticket"])
        ticket["tags"] = list(dict.fromkeys([*ticket.get("tags", []), *change.pop("additional_tags", [])]))
        ticket.update(change)
        return web.json_response({"ticket": ticket})


def ticket_event(kind: str, ticket: dict, event: dict, *, assignee_id: int | None = None) -> dict:
    """A Zendesk event-subscription body (zen:event-type:ticket.*) about `ticket`."""
    return {"type": f"zen:event-type:ticket.{kind}", "id": str(uuid.uuid4()), "account_id": 99,
            "subject": f"zen:ticket:{ticket['id']}", "time": datetime.now(UTC).isoformat(),
            "zendesk_event_version": "2022-11-06",
            "detail": {"id": str(ticket["id"]), "external_id": ticket.get("external_id"),
                       "status": str(ticket.get("status", "open")).upper(), "tags": ticket.get("tags", []),
                       "assignee_id": str(assignee_id) if assignee_id else None},
            "event": event}


def comment_event(ticket: dict, text: str, *, author_id: int = 5001, is_staff: bool = True,
                  public: bool = True) -> dict:
    return ticket_event("comment_added", ticket, {"comment": {
        "id": str(uuid.uuid4().int % 10**9), "body": text, "is_public": public,
        "author": {"id": str(author_id), "is_staff": is_staff, "name": "Agent"}}})


def solved_event(ticket: dict, *, assignee_id: int = 5001) -> dict:
    return ticket_event("status_changed", ticket, {"current": "SOLVED", "previous": "OPEN"}, assignee_id=assignee_id)


def signed_event(secret: str, payload: dict, at: datetime | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers Zendesk sends: the signature over the ISO timestamp followed by the body."""
    body = json.dumps(payload).encode()
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body, {"Content-Type": "application/json", "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
                  "X-Zendesk-Webhook-Signature": signature(secret, timestamp, body)}
