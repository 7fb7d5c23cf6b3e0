"""One codec for the wire: pydantic contracts <-> orjson bytes, and record keys."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.decision import DECISION_ADAPTER, Decision
from contracts.inbound import InboundMessage


def encode(model: BaseModel) -> bytes:
    """Compact JSON, nulls kept: the same bytes as orjson over model_dump(mode="json"), in one pass (~2x faster)."""
    return model.__pydantic_serializer__.to_json(model)


def decode_inbound(raw: bytes) -> InboundMessage:
    """Raises ValueError (pydantic ValidationError is one) for bytes that are not an InboundMessage.

    pydantic-core parses and validates in one pass, without the intermediate dicts of `orjson.loads`."""
    return InboundMessage.model_validate_json(raw)


def decode_decision(raw: bytes) -> Decision:
    return DECISION_ADAPTER.validate_json(raw)


def inbound_key(message: InboundMessage) -> bytes:
    """tenant + the sender's first identity: all of one sender's messages share a partition."""
    return f"{message.tenant}:{message.sender.identity_keys(message.channel)[0]}".encode()
