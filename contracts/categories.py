"""The eight canonical categories every tenant maps its own wording onto."""

from __future__ import annotations

CANONICAL_CATEGORIES: tuple[str, ...] = (
    "account_access",
    "order_status",
    "payment_billing",
    "shipping_delivery",
    "returns_refunds",
    "technical",
    "seller_support",
    "general",
)
