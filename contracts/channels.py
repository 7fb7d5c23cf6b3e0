"""Channel kinds, the endpoint kinds they are addressed to, and what each channel can do."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ChannelKind(StrEnum):
    """Where a customer wrote from."""

    email = "email"
    chat = "chat"
    whatsapp = "whatsapp"
    messenger = "messenger"
    instagram = "instagram"
    tiktok = "tiktok"
    api = "api"


class EndpointKind(StrEnum):
    """The kind of business-side address a message was sent to."""

    mailbox = "mailbox"
    chat_origin = "chat_origin"
    whatsapp_phone_number_id = "whatsapp_phone_number_id"
    messenger_page_id = "messenger_page_id"
    instagram_account_id = "instagram_account_id"
    tiktok_business_id = "tiktok_business_id"
    api = "api"


class ChannelCapabilities(BaseModel):
    """What a channel can do; routing and SLA code read these instead of branching on channel names."""

    model_config = ConfigDict(frozen=True)

    kind: ChannelKind
    endpoint_kind: EndpointKind
    reply_window: timedelta | None  # None: the business may answer at any time
    max_text_chars: int
    attachments: bool
    threaded_by_headers: bool  # replies carry references we can thread on (email)
    live: bool  # the customer expects an answer in minutes (a session is open)
    human_reply_window: timedelta | None = None  # a longer window for replies written by a person (HUMAN_AGENT tag)


CAPABILITIES: dict[ChannelKind, ChannelCapabilities] = {
    c.kind: c
    for c in (
        ChannelCapabilities(kind=ChannelKind.email, endpoint_kind=EndpointKind.mailbox, reply_window=None,
                            max_text_chars=1_000_000, attachments=True, threaded_by_headers=True, live=False),
        ChannelCapabilities(kind=ChannelKind.chat, endpoint_kind=EndpointKind.chat_origin, reply_window=None,
                            max_text_chars=10_000, attachments=True, threaded_by_headers=False, live=True),
        ChannelCapabilities(kind=ChannelKind.whatsapp, endpoint_kind=EndpointKind.whatsapp_phone_number_id,
                            reply_window=timedelta(hours=24), max_text_chars=4096, attachments=True,
                            threaded_by_headers=False, live=False),
        ChannelCapabilities(kind=ChannelKind.messenger, endpoint_kind=EndpointKind.messenger_page_id,
                            reply_window=timedelta(hours=24), max_text_chars=2000, attachments=True,
                            threaded_by_headers=False, live=False, human_reply_window=timedelta(days=7)),
        ChannelCapabilities(kind=ChannelKind.instagram, endpoint_kind=EndpointKind.instagram_account_id,
                            reply_window=timedelta(hours=24), max_text_chars=1000, attachments=True,
                            threaded_by_headers=False, live=False, human_reply_window=timedelta(days=7)),
        ChannelCapabilities(kind=ChannelKind.tiktok, endpoint_kind=EndpointKind.tiktok_business_id,
                            reply_window=timedelta(hours=48), max_text_chars=6000, attachments=True,
                            threaded_by_headers=False, live=False),
        ChannelCapabilities(kind=ChannelKind.api, endpoint_kind=EndpointKind.api, reply_window=None,
                            max_text_chars=100_000, attachments=True, threaded_by_headers=False, live=False),
    )
}
