"""The live-chat gateway: `/chat/{tenant}/sessions`, `/messages`, `/ws`, `/hours`, the widget and its demo page.

Visitors of a tenant's official site open a session (Origin checked), get a short-lived token signed with the
tenant's key, post messages over HTTP (acknowledged after Kafka) and receive numbered frames on a WebSocket that
authenticates in its first frame. Frames live in Redis, so any replica can serve a reconnect and push replies.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

import orjson
from aiohttp import WSMsgType, web
from pydantic import ValidationError
from redis.exceptions import RedisError

from channels import registry
from channels.chat import config, tokens
from channels.chat.wire import MessageRequest, SessionRequest, first_error
from contracts.channels import ChannelKind, EndpointKind
from contracts.inbound import Endpoint
from workers.runtime.auth import json_response
from workers.runtime.chat_frames import RESYNC, Fanout
from workers.runtime.chat_hours import chat_hours
from workers.runtime.chat_presence import ChatPresence
from workers.runtime.chat_store import ChatSession, ChatStore
from workers.runtime.publisher import BrokerUnavailable, publish_within
from workers.runtime.webhook_gates import Sorted
from workers.runtime.webhooks import RETRY_AFTER_S, EdgeDeps, _admit, _read_limited

log = logging.getLogger("omniroute.chat")
CHANNEL = "chat"
CLOSE_BAD_FRAME, CLOSE_UNAUTHORISED, CLOSE_AUTH_TIMEOUT = 4400, 4401, 4408
DEMO_VARIABLE = "OMNIROUTE_CHAT_DEMO"


@dataclass(frozen=True)
class ChatOptions:
    """The gateway's knobs; defaults suit production, tests shorten the timeouts."""

    auth_timeout_s: float = 10.0
    token_ttl: timedelta = config.TOKEN_TTL
    sessions_per_ip: tuple[int, timedelta] = (30, timedelta(minutes=10))
    messages_per_ip: tuple[int, timedelta] = (120, timedelta(minutes=1))
    demo: bool = False  # serve the demo page and accept the gateway's own origin (`omniroute dev` turns it on)


class ChatGateway:
    def __init__(self, deps: EdgeDeps, store: ChatStore, fanout: Fanout, options: ChatOptions) -> None:
        self.deps, self.store, self.fanout, self.options = deps, store, fanout, options
        self.presence = ChatPresence(store)
        self.adapter = registry.adapter_for(ChannelKind.chat)
        # websites first: the demo page stands in for the tenant's site, never for its mobile app
        self.origins = {tenant: sorted((Endpoint(kind=e.kind, value=e.value).normalized()
                                        for e in policy.official_endpoints if e.kind == EndpointKind.chat_origin),
                                       key=lambda origin: (not origin.startswith("http"), origin))
                        for tenant, policy in deps.policies.items()}
        self.sockets: set[web.WebSocketResponse] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/chat/{tenant}/sessions", self.open_session)
        app.router.add_post("/chat/{tenant}/messages", self.post_message)
        for path in ("sessions", "messages", "hours"):
            app.router.add_route("OPTIONS", f"/chat/{{tenant}}/{path}", self.preflight)
        app.router.add_get("/chat/{tenant}/hours", self.hours)
        app.router.add_get("/chat/{tenant}/ws", self.websocket)
        app.router.add_get("/chat/{tenant}/widget.js", self.asset)
        app.router.add_get("/chat/{tenant}/widget.css", self.asset)
        app.router.add_get("/chat/{tenant}/", self.demo_page)
        app.on_startup.append(lambda _: self.fanout.start())
        app.on_shutdown.append(self._close_sockets)
        app.on_cleanup.append(lambda _: self.fanout.stop())

    # -- checks ------------------------------------------------------------------------------------------
    def _tenant(self, request: web.Request) -> str | web.Response:
        tenant = request.match_info["tenant"]
        if tenant not in self.deps.policies:
            return json_response(404, {"error": f"unknown tenant {tenant!r}", "known": sorted(self.deps.policies)})
        if not self.origins[tenant]:
            return json_response(404, {"error": f"tenant {tenant!r} has no official chat origin in its policy"})
        return tenant

    def _allowed(self, request: web.Request, tenant: str) -> set[str]:
        allowed = set(self.origins[tenant])
        if self.options.demo:
            allowed.add(f"{request.scheme}://{request.host}".lower())
        return allowed

    def _origin_refusal(self, request: web.Request, tenant: str, *, required: bool) -> web.Response | None:
        """403 unless the Origin is the tenant's official chat origin (a missing one passes where not `required`:
        browsers always send it; other clients hold a token bound to the origin it was issued for)."""
        origin = request.headers.get("Origin")
        if origin is None and not required:
            return None
        if origin is not None and origin.strip().lower().rstrip("/") in self._allowed(request, tenant):
            return None
        self.deps.metrics.request(CHANNEL, "bad_origin")
        return json_response(403, {"error": f"origin {origin or '(none)'} is not {tenant}'s official chat origin "
                                            f"({', '.join(self.origins[tenant])})"})

    def _cors(self, request: web.Request, tenant: str, response: web.StreamResponse) -> web.StreamResponse:
        origin = (request.headers.get("Origin") or "").strip()
        if origin.lower().rstrip("/") in self._allowed(request, tenant):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"
        return response

    def _keys(self, tenant: str) -> dict[str, str] | web.Response:
        variable = self.deps.secrets.missing(CHANNEL, tenant, "signing_key")
        if variable is not None:
            return json_response(503, {"error": f"the live chat of {tenant} is disabled: set {variable}"})
        return tokens.verification_keys(self.deps.secrets.for_tenant(CHANNEL, tenant))

    async def _session(self, token: str | None, tenant: str, keys: dict[str, str]) -> ChatSession | str:
        """The open session a token of this tenant stands for, else why not (for a 401 or a 4401 close)."""
        if token is None:
            return "no visitor token"
        try:
            claims = tokens.read(token, keys, self.deps.clock.now())
        except tokens.TokenError as exc:
            return str(exc)
        if claims.tenant != tenant:
            return "token of another tenant"
        session = await self.store.get(claims.session_id)
        if session is None or session.tenant != tenant or session.visitor_id != claims.visitor_id:
            return "session expired or unknown"
        if not session.open:
            return f"session ended: {session.reason or 'closed'}"
        return session

    async def _over_ip_limit(self, request: web.Request, what: str, limit: tuple[int, timedelta]) -> web.Response | None:
        try:
            over = await self.store.over_limit(what, request.remote or "unknown", *limit)
        except (RedisError, OSError):
            return None  # the limits are a courtesy to the platform; the token and the edge guard still apply
        if not over:
            return None
        self.deps.metrics.request(CHANNEL, "rate_limited")
        return json_response(429, {"error": f"too many {what} from this address; slow down"},
                             headers={"Retry-After": str(int(limit[1].total_seconds()))})

    async def _json_object(self, request: web.Request, *, optional: bool) -> dict | web.Response:
        raw = await _read_limited(request, config.MAX_BODY_BYTES)
        if raw is None:
            return json_response(413, {"error": f"body larger than {config.MAX_BODY_BYTES} bytes"})
        if optional and not raw.strip():
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return json_response(400, {"error": f"body is not JSON: {exc}"})
        if not isinstance(data, dict):
            return json_response(422, {"error": "body must be a JSON object"})
        return data

    # -- HTTP --------------------------------------------------------------------------------------------
    async def preflight(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        refused = self._origin_refusal(request, tenant, required=True)
        if refused is not None:
            return refused
        response = web.Response(status=204, headers={"Access-Control-Allow-Methods": "GET, POST",
                                                     "Access-Control-Allow-Headers": "Authorization, Content-Type",
                                                     "Access-Control-Max-Age": "600"})
        return self._cors(request, tenant, response)

    async def open_session(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        answer = await self._open_session(request, tenant)
        return self._cors(request, tenant, answer)

    async def _open_session(self, request: web.Request, tenant: str) -> web.Response:
        refused = self._origin_refusal(request, tenant, required=True)
        if refused is not None:
            return refused
        keys = self._keys(tenant)
        if isinstance(keys, web.Response):
            return keys
        renewing = tokens.bearer(request.headers.get("Authorization"))
        if renewing is None and (limited := await self._over_ip_limit(request, "sessions", self.options.sessions_per_ip)):
            return limited
        data = await self._json_object(request, optional=True)
        if isinstance(data, web.Response):
            return data
        try:
            who = SessionRequest.model_validate(data)
        except ValidationError as exc:
            return json_response(422, {"error": first_error(exc)})
        if renewing is not None:  # a live token renews its own session: same id, same frames, new expiry
            session = await self._session(renewing, tenant, keys)
            if isinstance(session, str):
                return json_response(401, {"error": session})
        else:
            official = self.origins[tenant][0]  # the session belongs to the tenant's site (the demo page stands in)
            session = await self.store.create(tenant, official, name=who.name, email=who.email)
        now = self.deps.clock.now()
        claims = tokens.VisitorClaims(tenant=tenant, session_id=session.session_id, visitor_id=session.visitor_id,
                                      origin=session.origin, issued_at=now, expires_at=now + self.options.token_ttl)
        key = self.deps.secrets.for_tenant(CHANNEL, tenant)["signing_key"]
        await self.store.touch(session.session_id)
        self.deps.metrics.request(CHANNEL, "session_renewed" if renewing else "session_opened")
        return json_response(201, {"session_id": session.session_id, "token": tokens.issue(claims, key),
                                   "expires_at": claims.expires_at.isoformat(),
                                   "last_seq": await self.store.last_seq(session.session_id)})

    async def post_message(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        answer = await self._post_message(request, tenant)
        return self._cors(request, tenant, answer)

    async def _post_message(self, request: web.Request, tenant: str) -> web.Response:
        refused = self._origin_refusal(request, tenant, required=False)
        if refused is not None:
            return refused
        keys = self._keys(tenant)
        if isinstance(keys, web.Response):
            return keys
        session = await self._session(tokens.bearer(request.headers.get("Authorization")), tenant, keys)
        if isinstance(session, str):
            self.deps.metrics.request(CHANNEL, "bad_token")
            return json_response(401, {"error": session})
        if limited := await self._over_ip_limit(request, "messages", self.options.messages_per_ip):
            return limited
        data = await self._json_object(request, optional=False)
        if isinstance(data, web.Response):
            return data
        try:
            body = MessageRequest.model_validate(data)
        except ValidationError as exc:
            return json_response(422, {"error": first_error(exc)})
        if not body.text and not body.attachments:
            return json_response(422, {"error": "text: the message is empty"})
        now = self.deps.clock.now()
        event = {"id": f"{session.session_id}:{body.client_message_id}", "session_id": session.session_id,
                 "origin": session.origin, "text": body.text, "sent_at": now.isoformat(),
                 "visitor": {"id": session.visitor_id, "name": session.name, "email": session.email},
                 "attachments": [{"provider_id": a.url, "filename": a.filename, "content_type": a.content_type,
                                  "size": a.size} for a in body.attachments]}
        message, = self.adapter.normalize(orjson.dumps(event), tenant=tenant, channel=ChannelKind.chat, received_at=now)
        accepted = {"id": message.id, "client_message_id": body.client_message_id, "server_ts": now.isoformat()}
        policy, guard = self.deps.policies[tenant], self.deps.guard
        sorted_ = Sorted(publish=[message])
        if guard is not None:
            admitted = await _admit(guard, sorted_, policy, config.SESSION_TTL * 2, self.deps.ack_timeout_s)
            if admitted is None:
                return json_response(503, {"error": "this message is still being published; retry"},
                                     headers={"Retry-After": str(RETRY_AFTER_S)})
            if sorted_.rate_limited:
                self.deps.metrics.message(CHANNEL, "rate_limited")
                window = int(policy.flood.window.as_timedelta().total_seconds())
                return json_response(429, {"error": "too many messages in this chat; wait a little"},
                                     headers={"Retry-After": str(window)})
            if not admitted:
                self.deps.metrics.message(CHANNEL, "duplicates")
                return json_response(202, {**accepted, "duplicate": True})
        try:
            await self.store.remember_message(message.id, session.session_id)
            await publish_within(self.deps.producer, [message], self.deps.customers, self.deps.ack_timeout_s,
                                 answers=self.deps.answers)
        except (BrokerUnavailable, RedisError, OSError) as exc:
            if guard is not None:
                await guard.release([message])
            self.deps.metrics.request(CHANNEL, "broker_unavailable")
            return json_response(503, {"error": f"{exc}; retry later"}, headers={"Retry-After": str(RETRY_AFTER_S)})
        if guard is not None:
            await guard.confirm([message], config.SESSION_TTL * 2)
        await self.store.touch(session.session_id)
        self.deps.metrics.message(CHANNEL, "published")
        return json_response(202, {**accepted, "duplicate": False})

    async def hours(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        panel = chat_hours(self.deps.policies[tenant], self.deps.clock.now())
        return self._cors(request, tenant, json_response(200, panel, headers={"Cache-Control": "max-age=60"}))

    async def asset(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        name = request.path.rsplit("/", 1)[-1]
        kind = "application/javascript" if name.endswith(".js") else "text/css"
        return web.Response(body=_static(name), content_type=kind, charset="utf-8",
                            headers={"Cache-Control": "max-age=300", "X-Content-Type-Options": "nosniff"})

    async def demo_page(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        if not self.options.demo:
            return json_response(404, {"error": f"the demo chat page is off; set {DEMO_VARIABLE}=1 (omniroute dev "
                                                "does) to serve it"})
        policy = self.deps.policies[tenant]
        page = _static("demo.html").decode().replace("{{TENANT}}", html.escape(tenant)).replace(
            "{{NAME}}", html.escape(policy.name)).replace("{{ORIGIN}}", html.escape(self.origins[tenant][0]))
        csp = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' "
               f"ws://{request.host} wss://{request.host}; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
               "frame-ancestors 'none'")
        return web.Response(text=page, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "no-referrer"})

    # -- WebSocket ---------------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        tenant = self._tenant(request)
        if isinstance(tenant, web.Response):
            return tenant
        refused = self._origin_refusal(request, tenant, required=False)
        if refused is not None:
            return refused
        keys = self._keys(tenant)
        if isinstance(keys, web.Response):
            return keys
        ws = web.WebSocketResponse(max_msg_size=config.MAX_CLIENT_FRAME_BYTES, heartbeat=30.0)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            auth = await self._authenticate(ws, tenant, keys)
            if auth is not None:
                async with self.presence.holding(auth[0].session_id):  # a connected visitor gets no reply by mail
                    await self._serve(ws, *auth)
        except ConnectionResetError:  # the visitor left while a frame was on its way: it is replayed next time
            pass
        finally:
            self.sockets.discard(ws)
            if not ws.closed:
                await ws.close()
        return ws

    async def _authenticate(self, ws: web.WebSocketResponse, tenant: str,
                            keys: dict[str, str]) -> tuple[ChatSession, int] | None:
        """(session, last_seq) from the first frame `{"type": "auth", "token", "last_seq"}`, or None after closing."""
        try:
            first = await ws.receive(timeout=self.options.auth_timeout_s)
        except asyncio.TimeoutError:
            await ws.close(code=CLOSE_AUTH_TIMEOUT, message=b"no auth frame in time")
            return None
        if first.type != WSMsgType.TEXT:
            await ws.close(code=CLOSE_BAD_FRAME, message=b"the first frame must be a text auth frame")
            return None
        try:
            frame = orjson.loads(first.data)
        except orjson.JSONDecodeError:
            frame = None
        last_seq = frame.get("last_seq", 0) if isinstance(frame, dict) else None
        if not isinstance(frame, dict) or frame.get("type") != "auth" or not isinstance(frame.get("token"), str) \
                or not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            await ws.close(code=CLOSE_BAD_FRAME,
                           message=b'the first frame must be {"type": "auth", "token": ..., "last_seq": n >= 0}')
            return None
        session = await self._session(frame["token"], tenant, keys)
        if isinstance(session, str):
            self.deps.metrics.request(CHANNEL, "ws_refused")
            await ws.close(code=CLOSE_UNAUTHORISED, message=session.encode()[:120])
            return None
        return session, last_seq

    async def _serve(self, ws: web.WebSocketResponse, session: ChatSession, last_seq: int) -> None:
        """Replay what the client missed, then push live frames until it leaves or the session ends."""
        queue = self.fanout.attach(session.session_id)
        reader = asyncio.create_task(self._drain_client(ws))
        try:
            current = await self.store.last_seq(session.session_id)
            sent = 0 if last_seq > current else last_seq  # a cursor from the future is stale: replay everything
            pending: list[bytes] = [RESYNC]
            while not ws.closed:
                for frame in pending:
                    frames = await self.store.frames_after(session.session_id, sent) if frame == RESYNC else [frame]
                    for one in frames:
                        seq, kind = _seq_and_type(one)
                        if kind == "typing":  # live-only, with the latest seq: for a client that is up to date
                            if seq == sent:
                                await ws.send_str(one.decode())
                            continue
                        if seq <= sent:
                            continue
                        await ws.send_str(one.decode())
                        sent = seq
                        if kind == "session_ended":
                            await ws.close(code=1000, message=b"session ended")
                            return
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    return
                pending = [getter.result()]
                while not queue.empty():
                    pending.append(queue.get_nowait())
        finally:
            reader.cancel()
            self.fanout.detach(session.session_id, queue)

    @staticmethod
    async def _drain_client(ws: web.WebSocketResponse) -> None:
        """After auth the visitor sends nothing that matters (pings, typing): read to notice the close."""
        async for _ in ws:
            pass

    async def _close_sockets(self, _: web.Application) -> None:
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b"server shutting down")


def _seq_and_type(frame: bytes) -> tuple[int, str]:
    parsed = orjson.loads(frame)
    return int(parsed["seq"]), str(parsed["type"])


@functools.cache
def _static(name: str) -> bytes:
    """A file of the widget (package data of channels.chat), read once."""
    return (resources.files("channels.chat") / "widget" / name).read_bytes()


def add_chat_routes(app: web.Application, deps: EdgeDeps, store: ChatStore, options: ChatOptions) -> ChatGateway:
    """Serve the chat gateway on `app`; its Redis fan-out starts and stops with the application."""
    gateway = ChatGateway(deps, store, Fanout(store.redis, store.channel), options)
    gateway.add_routes(app)
    return gateway
