"""WhatsApp Cloud API sends: `POST {graph}/{phone_number_id}/messages` with a quote-reply context."""

from __future__ import annotations

import re
from collections.abc import Mapping

from channels.send_errors import failure
from contracts.adapters import PlatformRequest
from contracts.outbound import OutboundMessage, SendResult

# 130429 throughput, 131056 pair rate limit, 80007 WABA rate limit, 131048 spam rate limit (reference §1.8)
THROTTLES = frozenset({"130429", "131056", "80007", "131048"})
_PHONE = re.compile(r"^\d{6,15}$")


class WhatsAppSender:
    transport = "graph"
    token_role = "access_token"

    def request(self, message: OutboundMessage, token: str, base_url: str) -> PlatformRequest:
        target = message.target
        body: dict = {"messaging_product": "whatsapp", "recipient_type": "individual", "type": "text",
                      "text": {"body": message.text, "preview_url": False},
                      "biz_opaque_callback_data": message.id}
        # Customers with a username may expose only a business-scoped user id (BSUID), sent as `recipient`.
        body["to" if _PHONE.match(target.recipient) else "recipient"] = target.recipient
        if message.part == 1:
            body["context"] = {"message_id": target.provider_message_id}
        return PlatformRequest("POST", f"{base_url}/{target.endpoint}/messages",
                               {"Authorization": f"Bearer {token}"}, body)

    def read(self, status: int, body: object, headers: Mapping[str, str]) -> SendResult:
        data = body if isinstance(body, dict) else {}
        if status == 200 and data.get("messages"):
            return SendResult(ok=True, provider_message_id=str(data["messages"][0].get("id")))
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        return failure(status, error.get("code"), error.get("message") or error.get("title"), headers, THROTTLES)
