"""An agent is typing: `{"kind": "typing"}` on the actions endpoint -> a live-only `typing` frame to the visitor.

Typing is not an agent action: it is not written to Kafka nor to the item's history (it is worthless seconds
later, and an agent's tool may send it on every keystroke). The frame is fanned out to the visitor's open
WebSockets only, never stored or replayed, and carries the session's latest `seq` without advancing it. At most
one frame per session per `config.TYPING_EVERY`; more are coalesced (202 with `"pushed": false`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from channels.chat import config
from channels.chat.wire import FrameType
from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import ChannelKind
from contracts.ports import Clock
from contracts.workitem import WorkItemState
from workers.runtime.action_checks import Refused
from workers.runtime.auth import invalid, json_response
from workers.runtime.chat_presence import ChatPresence
from workers.runtime.chat_store import ChatStore
from workers.runtime.tokens import Principal

KIND = "typing"


class TypingRequest(BaseModel):
    """`{"kind": "typing", "agent_id"}` on a live-chat work item: show the visitor that an agent is typing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["typing"]
    agent_id: str = Field(min_length=1)


@dataclass(frozen=True)
class Typed:
    pushed: bool  # False: coalesced into the frame sent less than TYPING_EVERY ago
    visitor_connected: bool


class AgentTyping:
    """The `typing` kind of the actions endpoint (the endpoint hands it requests whose kind is `typing`)."""

    def __init__(self, queue: RedisWorkQueue, store: ChatStore, clock: Clock) -> None:
        self.queue, self.store, self.clock = queue, store, clock
        self.presence = ChatPresence(store)

    async def respond(self, tenant: str, item_id: str, principal: Principal, data: dict) -> web.Response:
        try:
            body = TypingRequest.model_validate(data)
        except ValidationError as exc:
            return invalid("typing", exc)
        if principal.agent is not None and body.agent_id != principal.agent:
            return json_response(403, {"error": f"this token acts for agent {principal.agent!r} only"})
        outcome = await self.signal(tenant, item_id)
        if isinstance(outcome, Refused):
            return json_response(outcome.status, {"error": outcome.error})
        return json_response(202, {"work_item_id": item_id, "kind": KIND, "pushed": outcome.pushed,
                                   "visitor_connected": outcome.visitor_connected})

    async def signal(self, tenant: str, item_id: str) -> Typed | Refused:
        """Push the frame, or say why not: 404 unknown item, 409 resolved item or closed session, 422 not chat."""
        item = await self.queue.get(item_id)
        if item is None or item.tenant != tenant:
            return Refused(404, f"no work item {item_id!r} in tenant {tenant!r}")
        if item.state == WorkItemState.resolved:
            return Refused(409, f"work item {item_id} is resolved; nobody waits for a typing indicator")
        target = item.reply_to
        if target is None or target.channel != ChannelKind.chat:
            where = target.channel.value if target is not None else "no channel to answer on"
            return Refused(422, f"typing is shown on live chat only; work item {item_id} is on {where}")
        session_id = target.conversation_key
        session = await self.store.get(session_id)
        if session is None or not session.open:
            return _closed(session is not None)
        if await self.store.over_limit("typing", session_id, 1, config.TYPING_EVERY):
            return Typed(pushed=False, visitor_connected=await self.presence.connected(session_id))
        status = await self.store.pulse(session_id, FrameType.typing, self.clock.now())
        if status <= 0:  # it ended or expired in between
            return _closed(status < 0)
        return Typed(pushed=True, visitor_connected=await self.presence.connected(session_id))


def _closed(ended: bool) -> Refused:
    why = "has ended" if ended else "has expired"
    return Refused(409, f"the visitor's chat session {why}; there is nobody to show typing to")
