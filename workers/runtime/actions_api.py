"""Agents' actions in over HTTP: POST /v1/{tenant}/work-items/{item_id}/actions -> support.agent-actions.v1."""

from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from contracts.topics import AGENT_ACTIONS
from contracts.workitem import AgentAction, AgentActionKind
from workers.runtime.auth import invalid, json_response, tenant_and_object
from workers.runtime.codec import encode


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
                      api_token: str | None) -> None:
    """Add the actions endpoint; it answers 202 only once the broker acknowledged the action."""

    async def post_action(request: web.Request) -> web.Response:
        checked = await tenant_and_object(request, tenants, api_token)
        if isinstance(checked, web.Response):
            return checked
        (tenant, data), item_id = checked, request.match_info["item_id"]
        try:
            body = ActionRequest.model_validate(data)
        except ValidationError as exc:
            return invalid("action", exc)
        action = AgentAction(kind=body.kind, work_item_id=item_id, tenant=tenant, agent_id=body.agent_id,
                             at=datetime.now(timezone.utc), text=body.text, escalate_to=body.escalate_to)
        meta = await producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))
        return json_response(202, {"work_item_id": item_id, "kind": action.kind.value, "topic": meta.topic,
                           "partition": meta.partition, "offset": meta.offset})

    app.router.add_post("/v1/{tenant}/work-items/{item_id}/actions", post_action)
