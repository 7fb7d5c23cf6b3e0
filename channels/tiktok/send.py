"""TikTok Business Messaging sends: `POST {tiktok}/business/message/send/`; success is `code == 0`, not HTTP 200."""

from __future__ import annotations

from collections.abc import Mapping

from channels.send_errors import failure
from contracts.adapters import PlatformRequest
from contracts.outbound import OutboundMessage, SendResult

THROTTLES = frozenset({"40064"})  # "sending messages too fast" (reference §3.1, third-party docs)


class TikTokSender:
    transport = "tiktok"
    token_role = "access_token"

    def request(self, message: OutboundMessage, token: str, base_url: str) -> PlatformRequest:
        target = message.target
        body: dict = {"business_id": target.endpoint, "recipient_type": "CONVERSATION",
                      "recipient": target.conversation_key, "message_type": "TEXT", "text": {"body": message.text}}
        if message.part == 1:
            body["referenced_message_info"] = {"referenced_message_id": target.provider_message_id}
        return PlatformRequest("POST", f"{base_url}/business/message/send/", {"Access-Token": token}, body)

    def read(self, status: int, body: object, headers: Mapping[str, str]) -> SendResult:
        data = body if isinstance(body, dict) else {}
        if status == 200 and data.get("code") == 0:
            message = (data.get("data") or {}).get("message") or {}
            return SendResult(ok=True, provider_message_id=str(message.get("message_id") or "") or None)
        return failure(status, data.get("code"), data.get("message"), headers, THROTTLES)
