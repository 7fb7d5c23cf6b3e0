"""A chat reply to a visitor who is not connected, also by mail: one mail per reply, threaded per chat session.

The reply's frame waits in the session's log for the next connection either way. The mail is only for a visitor
who gave an email at session start, had no WebSocket open when the frame was stored (the chat store notes that
atomically with the frame, see chat_presence), and whose tenant has a mailbox; never to robot or no-reply
addresses (`channels.email.loops`). Whether the tenant's SMTP is configured is the outbound processor's check,
as for any send; the copy's id derives from the reply's, so a redelivered reply is not mailed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from channels.email.loops import robot_address
from contracts.channels import ChannelKind, EndpointKind
from contracts.outbound import OutboundMessage, ReplyTarget, outbound_id_for
from routing.policy import TenantPolicy
from workers.runtime.chat_store import ChatStore

log = logging.getLogger("omniroute.chat")
FOOTER = ("\n\n--\nYou were not in the chat on {origin} when this answer arrived. It also waits for you there; "
          "answering this mail reaches the same team.")


def session_thread_id(session_id: str, mailbox: str) -> str:
    """The Message-ID every mail of one chat session refers to (In-Reply-To, References): one thread per session."""
    return f"omniroute.chat.{session_id}@{mailbox.rsplit('@', 1)[-1]}"


class ChatMailCopies:
    """The outbound processor's copies for the "chat" transport: at most one email copy of a reply."""

    def __init__(self, store: ChatStore, policies: Mapping[str, TenantPolicy]) -> None:
        self.store, self.policies = store, policies

    async def copies(self, text: str, parts: Sequence[OutboundMessage]) -> list[OutboundMessage]:
        """The mail copy of a reply whose frames were just stored, or nothing when the visitor needs none."""
        first = parts[0]
        session_id = first.target.conversation_key
        session = await self.store.get(session_id)
        if session is None or not session.email:
            return []
        if robot_address(session.email):
            log.info("chat reply %s not mailed: %s is an automatic address", first.id, session.email)
            return []
        policy = self.policies.get(first.tenant)
        mailbox = next((e.value for e in policy.official_endpoints if e.kind == EndpointKind.mailbox), None) \
            if policy is not None else None
        if mailbox is None or not any([await self.store.was_away(session_id, part.id) for part in parts]):
            return []
        thread = session_thread_id(session_id, mailbox)
        target = ReplyTarget(channel=ChannelKind.email, recipient=session.email, conversation_key=thread,
                             endpoint=mailbox, provider_message_id=thread, received_at=first.target.received_at,
                             subject=f"Your chat with {policy.name}")
        return [OutboundMessage(id=outbound_id_for(first.tenant, first.work_item_id, f"mail-copy:{first.id}", 1),
                                tenant=first.tenant, work_item_id=first.work_item_id, kind=first.kind, target=target,
                                text=text.strip() + FOOTER.format(origin=session.origin))]
