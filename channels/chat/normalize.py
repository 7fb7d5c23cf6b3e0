"""Live-chat gateway events (JSON) -> InboundMessage."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from channels.errors import PayloadError
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import Attachment, Endpoint, InboundMessage, Sender


class ChatVisitor(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class ChatEvent(BaseModel):
    """What the chat gateway forwards for one visitor message (the widget's origin is verified there)."""

    model_config = ConfigDict(extra="ignore")

    type: str = "message"
    id: str
    session_id: str
    origin: str
    visitor: ChatVisitor
    text: str = ""
    sent_at: AwareDatetime | None = None
    attachments: list[Attachment] = []


def normalize_chat(body: bytes | str | dict[str, Any], *, tenant: str, received_at: datetime | None = None) -> list[InboundMessage]:
    """One chat event, or a JSON list of them; non-message events (typing, seen) give nothing."""
    try:
        raw = body if isinstance(body, (dict, list)) else _json(body)
        events = [ChatEvent.model_validate(e) for e in (raw if isinstance(raw, list) else [raw])]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PayloadError(f"chat event: {where}: {first['msg']}") from None
    out = []
    for event in events:
        if event.type != "message":
            continue
        sent = event.sent_at
        out.append(InboundMessage(
            tenant=tenant, channel=ChannelKind.chat, provider_message_id=event.id,
            conversation_key=event.session_id,
            sender=Sender(platform_id=event.visitor.id, display_name=event.visitor.name,
                          email=event.visitor.email, phone=event.visitor.phone),
            addressed_to=[Endpoint(kind=EndpointKind.chat_origin, value=event.origin)],
            sent_at=sent, received_at=received_at or sent or datetime.now(timezone.utc),
            text=event.text.strip(), attachments=event.attachments,
        ))
    return out


def _json(body: bytes | str) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig") if isinstance(body, bytes) else body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"chat event is not JSON: {exc}") from None
