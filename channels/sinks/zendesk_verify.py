"""Zendesk's webhook requests: the signature check and the ticket event an agent's comment or solve sends.

Zendesk signs `X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(secret, timestamp + body))` with the timestamp of
`X-Zendesk-Webhook-Signature-Timestamp` (ISO 8601). Outcomes are values: `verify` returns None when the request is
Zendesk's, else why not; `parse_event` returns the reply or resolve a ticket event asks for, None for any other
event, and raises PayloadError for a body that is not a Zendesk event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from channels.sinks.zendesk_ticket import MARKER
from contracts.errors import PayloadError
from contracts.workitem import AgentActionKind

MAX_AGE_S = 5 * 60  # older requests are refused (a captured request replayed later)
COMMENT_ADDED = "zen:event-type:ticket.comment_added"
STATUS_CHANGED = "zen:event-type:ticket.status_changed"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _seconds(timestamp: str) -> float | None:
    try:
        return float(timestamp)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo else None


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> str | None:
    """None when the signature is the webhook secret's over timestamp + body and the timestamp is fresh."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get("x-zendesk-webhook-signature-timestamp")
    given = lower.get("x-zendesk-webhook-signature")
    if not timestamp or not given:
        return "missing X-Zendesk-Webhook-Signature-Timestamp or X-Zendesk-Webhook-Signature"
    at = _seconds(timestamp)
    if at is None:
        return "X-Zendesk-Webhook-Signature-Timestamp is not an ISO 8601 time with its zone"
    if abs(now - at) > MAX_AGE_S:
        return f"stale request: its timestamp is {int(abs(now - at))} s from now (more than {MAX_AGE_S} s)"
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode()):
        return "X-Zendesk-Webhook-Signature does not match the body (wrong signing secret, or the body was changed)"
    return None


@dataclass(frozen=True)
class ZendeskUpdate:
    """What an agent did on a ticket of ours that omniroute takes as an action on its work item."""

    kind: AgentActionKind  # reply (a public comment by staff) or resolve (status solved)
    item_id: str  # the ticket's external_id
    ticket_id: str
    user_id: str | None  # the commenting agent, or the solved ticket's assignee
    text: str | None
    event_id: str  # Zendesk's id of the event: a redelivered webhook is taken once


def parse_event(body: bytes) -> ZendeskUpdate | None:
    """The reply or resolve in a Zendesk ticket event; None for other events and for comments that are no reply
    (private, by the requester, or written by omniroute itself)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise PayloadError("not a Zendesk event: the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise PayloadError("not a Zendesk event: expected a JSON object with `type` (zen:event-type:...)")
    detail, event = data.get("detail"), data.get("event")
    if not isinstance(detail, dict) or not isinstance(event, dict):
        return None
    item_id, ticket_id = detail.get("external_id"), str(detail.get("id") or "")
    event_id = str(data.get("id") or "")
    if not item_id or not event_id:
        return None  # not one of our tickets (we always set external_id)
    if data["type"] == COMMENT_ADDED:
        comment = event.get("comment")
        if not isinstance(comment, dict):
            raise PayloadError("a ticket.comment_added event without event.comment")
        author, text = comment.get("author") or {}, str(comment.get("body") or "").strip()
        if not comment.get("is_public") or not author.get("is_staff") or not text or MARKER in text:
            return None
        return ZendeskUpdate(AgentActionKind.reply, str(item_id), ticket_id, _id(author.get("id")), text, event_id)
    if data["type"] == STATUS_CHANGED and str(event.get("current") or "").upper() == "SOLVED":
        return ZendeskUpdate(AgentActionKind.resolve, str(item_id), ticket_id, _id(detail.get("assignee_id")),
                             None, event_id)
    return None


def _id(value: object) -> str | None:
    return str(value) if value not in (None, "") else None
