"""WhatsApp webhook checks: Meta signs and verifies WhatsApp bodies exactly as Messenger ones."""

from __future__ import annotations

from channels.meta.webhook import hub_handshake, sign_hub, verify_hub_signature

__all__ = ["hub_handshake", "sign_hub", "verify_hub_signature"]
