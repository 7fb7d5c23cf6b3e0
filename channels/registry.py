"""The explicit registry of channel adapters: one line per channel package, nothing registered by import."""

from __future__ import annotations

from datetime import datetime

from channels.api.adapter import ApiAdapter
from channels.chat.adapter import ChatAdapter
from channels.email.adapter import EmailAdapter
from channels.meta.adapter import MetaAdapter
from channels.tiktok.adapter import TikTokAdapter
from channels.whatsapp.adapter import WhatsAppAdapter
from contracts.adapters import ChannelAdapter
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage

ADAPTERS: tuple[ChannelAdapter, ...] = (
    EmailAdapter(),
    ChatAdapter(),
    WhatsAppAdapter(),
    MetaAdapter(),
    TikTokAdapter(),
    ApiAdapter(),
)

_BY_KIND: dict[ChannelKind, ChannelAdapter] = {kind: a for a in ADAPTERS for kind in a.kinds}


def adapter_for(kind: ChannelKind) -> ChannelAdapter:
    return _BY_KIND[ChannelKind(kind)]


def webhook_adapters() -> list[ChannelAdapter]:
    """The adapters served at `/webhooks/{path}/{tenant}`."""
    return [a for a in ADAPTERS if a.webhook is not None]


def native_input(kind: ChannelKind) -> str:
    """What a channel's raw input is, for messages to people."""
    return adapter_for(kind).native_input[ChannelKind(kind)]


def normalize(kind: ChannelKind, raw: bytes, tenant: str, received_at: datetime | None) -> list[InboundMessage]:
    """The messages of one native input of channel `kind` (raises PayloadError for junk)."""
    return adapter_for(kind).normalize(raw, tenant=tenant, channel=ChannelKind(kind), received_at=received_at)
