"""Agents' actions in over HTTP: POST /v1/{tenant}/work-items/{item_id}/actions -> support.agent-actions.v1.

With the work queue at hand every action is checked first (`action_checks`): 404 for an item the tenant does not
have, 409 for a claim on a held item or anything on a resolved one, 422 for an unknown escalation target; claims
and resolutions are applied atomically in Redis before the action is published.
"""

from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import AGENT_ACTIONS
from contracts.workitem import AgentAction, AgentActionKind
from routing.policy import TenantPolicy
from workers.runtime.action_checks import Refused, check_action
from workers.runtime.action_history import ActionHistory
from workers.runtime.auth import authorise, invalid, json_object, json_response
from workers.runtime.codec import encode
from workers.runtime.tokens import Authoriser


class ActionRequest(BaseModel):
    """The request body; the tenant, item id and time come from the URL and the server."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: AgentActionKind
    agent_id: str
    text: str | None = None
    escalate_to: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ActionRequest:
        if not self.agent_id:
            raise ValueError("agent_id must not be empty")
        if self.escalate_to is not None and self.kind != AgentActionKind.escalate:
            raise ValueError("escalate_to is only meaningful with kind 'escalate'")
        return self


def action_key(action: AgentAction) -> bytes:
    """tenant:work_item, as contracts.topics.AGENT_ACTIONS says: one item's actions stay in order."""
    return f"{action.tenant}:{action.work_item_id}".encode()


def add_action_routes(app: web.Application, producer: AIOKafkaProducer, tenants: set[str],
                      auth: Authoriser | str | None, *, queue: RedisWorkQueue | None = None,
                      policies: dict[str, TenantPolicy] | None = None, history: ActionHistory | None = None) -> None:
    """Add the actions endpoint; it answers 202 only once the broker acknowledged the action."""

    async def post_action(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, auth)
        if isinstance(checked, web.Response):
            return checked
        (tenant, principal), item_id = checked, request.match_info["item_id"]
        data = await json_object(request)
        if isinstance(data, web.Response):
            return data
        try:
            body = ActionRequest.model_validate(data)
        except ValidationError as exc:
            return invalid("action", exc)
        if principal.agent is not None and body.agent_id != principal.agent:
            return json_response(403, {"error": f"this token acts for agent {principal.agent!r} only"})
        escalate_to = body.escalate_to
        if queue is not None and policies is not None:
            verdict = await check_action(queue, policies[tenant], tenant, item_id, body.kind, body.agent_id,
                                         body.escalate_to)
            if isinstance(verdict, Refused):
                return json_response(verdict.status, {"error": verdict.error, **(verdict.extra or {})})
            escalate_to = verdict.escalate_to or escalate_to
        action = AgentAction(kind=body.kind, work_item_id=item_id, tenant=tenant, agent_id=body.agent_id,
                             at=datetime.now(timezone.utc), text=body.text, escalate_to=escalate_to)
        meta = await producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))
        if history is not None:
            await history.remember(action)
        return json_response(202, {"work_item_id": item_id, "kind": action.kind.value, "topic": meta.topic,
                                   "partition": meta.partition, "offset": meta.offset,
                                   **({"escalate_to": escalate_to} if escalate_to else {})})

    app.router.add_post("/v1/{tenant}/work-items/{item_id}/actions", post_action)
