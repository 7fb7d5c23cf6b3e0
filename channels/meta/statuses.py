"""Messenger `delivery.mids[]` and Instagram `read.mid`: the platform's word on messages we sent."""

from __future__ import annotations

from channels.webhook_json import (
    epoch_to_utc,
    load_object,
    object_list,
    sub_object,
    text_of,
)
from contracts.outbound import DeliveryStatus, PlatformStatus

_WHAT = "Meta webhook body"


def meta_statuses(raw: bytes) -> list[PlatformStatus]:
    """Deliveries by mid, and reads that name a mid (Messenger's read watermark names none and is skipped)."""
    if b'"delivery"' not in raw and b'"read"' not in raw:  # most bodies hold messages only: skip a second parse
        return []
    out = []
    for entry in object_list(load_object(raw, what=_WHAT), "entry", what=_WHAT):
        for event in object_list(entry, "messaging", what=_WHAT):
            at = epoch_to_utc(event.get("timestamp"), unit="ms")
            if at is None:
                continue
            delivery, read = sub_object(event, "delivery"), sub_object(event, "read")
            mids = delivery.get("mids") if isinstance(delivery.get("mids"), list) else []
            out += [PlatformStatus(provider_message_id=m, status=DeliveryStatus.delivered, at=at)
                    for m in map(text_of, mids) if m]
            if text_of(read.get("mid")):
                out.append(PlatformStatus(provider_message_id=text_of(read["mid"]), status=DeliveryStatus.read, at=at))
    return out
