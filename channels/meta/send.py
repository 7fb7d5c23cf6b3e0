"""Messenger and Instagram sends: the Send API, `POST {graph}/{page or account id}/messages`."""

from __future__ import annotations

from collections.abc import Mapping

from channels.send_errors import failure
from contracts.adapters import PlatformRequest
from contracts.outbound import OutboundMessage, SendResult

THROTTLES = frozenset({"613", "4", "17", "32"})  # Graph rate limits (application, user and page level)
MAX_QUICK_REPLIES, QUICK_REPLY_TITLE = 13, 20  # the Send API's limits
CHOICE_PAYLOAD = "CHOICE:"  # a quick reply's payload: this prefix and the choice offered


class MetaSender:
    transport = "graph"
    token_role = "access_token"

    def request(self, message: OutboundMessage, token: str, base_url: str) -> PlatformRequest:
        target = message.target
        body: dict = {"recipient": {"id": target.recipient}, "message": {"text": message.text},
                      "messaging_type": "MESSAGE_TAG" if message.tag else "RESPONSE"}
        if message.tag:
            body["tag"] = message.tag
        if message.part == 1:
            body["message"]["reply_to"] = {"mid": target.provider_message_id}
        if message.choices:  # quick replies: a tap sends the title as the customer's text (the payload rides along)
            body["message"]["quick_replies"] = [{"content_type": "text", "title": c[:QUICK_REPLY_TITLE],
                                                 "payload": f"{CHOICE_PAYLOAD}{c}"}
                                                for c in message.choices[:MAX_QUICK_REPLIES]]
        return PlatformRequest("POST", f"{base_url}/{target.endpoint or 'me'}/messages",
                               {"Authorization": f"Bearer {token}"}, body)

    def read(self, status: int, body: object, headers: Mapping[str, str]) -> SendResult:
        data = body if isinstance(body, dict) else {}
        if status == 200 and data.get("message_id"):
            return SendResult(ok=True, provider_message_id=str(data["message_id"]))
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        return failure(status, error.get("code"), error.get("message"), headers, THROTTLES)
