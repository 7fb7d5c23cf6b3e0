"""A customer's answer whose references hold our Message-ID, or which was sent to our plus-tagged Reply-To, but
whose References miss its conversation, is threaded onto it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from workers.runtime.delivery_index import DeliveryIndex

# our Message-IDs (channels/email/send.py): the outbound id is the reply token the delivery index knows
_OURS = re.compile(r"^omniroute\.[0-9a-f-]{36}@", re.IGNORECASE)
# our Reply-To (send.plus_address): the official mailbox tagged with the outbound id
_PLUS = re.compile(r"^[^+@\s]+\+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@([^@\s]+)$",
                   re.IGNORECASE)


def our_ids(message: InboundMessage) -> dict[str, str]:
    """The ids of our own mail the message answers, nearest first, each with how it was found: our Message-ID in
    In-Reply-To/References first, then the outbound id of the plus-tagged mailbox it was sent to."""
    refs = message.reply
    found = {i: f"our Message-ID <{i}>" for i in (*refs.in_reply_to, *reversed(refs.references)) if _OURS.match(i)}
    for endpoint in message.addressed_to:
        match = _PLUS.match(endpoint.value)
        if match:
            found.setdefault(f"omniroute.{match.group(1).lower()}@{match.group(2).lower()}",
                             f"plus address <{endpoint.value}>")
    return found


def rethreaded(message: InboundMessage, conversation: str, how: str) -> InboundMessage:
    """The message with its conversation as the root of its References, as a client that kept them would send."""
    if conversation in message.reply.references or conversation in message.reply.in_reply_to:
        return message  # the References chain matches already: it comes first
    reply = message.reply.model_copy(update={"references": [conversation, *message.reply.references]})
    return message.model_copy(update={"reply": reply, "conversation_key": conversation,
                                      "provider": {**message.provider, "threaded_by": how}})


async def thread_answers(index: DeliveryIndex, messages: Sequence[InboundMessage]) -> list[InboundMessage]:
    """Messages answering our mail, threaded onto the conversation that mail answered (when the index knows it:
    our sends are kept 30 days); the rest unchanged."""
    wanted = {m.id: our_ids(m) for m in messages}
    known = await index.conversations(ChannelKind.email, list({i for ids in wanted.values() for i in ids}))
    out = []
    for message in messages:
        ours = next((i for i in wanted[message.id] if i in known), None)
        out.append(rethreaded(message, known[ours], wanted[message.id][ours]) if ours else message)
    return out
