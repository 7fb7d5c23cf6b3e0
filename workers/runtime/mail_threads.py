"""A customer's answer whose references hold our Message-ID but not its conversation is threaded onto it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from contracts.channels import ChannelKind
from contracts.inbound import InboundMessage
from workers.runtime.delivery_index import DeliveryIndex

# our Message-IDs (channels/email/send.py): the outbound id is the reply token the delivery index knows
_OURS = re.compile(r"^omniroute\.[0-9a-f-]{36}@", re.IGNORECASE)


def our_ids(message: InboundMessage) -> list[str]:
    """The ids of our own mail the message answers or references, nearest first."""
    refs = message.reply
    return [i for i in dict.fromkeys((*refs.in_reply_to, *reversed(refs.references))) if _OURS.match(i)]


def rethreaded(message: InboundMessage, ours: str, conversation: str) -> InboundMessage:
    """The message with its conversation as the root of its References, as a client that kept them would send."""
    if conversation in message.reply.references or conversation in message.reply.in_reply_to:
        return message  # the References chain matches already: it comes first
    reply = message.reply.model_copy(update={"references": [conversation, *message.reply.references]})
    return message.model_copy(update={"reply": reply, "conversation_key": conversation,
                                      "provider": {**message.provider, "threaded_by": f"our Message-ID <{ours}>"}})


async def thread_answers(index: DeliveryIndex, messages: Sequence[InboundMessage]) -> list[InboundMessage]:
    """Messages answering our mail, threaded onto the conversation that mail answered (when the index knows it:
    our sends are kept 30 days); the rest unchanged."""
    wanted = {m.id: our_ids(m) for m in messages}
    known = await index.conversations(ChannelKind.email, list({i for ids in wanted.values() for i in ids}))
    out = []
    for message in messages:
        ours = next((i for i in wanted[message.id] if i in known), None)
        out.append(rethreaded(message, ours, known[ours]) if ours else message)
    return out
