"""The generic API channel: trusted integrations post InboundMessage-shaped JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from channels.errors import PayloadError
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage


def normalize_api(body: bytes | str | dict[str, Any], *, tenant: str, received_at: datetime | None = None) -> list[InboundMessage]:
    """Validate one posted message; the tenant comes from the URL, never from the body."""
    try:
        data = body if isinstance(body, dict) else json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"API message is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("API message must be a JSON object")
    data = {**data, "tenant": tenant, "channel": data.get("channel", ChannelKind.api.value)}
    if received_at is not None:
        data["received_at"] = received_at
    try:
        return [InboundMessage.model_validate(data)]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise PayloadError(f"API message is not a valid InboundMessage: {problems}") from None
