"""Policy actions on live chat: a decision that asks to end the session (Izonie's abuse rule) ends it."""

from __future__ import annotations

import logging

import faust
from pydantic import ValidationError

from contracts.channels import ChannelKind
from contracts.decision import DECISION_ADAPTER, Decision, FollowUpKind
from contracts.ports import Clock
from contracts.topics import QUARANTINE, REJECTED, ROUTED
from workers.runtime.chat_store import ChatStore
from workers.stack.faust_compat import raw_topic

log = logging.getLogger("omniroute.chat")


async def end_session_if_asked(decision: Decision, store: ChatStore, clock: Clock) -> str | None:
    """The id of the chat session this decision ended, if it asked to end one (the visitor gets the reason)."""
    kinds = {f.kind for f in decision.follow_ups}
    if decision.channel != ChannelKind.chat or FollowUpKind.end_session not in kinds:
        return None
    session_id = await store.session_of_message(decision.message_id)
    if session_id is None:
        log.warning("chat: decision %s asks to end a session that is gone", decision.message_id)
        return None
    said = next((f.text for f in decision.follow_ups if f.kind == FollowUpKind.auto_reply and f.text), None)
    reason = said or getattr(decision, "reason", None) or "the support session was ended"
    return session_id if await store.end(session_id, reason, clock.now()) > 0 else None


def register_chat_policy(app: faust.App, store: ChatStore, clock: Clock) -> None:
    """`chat_sessions`: decisions on chat that end the session -> a `session_ended` frame.

    Routed ones too: a threat opens work for a supervisor (`abuse.threat`) and ends the session all the same.
    """
    decisions = raw_topic(app, QUARANTINE.name, REJECTED.name, ROUTED.name)

    @app.agent(decisions, name="chat_sessions")
    async def chat_sessions(stream) -> None:  # noqa: ANN001 - a faust stream
        async for raw in stream:
            try:
                decision = DECISION_ADAPTER.validate_json(raw)
            except ValidationError as exc:
                log.warning("chat_sessions: a record that is not a Decision skipped: %s", exc)
                continue
            if decision.channel == ChannelKind.chat:
                await end_session_if_asked(decision, store, clock)
