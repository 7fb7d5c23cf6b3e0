"""Agents' actions in over HTTP: POST /v1/{tenant}/work-items/{item_id}/actions -> support.agent-actions.v1.

With the work queue at hand every action is checked first (`action_checks`): 404 for an item the tenant does not
have, 409 for a claim on a held item or anything on a resolved one, 422 for an unknown escalation or reassignment
queue; claims, resolutions and reassignments are applied atomically in Redis before the action is published.
"""

from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.workitem import AgentAction, AgentActionKind
from routing.policy import TenantPolicy
from workers.runtime.action_checks import Refused
from workers.runtime.action_history import ActionHistory
from workers.runtime.auth import authorise, invalid, json_object, json_response
from workers.runtime.chat_typing import KIND as TYPING
from workers.runtime.chat_typing import AgentTyping
from workers.runtime.take_action import ActionChecks, take_action
from workers.runtime.take_action import action_key as action_key  # re-exported: the demo and tests key actions
from workers.runtime.tokens import Authoriser


class ActionRequest(BaseModel):
    """The request body; the tenant, item id and time come from the URL and the server."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: AgentActionKind
    agent_id: str
    text: str | None = Field(None, description="reply: sent to the customer; note: kept in the item's history "
                                               "only; request_info: said before the request for the fields")
    escalate_to: str | None = None
    to_queue: str | None = Field(None, description="reassign: the queue to move the item to")
    to_agent: str | None = Field(None, description="reassign: the agent to hand the item to (without it the item "
                                                   "is open for claiming)")
    fields: list[str] = Field(default_factory=list, description="request_info: the details to ask the customer "
                                                                "for, e.g. order_number, photo")

    @model_validator(mode="after")
    def _consistent(self) -> ActionRequest:
        if not self.agent_id:
            raise ValueError("agent_id must not be empty")
        if self.escalate_to is not None and self.kind != AgentActionKind.escalate:
            raise ValueError("escalate_to is only meaningful with kind 'escalate'")
        if (self.to_queue is not None or self.to_agent is not None) != (self.kind == AgentActionKind.reassign):
            raise ValueError("kind 'reassign' needs to_queue, to_agent or both, and only it takes them")
        if bool(self.fields) != (self.kind == AgentActionKind.request_info):
            raise ValueError("kind 'request_info' needs fields (e.g. [\"order_number\"]), and only it takes them")
        if any(not f.strip() for f in self.fields):
            raise ValueError("fields must not be empty strings")
        if self.to_queue == "" or self.to_agent == "":
            raise ValueError("to_queue and to_agent must not be empty; leave one out instead")
        if self.kind == AgentActionKind.note and not self.text:
            raise ValueError("kind 'note' needs its text")
        return self


def add_action_routes(app: web.Application, producer: AIOKafkaProducer, tenants: set[str],
                      auth: Authoriser | str | None, *, queue: RedisWorkQueue | None = None,
                      policies: dict[str, TenantPolicy] | None = None, history: ActionHistory | None = None,
                      typing: AgentTyping | None = None) -> None:
    """Add the actions endpoint; it answers 202 only once the broker acknowledged the action (`typing`, live chat
    only, is not an action: it goes to the visitor's WebSocket, never to Kafka; see chat_typing)."""

    async def post_action(request: web.Request) -> web.Response:
        checked = await authorise(request, tenants, auth)
        if isinstance(checked, web.Response):
            return checked
        (tenant, principal), item_id = checked, request.match_info["item_id"]
        data = await json_object(request)
        if isinstance(data, web.Response):
            return data
        if typing is not None and data.get("kind") == TYPING:
            return await typing.respond(tenant, item_id, principal, data)
        try:
            body = ActionRequest.model_validate(data)
        except ValidationError as exc:
            return invalid("action", exc)
        if principal.agent is not None and body.agent_id != principal.agent:
            return json_response(403, {"error": f"this token acts for agent {principal.agent!r} only"})
        checks = ActionChecks(queue, policies, history) if queue is not None and policies is not None else None
        taken = await take_action(producer, checks, tenant, item_id, body.kind, body.agent_id,
                                  datetime.now(timezone.utc), text=body.text, escalate_to=body.escalate_to,
                                  to_queue=body.to_queue, to_agent=body.to_agent, fields=body.fields)
        if isinstance(taken, Refused):
            return json_response(taken.status, {"error": taken.error, **(taken.extra or {})})
        return json_response(202, accepted_body(taken.action, taken.record, policies))

    app.router.add_post("/v1/{tenant}/work-items/{item_id}/actions", post_action)


def accepted_body(action: AgentAction, meta: RecordMetadata, policies: dict[str, TenantPolicy] | None) -> dict:
    """The 202 answer: where the action was written, and what the checks filled in."""
    body = {"work_item_id": action.work_item_id, "kind": action.kind.value, "topic": meta.topic,
            "partition": meta.partition, "offset": meta.offset}
    if action.escalate_to:
        body["escalate_to"] = action.escalate_to
    if action.kind == AgentActionKind.reassign:
        body |= {"to_queue": action.to_queue, "to_agent": action.to_agent}
    if action.kind == AgentActionKind.request_info:
        policy = (policies or {}).get(action.tenant)
        body |= {"text": action.text, "pauses_clocks": bool(policy and policy.sla.pause_on_request_info)}
    return body
