"""Email channel settings: the mailbox URLs a tenant configures (IMAP in, SMTP out)."""

from __future__ import annotations

from contracts.adapters import SecretSpec

SECRETS = (
    SecretSpec("imap_url", "{TENANT}_IMAP_URL"),
    SecretSpec("smtp_url", "{TENANT}_SMTP_URL"),
)
NATIVE_INPUT = "an RFC 5322 message (.eml)"
