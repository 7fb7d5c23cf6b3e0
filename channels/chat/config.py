"""Live-chat channel settings: the keys that sign visitor tokens, and the limits of the wire protocol."""

from __future__ import annotations

from datetime import timedelta

from contracts.adapters import SecretSpec

SECRETS = (
    SecretSpec("signing_key", "{TENANT}_LIVECHAT_SIGNING_KEY"),
    # During a key rotation the old key, still accepted for verification until its tokens have expired.
    SecretSpec("previous_signing_key", "{TENANT}_LIVECHAT_SIGNING_KEY_PREVIOUS"),
)
NATIVE_INPUT = "a live-chat gateway event (JSON)"

TOKEN_TTL = timedelta(hours=1)  # a visitor token's life; the widget renews it while the session lives
SESSION_TTL = timedelta(hours=24)  # a session's frames and state are kept this long after its last activity
MAX_TEXT_CHARS = 4000  # a visitor's message
MAX_CLIENT_MESSAGE_ID = 100
MAX_ATTACHMENTS = 5
MAX_NAME_CHARS = 100
MAX_BODY_BYTES = 32 * 1024  # a POST to the gateway
MAX_CLIENT_FRAME_BYTES = 4 * 1024  # what a visitor may send on the WebSocket (the auth frame, pings)
PRESENCE_LEASE = timedelta(seconds=45)  # a connection counts as present this long after its last refresh ...
PRESENCE_REFRESH = timedelta(seconds=15)  # ... which its gateway renews this often while the socket is open
TYPING_EVERY = timedelta(seconds=3)  # at most one agent `typing` frame per session this often (more are coalesced)
