"""Signed platform payloads for the webhook and outbound end-to-end tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

SECRETS = {"CONEK_WHATSAPP_APP_SECRET": "conek-app-secret", "CONEK_WHATSAPP_VERIFY_TOKEN": "conek-verify",
           "IZONIE_META_APP_SECRET": "izonie-meta-secret", "IZONIE_TIKTOK_APP_SECRET": "izonie-tiktok-secret"}
CONEK_NUMBER = "106540000000001"


def whatsapp_body(wamid: str, sender: str = "27831234567", text: str = "Can we get a refund? We were charged twice.",
                  number: str = CONEK_NUMBER) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "27832885137", "phone_number_id": number},
             "contacts": [{"profile": {"name": "Thabo"}, "wa_id": sender}],
             "messages": [{"from": sender, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                           "text": {"body": text}}]}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "102290000000001", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def signed(raw: bytes, secret: str = SECRETS["CONEK_WHATSAPP_APP_SECRET"]) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def whatsapp_statuses(*statuses: tuple[str, str], number: str = CONEK_NUMBER) -> bytes:
    """A statuses-only body: (wamid, status) pairs, as WhatsApp reports on messages we sent."""
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "27832885137", "phone_number_id": number},
             "statuses": [{"id": wamid, "status": status, "timestamp": str(int(time.time())),
                           "recipient_id": "27830000000"} for wamid, status in statuses]}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "102290000000001", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(body, separators=(",", ":")).encode()


IZONIE_TIKTOK = "7000000000000000123"
IZONIE_PAGE = "110200300400500"


def tiktok_body(message_id: str, sender: str = "tt-user-1", text: str = "Hi, my order has not arrived",
                business: str = IZONIE_TIKTOK) -> bytes:
    content = {"type": "text", "message_id": message_id, "timestamp": int(time.time() * 1000),
               "conversation_id": f"conv-{sender}", "text": {"body": text}, "from_user": {"id": sender},
               "to_user": {"id": business}}
    return json.dumps({"event": "im_receive_msg", "user_openid": business, "create_time": int(time.time()),
                       "content": json.dumps(content)}, separators=(",", ":")).encode()


def tiktok_signed(raw: bytes, secret: str = SECRETS["IZONIE_TIKTOK_APP_SECRET"], at: float | None = None) -> dict:
    t = str(int(at if at is not None else time.time()))
    digest = hmac.new(secret.encode(), t.encode() + b"." + raw, hashlib.sha256).hexdigest()
    return {"TikTok-Signature": f"t={t},s={digest}", "Content-Type": "application/json"}


def messenger_body(mid: str, sender: str = "psid-1", text: str = "Where is my parcel?", page: str = IZONIE_PAGE,
                   recipient: str | None = None) -> bytes:
    event = {"sender": {"id": sender}, "recipient": {"id": recipient or page}, "timestamp": int(time.time() * 1000),
             "message": {"mid": mid, "text": text}}
    return json.dumps({"object": "page", "entry": [{"id": page, "time": int(time.time() * 1000),
                                                    "messaging": [event]}]}, separators=(",", ":")).encode()
