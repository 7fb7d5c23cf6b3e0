"""JSON Schemas of the wire contracts, generated from the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from contracts.csat import CsatRating
from contracts.decision import Decision
from contracts.inbound import InboundMessage
from contracts.workitem import AgentAction, SlaEvent, WorkItem

SCHEMA_MODELS: dict[str, Any] = {
    "InboundMessage": InboundMessage,
    "Decision": Decision,
    "WorkItem": WorkItem,
    "SlaEvent": SlaEvent,
    "AgentAction": AgentAction,
    "CsatRating": CsatRating,
}


def json_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, one per contract (`inbound_message.v1.json`, ...)."""
    out = {}
    for name, model in SCHEMA_MODELS.items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        out[f"{snake}.v1.json"] = TypeAdapter(model).json_schema(mode="serialization")
    return out
