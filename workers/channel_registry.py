"""Explicit registry of channel adapters: which normalizer reads a channel's native input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from channels.api.normalize import normalize_api
from channels.chat.normalize import normalize_chat
from channels.email.normalize import normalize_email
from channels.meta.normalize import normalize_meta
from channels.tiktok.normalize import normalize_tiktok
from channels.whatsapp.normalize import normalize_whatsapp
from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage

Normalizer = Callable[[bytes, str, datetime | None], list[InboundMessage]]


def _meta(channel: ChannelKind) -> Normalizer:
    return lambda raw, tenant, at: normalize_meta(raw, tenant=tenant, channel=channel, received_at=at)


NORMALIZERS: dict[ChannelKind, Normalizer] = {
    ChannelKind.email: lambda raw, tenant, at: [normalize_email(raw, tenant=tenant, received_at=at)],
    ChannelKind.chat: lambda raw, tenant, at: normalize_chat(raw, tenant=tenant, received_at=at),
    ChannelKind.whatsapp: lambda raw, tenant, at: normalize_whatsapp(raw, tenant=tenant, received_at=at),
    ChannelKind.messenger: _meta(ChannelKind.messenger),
    ChannelKind.instagram: _meta(ChannelKind.instagram),
    ChannelKind.tiktok: lambda raw, tenant, at: normalize_tiktok(raw, tenant=tenant, received_at=at),
    ChannelKind.api: lambda raw, tenant, at: normalize_api(raw, tenant=tenant, received_at=at),
}

NATIVE_INPUT: dict[ChannelKind, str] = {
    ChannelKind.email: "an RFC 5322 message (.eml)",
    ChannelKind.chat: "a live-chat gateway event (JSON)",
    ChannelKind.whatsapp: "a WhatsApp Cloud API webhook body (JSON)",
    ChannelKind.messenger: "a Messenger webhook body (JSON, object=page)",
    ChannelKind.instagram: "an Instagram webhook body (JSON, object=instagram)",
    ChannelKind.tiktok: "a TikTok Business Messaging webhook body (JSON)",
    ChannelKind.api: "an InboundMessage-shaped JSON object",
}
