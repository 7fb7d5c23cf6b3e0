"""The Zendesk sink: one ticket per work item over Zendesk's REST API (external_id = item id), updated as it changes.

Every delivery looks the ticket up by external_id (`GET /api/v2/tickets.json?external_id=`) and creates it when
there is none (`POST /api/v2/tickets.json` with an `Idempotency-Key`: the event id), else updates it
(`PUT /api/v2/tickets/{id}.json`): a retried or redelivered `work_item.created` finds the ticket and never makes a
second. Deliveries of one item are serialised by a Redis lock (`item_lock`), so a `created` and a `claim` racing on
a new item make one ticket. Each call goes through the sinks' retry budget (`SinkClient.send`).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import quote

import orjson
import redis.asyncio as aioredis

from channels.sinks.http import SinkAttempt, SinkClient, SinkRequest
from channels.sinks.item_lock import ItemLocks
from channels.sinks.zendesk_ticket import TicketMap, create_body, update_body
from contracts.sinks import SinkEvent


def basic_auth(email: str, token: str) -> str:
    """Zendesk's API token authentication: Basic base64("{email}/token:{token}")."""
    return "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()


def ticket_id_in(body: object) -> int | None:
    """The lowest ticket id of a `{"tickets": [...]}` answer (two tickets for one item: the first one made)."""
    tickets = body.get("tickets") if isinstance(body, dict) else None
    ids = [t["id"] for t in tickets or [] if isinstance(t, dict) and isinstance(t.get("id"), int)]
    return min(ids) if ids else None


@dataclass(frozen=True)
class ZendeskSink:
    name: str
    tenant: str
    queues: frozenset[str] | None
    base_url: str  # https://<subdomain>.zendesk.com
    email: str
    token: str
    mapping: TicketMap = field(default_factory=TicketMap)
    signing_secret: str | None = None  # verifies the webhook endpoint's requests; None: it answers 503
    signing_secret_env: str = ""
    locks: ItemLocks | None = None  # set by `bind` (the deliver processor's Redis)
    wait_s: float = 10.0  # how long to wait for another delivery of the same item
    kind: str = "zendesk"

    @property
    def agents(self) -> Mapping[str, str]:
        return self.mapping.agents

    def bind(self, redis: aioredis.Redis, prefix: str) -> ZendeskSink:
        """This sink with its per-item locks in `redis`."""
        return replace(self, locks=ItemLocks(redis, prefix=prefix))

    async def deliver(self, event: SinkEvent, client: SinkClient, now: datetime) -> SinkAttempt:
        if self.locks is None:
            return SinkAttempt(ok=False, attempts=0, error=f"Zendesk sink {self.tenant}/{self.name} has no Redis bound")
        async with self.locks.held(self.tenant, self.name, event.item.id, self.wait_s) as held:
            if not held:
                return SinkAttempt(ok=False, attempts=0, error=f"another delivery of {event.item.id} held its "
                                                               f"Zendesk ticket for {self.wait_s:g} s; try again")
            found = await client.send(self.find_request(event))
            if not found.ok:
                return found
            ticket = ticket_id_in(found.body)
            if ticket is None:
                return await client.send(self.create_request(event))
            return await client.send(self.update_request(ticket, event))

    def _request(self, method: str, path: str, event: SinkEvent, body: dict | None = None) -> SinkRequest:
        headers = {"authorization": basic_auth(self.email, self.token), "accept": "application/json",
                   "idempotency-key": f"{event.id}:{method.lower()}"}
        if body is not None:
            headers["content-type"] = "application/json"
        return SinkRequest(method, self.base_url.rstrip("/") + path, headers, orjson.dumps(body) if body else b"")

    def find_request(self, event: SinkEvent) -> SinkRequest:
        return self._request("GET", f"/api/v2/tickets.json?external_id={quote(event.item.id, safe='')}", event)

    def create_request(self, event: SinkEvent) -> SinkRequest:
        return self._request("POST", "/api/v2/tickets.json", event, create_body(event, self.mapping))

    def update_request(self, ticket: int, event: SinkEvent) -> SinkRequest:
        return self._request("PUT", f"/api/v2/tickets/{ticket}.json", event, update_body(event, self.mapping))
