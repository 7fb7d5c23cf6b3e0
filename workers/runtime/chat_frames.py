"""Frames to visitors: the Redis fan-out every gateway replica listens to, and the "chat" reply transport."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.chat.wire import FrameType
from contracts.adapters import ReplySender, Sent
from contracts.outbound import OutboundMessage, SendResult
from contracts.ports import Clock
from workers.runtime.chat_store import ChatStore

log = logging.getLogger("omniroute.chat")
RESYNC = b""  # put on every local queue after a (re)subscription: re-read the log, a frame may have been missed


class Fanout:
    """One Redis subscription per gateway process; frames go to the queues of this process's WebSockets.

    Frames are numbered and kept in the session's log before they are published, so a connection that missed a
    publication (Redis reconnect) re-reads the log on RESYNC and one that sees a frame twice drops it by seq.
    """

    def __init__(self, redis: Redis, channel: str, *, retry_s: float = 1.0) -> None:
        self.redis, self.channel, self.retry_s = redis, channel, retry_s
        self.local: dict[str, set[asyncio.Queue[bytes]]] = defaultdict(set)
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def attach(self, session_id: str) -> asyncio.Queue[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=1000)
        self.local[session_id].add(queue)
        return queue

    def detach(self, session_id: str, queue: asyncio.Queue[bytes]) -> None:
        queues = self.local.get(session_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self.local[session_id]

    async def start(self, wait_s: float = 10.0) -> None:
        """Subscribe in the background; waits up to `wait_s` for it, then serves anyway (it keeps retrying)."""
        self._task = asyncio.create_task(self._run(), name="chat-fanout")
        try:
            await asyncio.wait_for(self.subscribed.wait(), wait_s)
        except TimeoutError:
            log.warning("chat fan-out: not subscribed to Redis after %g s; live frames wait for it", wait_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                self._deliver_all(RESYNC)
                async for message in pubsub.listen():
                    session_id, _, frame = message["data"].partition(b"\n")
                    for queue in self.local.get(session_id.decode(), ()):
                        _offer(queue, frame)
            except (RedisError, OSError) as exc:
                self.subscribed.clear()
                log.warning("chat fan-out: Redis subscription lost (%s); resubscribing", exc)
                await asyncio.sleep(self.retry_s)
            finally:
                await pubsub.aclose()

    def _deliver_all(self, frame: bytes) -> None:
        for queues in self.local.values():
            for queue in queues:
                _offer(queue, frame)


def _offer(queue: asyncio.Queue[bytes], frame: bytes) -> None:
    try:
        queue.put_nowait(frame)
    except asyncio.QueueFull:  # a stuck client: it gets a RESYNC-style re-read from the log instead
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(RESYNC)


class ChatTransport:
    """Carries an agent's reply to the visitor: an `agent_reply` frame in the session's log, fanned out live.

    A visitor who is not connected gets it on the next connection of the session (replay from `last_seq`); the
    store remembers that nobody was connected (`ChatStore.was_away`), for a copy by mail (chat_mail).
    """

    def __init__(self, store: ChatStore, clock: Clock) -> None:
        self.store, self.clock = store, clock

    async def send(self, sender: ReplySender, message: OutboundMessage, token: str) -> Sent:
        session_id = message.target.conversation_key
        try:
            seq = await self.store.push(session_id, FrameType.agent_reply, self.clock.now(), away=message.id,
                                        id=message.id, text=message.text, part=message.part, parts=message.parts)
        except (RedisError, OSError) as exc:
            return Sent(SendResult(ok=False, retry=True, error_code="redis_unavailable",
                                   error=f"the chat session store is unreachable: {exc}"), 1)
        if seq > 0:
            return Sent(SendResult(ok=True, provider_message_id=f"chat:{session_id}:{seq}"), 1)
        why = "has ended" if seq < 0 else "has expired (or never existed)"
        return Sent(SendResult(ok=False, error_code="session_closed",
                               error=f"the visitor's chat session {why}; answer by email if the customer gave one"), 1)
