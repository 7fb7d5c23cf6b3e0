"""WhatsApp Cloud API webhook signature check: Meta signs WhatsApp bodies exactly as Messenger ones."""

from __future__ import annotations

from channels.meta.signature import verify_meta_signature

verify_whatsapp_signature = verify_meta_signature

__all__ = ["verify_meta_signature", "verify_whatsapp_signature"]
