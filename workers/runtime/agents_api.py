"""Agents' reads: GET /v1/{tenant}/queues (with CSAT), /v1/{tenant}/queues/{queue}/items, /work-items/{id}."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web

from channels.sinks.redis_queue import RedisWorkQueue, sla_due
from contracts.workitem import WorkItem
from workers.runtime.action_history import ActionHistory
from workers.runtime.auth import authorise, json_response
from workers.runtime.csat_store import CSAT_DAYS, CsatStore
from workers.runtime.tokens import Authoriser

MAX_ITEMS = 500


def item_row(item: WorkItem) -> dict:
    due = sla_due(item)
    return {"id": item.id, "tenant": item.tenant, "queue": item.queue, "category": item.category,
            "priority": item.priority.value, "channel": item.channel.value, "customer": item.customer,
            "state": item.state.value, "assignee": item.assignee, "sla_due": due.isoformat() if due else None,
            "opened_at": item.opened_at.isoformat(), "repeat_count": item.repeat_count, "subject": item.subject,
            "text": item.text}


def add_agent_routes(app: web.Application, tenants: set[str], auth: Authoriser, queue: RedisWorkQueue,
                     history: ActionHistory, csat: CsatStore | None = None) -> None:
    async def queues(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, auth)
        if isinstance(checked, web.Response):
            return checked
        tenant = checked[0]
        depths = await queue.queue_depths(tenant)
        heads = {}
        for item in await queue.list_open(tenant, limit=MAX_ITEMS):
            heads.setdefault(item.queue, item)
        ratings = {}
        if csat is not None:
            since = datetime.now(UTC) - timedelta(days=CSAT_DAYS)
            ratings = {r.queue: {"average": r.average, "ratings": r.count} for r in await csat.by_queue(since, tenant)}
        names = sorted({q for _, q in depths} | set(ratings))
        rows = [{"queue": q, "open": depths.get((tenant, q), 0),
                 "next_due": sla_due(heads[q]).isoformat() if q in heads and sla_due(heads[q]) else None,
                 "csat_7d": ratings.get(q)} for q in names]
        return json_response(200, {"tenant": tenant, "queues": rows})

    async def items(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, auth)
        if isinstance(checked, web.Response):
            return checked
        tenant, name = checked[0], request.match_info["queue"]
        found = await queue.list_open(tenant, name, limit=MAX_ITEMS)
        return json_response(200, {"tenant": tenant, "queue": name, "items": [item_row(i) for i in found]})

    async def one(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, auth)
        if isinstance(checked, web.Response):
            return checked
        tenant, item_id = checked[0], request.match_info["item_id"]
        item = await queue.get(item_id)
        if item is None or item.tenant != tenant:
            return json_response(404, {"error": f"no work item {item_id!r} in tenant {tenant!r}"})
        actions = await history.of(item_id)
        return json_response(200, {**item_row(item), "sla": item.sla.model_dump(mode="json") if item.sla else None,
                                   "flags": item.flags, "references": item.references,
                                   "trace": [s.model_dump(mode="json") for s in item.trace],
                                   "history": [a.model_dump(mode="json", exclude={"schema_version"})
                                               for a in actions]})

    app.router.add_get("/v1/{tenant}/queues", queues)
    app.router.add_get("/v1/{tenant}/queues/{queue}/items", items)
    app.router.add_get("/v1/{tenant}/work-items/{item_id}", one)
