"""How a reply reaches a chat visitor: as an `agent_reply` frame on the session, by the gateway's chat transport."""

from __future__ import annotations


class ChatSender:
    """Replies on chat are carried by the "chat" transport (the gateway's frame log and fan-out in Redis).

    The token role is the signing key: a tenant whose chat is not configured has no sessions to send to.
    """

    transport = "chat"
    token_role = "signing_key"
