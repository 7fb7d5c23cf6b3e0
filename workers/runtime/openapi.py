"""The OpenAPI 3.1 document of the HTTP service (the API channel and the agents' API), served at /openapi.json."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from contracts.inbound import InboundMessage
from workers.runtime.actions_api import ActionRequest
from workers.runtime.auth import json_response
from workers.runtime.chat_typing import TypingRequest

_REF = "#/components/schemas/"


def _schemas(*models: type[BaseModel]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template=_REF + "{model}")
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    return out


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": _REF + "Error"}}}}


def _get(summary: str, *params: str) -> dict:
    return {"get": {"summary": summary, "parameters": [_param(p) for p in ("tenant", *params)],
                    "responses": {"200": {"description": "found", "content": {"application/json": {}}},
                                  "401": _error("missing or wrong token"),
                                  "403": _error("the token is for another tenant or agent"),
                                  "404": _error("unknown tenant or item")}}}


def _param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict[str, Any]:
    schemas = _schemas(InboundMessage, ActionRequest, TypingRequest)
    schemas["Error"] = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
    body = lambda name: {"required": True, "content": {"application/json": {"schema": {"$ref": _REF + name}}}}  # noqa: E731
    return {
        "openapi": "3.1.0",
        "info": {"title": "omniroute", "version": "1",
                 "description": "The API channel (trusted integrations post customer messages) and the agents' API "
                                "(queues, work items, actions). Bearer tokens are scoped to one tenant "
                                "(`omniroute tokens create`)."},
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/v1/{tenant}/messages": {"post": {
                "summary": "A customer message from a trusted integration; official by the token's authentication",
                "parameters": [_param("tenant")], "requestBody": body("InboundMessage"),
                "responses": {"202": {"description": "written to Kafka (id, topic, partition, offset)"},
                              "401": _error("missing or wrong token"), "403": _error("another tenant's token"),
                              "404": _error("unknown tenant"), "422": _error("field errors"),
                              "503": _error("Kafka did not acknowledge in time; retry")}}},
            "/v1/{tenant}/work-items/{item_id}/actions": {"post": {
                "summary": "An agent's action: claim, reply, resolve, escalate, wait_customer, reassign (to_queue "
                           "and/or to_agent), note (internal, never sent), request_info (fields asked of the "
                           "customer; pauses clocks where the policy's sla.pause_on_request_info says so); or "
                           "`typing` on a live-chat item: a typing indicator pushed to the visitor's WebSocket (never "
                           "written to Kafka, at most one per session every 3 s, 202 with pushed and "
                           "visitor_connected)",
                "parameters": [_param("tenant"), _param("item_id")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": _REF + "ActionRequest"}, {"$ref": _REF + "TypingRequest"}]}}}},
                "responses": {"202": {"description": "accepted and written to Kafka (typing: pushed or coalesced)"},
                              "404": _error("no such item in this tenant"),
                              "409": _error("a claim on a held item, an action on a resolved one, a reassign "
                                            "that changes nothing, a request_info on an item with no customer "
                                            "message to answer (typing: also a chat session that ended or "
                                            "expired)"),
                              "422": _error("field errors, or an unknown escalation or reassignment queue "
                                            "(typing: an item not on live chat)")}}},
            "/v1/{tenant}/queues": _get("The tenant's queues with open counts, the next SLA due and the 7-day CSAT"),
            "/v1/{tenant}/queues/{queue}/items": _get("A queue's open items, SLA due first", "queue"),
            "/v1/{tenant}/work-items/{item_id}": _get("One item with its trace and action history", "item_id"),
            "/slack/{tenant}/interactivity": {"post": {
                "summary": "Slack's Claim/Resolve button clicks (Slack signs them; no bearer token): taken like the "
                           "actions endpoint's, a refusal answered to the clicking user through response_url",
                "security": [], "parameters": [_param("tenant")],
                "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "properties": {"payload": {"type": "string",
                                                                 "description": "Slack's block_actions JSON"}},
                    "required": ["payload"]}}}},
                "responses": {"200": {"description": "taken, or refused (the user is told why)"},
                              "400": _error("not a Slack interaction"),
                              "401": _error("X-Slack-Signature wrong or the timestamp older than 5 minutes"),
                              "404": _error("no Slack sink for this tenant"),
                              "503": _error("the tenant's Slack signing secret is unset")}}},
            "/zendesk/{tenant}/events": {"post": {
                "summary": "Zendesk's webhook (signed with its signing secret; no bearer token): an agent's public "
                           "comment on a ticket of ours is a reply, a solve a resolve, taken like the actions "
                           "endpoint's",
                "security": [], "parameters": [_param("tenant")],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "description": "a Zendesk ticket event (zen:event-type:ticket.comment_added "
                                                     "or ticket.status_changed)"}}}},
                "responses": {"200": {"description": "taken, ignored (another event, a private or own comment, a "
                                                     "duplicate) or refused (the reason in `refused`)"},
                              "400": _error("not a Zendesk event"),
                              "401": _error("X-Zendesk-Webhook-Signature wrong or the timestamp older than 5 "
                                            "minutes"),
                              "404": _error("no Zendesk sink for this tenant"),
                              "503": _error("the webhook signing secret is unset, or the broker did not take "
                                            "the action")}}},
            "/healthz": {"get": {"summary": "liveness", "security": [], "responses": {"200": {"description": "ok"}}}},
            "/readyz": {"get": {"summary": "readiness", "security": [],
                                "responses": {"200": {"description": "ready"}, "503": {"description": "starting"}}}},
        },
    }


def add_openapi_route(app: web.Application) -> None:
    doc = document()

    async def openapi(_: web.Request) -> web.Response:
        return json_response(200, doc)

    app.router.add_get("/openapi.json", openapi)
