"""WhatsApp `statuses[]`: what became of the messages we sent (sent, delivered, read, failed with its error)."""

from __future__ import annotations

from channels.webhook_json import (
    epoch_to_utc,
    load_object,
    object_list,
    sub_object,
    text_of,
)
from contracts.outbound import DeliveryStatus, PlatformStatus

_STATUS = {"sent": DeliveryStatus.sent, "delivered": DeliveryStatus.delivered, "read": DeliveryStatus.read,
           "played": DeliveryStatus.read, "failed": DeliveryStatus.failed}
_WHAT = "WhatsApp webhook body"


def whatsapp_statuses(raw: bytes) -> list[PlatformStatus]:
    """Every status in the body, in order; unknown statuses (e.g. `deleted`) and ones without an id are skipped."""
    if b'"statuses"' not in raw:  # most bodies hold messages only: skip a second parse
        return []
    out = []
    for entry in object_list(load_object(raw, what=_WHAT), "entry", what=_WHAT):
        for change in object_list(entry, "changes", what=_WHAT):
            for status in object_list(sub_object(change, "value"), "statuses", what=_WHAT):
                wamid, kind = text_of(status.get("id")), _STATUS.get(text_of(status.get("status")) or "")
                at = epoch_to_utc(status.get("timestamp"), unit="s")
                if not wamid or kind is None or at is None:
                    continue
                error = next(iter(object_list(status, "errors", what=_WHAT)), {})
                out.append(PlatformStatus(provider_message_id=wamid, status=kind, at=at,
                                          error_code=text_of(error.get("code")),
                                          error=text_of(error.get("message") or error.get("title"))))
    return out
