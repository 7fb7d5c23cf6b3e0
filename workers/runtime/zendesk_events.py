"""Zendesk's webhook back into omniroute: POST /zendesk/{tenant}/events -> reply and resolve actions on work items.

The request must carry Zendesk's signature by the tenant's webhook signing secret over timestamp + body, with a
timestamp under five minutes old (else 401; 503 while the secret is unset). A public comment by an agent on one of
our tickets (external_id = work item id) becomes a `reply` (sent to the customer on their own channel by
`outbound`), a status change to solved a `resolve`, both through the checked action path of the actions API
(`take_action`). Private comments, the requester's comments and those omniroute wrote are ignored (no loops).
The Zendesk user acts as the agent the sink file's `agents` maps them to (`zendesk:<user id>` when unmapped).
Each Zendesk event id is taken once (Zendesk retries a webhook it thinks failed); a refused action is answered 200
with the reason (a retry would be refused again), a broker that does not acknowledge 503 (Zendesk retries).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from redis.asyncio import Redis

from channels.sinks.redis_queue_lua import escape
from channels.sinks.zendesk_verify import parse_event, verify
from contracts.errors import PayloadError
from contracts.ports import Clock
from workers.runtime.action_checks import Refused
from workers.runtime.auth import json_response
from workers.runtime.sink_requests import signed_body
from workers.runtime.take_action import ActionChecks, take_action
from workers.sink_files import SinkSet

log = logging.getLogger("omniroute.zendesk")
PATH = "/zendesk/{tenant}/events"
SEEN_S = 3 * 24 * 3600  # Zendesk retries a failed webhook for about a day


@dataclass
class ZendeskDeps:
    producer: AIOKafkaProducer
    checks: ActionChecks
    sinks: SinkSet
    clock: Clock
    redis: Redis
    prefix: str


def agent_for(sinks: SinkSet, tenant: str, user_id: str | None) -> str:
    """The agent id a Zendesk user acts as: the sink file's `agents` map, else `zendesk:<user id>`."""
    for sink in sinks.zendesk(tenant):
        if user_id in sink.agents:
            return sink.agents[user_id]
    return f"zendesk:{user_id or 'unknown'}"


def seen_key(prefix: str, tenant: str, event_id: str) -> str:
    return f"{prefix}:zendesk:seen:{escape(tenant)}:{escape(event_id)}"


def add_zendesk_routes(app: web.Application, deps: ZendeskDeps) -> None:
    async def events(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        now = deps.clock.now()
        body = await signed_body(
            request, deps.sinks.zendesk(tenant), verify, now.timestamp(),
            missing_sink=f"no Zendesk sink for tenant {tenant!r}: add one to its deploy/sinks/{tenant}.yaml and "
                         "set its URL, email and API token",
            no_secret="set {missing} (the Zendesk webhook's signing secret) to accept its events")
        if isinstance(body, web.Response):
            return body
        try:
            update = parse_event(body)
        except PayloadError as exc:
            return json_response(400, {"error": str(exc)})
        if update is None:
            return json_response(200, {"taken": None})  # another event, or a comment that is no reply
        key = seen_key(deps.prefix, tenant, update.event_id)
        if not await deps.redis.set(key, b"1", nx=True, ex=SEEN_S):
            return json_response(200, {"taken": None, "duplicate": update.event_id})
        agent = agent_for(deps.sinks, tenant, update.user_id)
        try:
            taken = await take_action(deps.producer, deps.checks, tenant, update.item_id, update.kind, agent, now,
                                      text=update.text)
        except (KafkaError, asyncio.TimeoutError) as exc:
            await deps.redis.delete(key)  # not taken: Zendesk's retry may take it
            return json_response(503, {"error": f"the broker did not take the action ({type(exc).__name__}); "
                                                "retry later"})
        if isinstance(taken, Refused):
            log.info("zendesk %s by %s on %s/%s (ticket %s) refused: %s", update.kind.value, agent, tenant,
                     update.item_id, update.ticket_id, taken.error)
            return json_response(200, {"taken": None, "refused": taken.error})
        return json_response(200, {"taken": update.kind.value, "work_item_id": update.item_id, "agent_id": agent})

    app.router.add_post(PATH, events)
