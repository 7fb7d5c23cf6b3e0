"""`omniroute act`: post one agent action to the running dev stack's HTTP ingress."""

from __future__ import annotations

import asyncio
import getpass
import json
import urllib.error
import urllib.request
from urllib.parse import quote

from redis.asyncio import Redis
from redis.exceptions import RedisError

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.errors import OmnirouteError
from workers.settings import Settings
from workers.stack import operator_credential, statefile


class ActError(OmnirouteError):
    """The action was not accepted; the message is one line for the operator."""


def post_action(settings: Settings, item_id: str, *, tenant: str | None, kind: str, agent: str | None = None,
                text: str | None = None, escalate_to: str | None = None, to_queue: str | None = None,
                to_agent: str | None = None, fields: list[str] | None = None, timeout_s: float = 15.0) -> dict:
    """The ingress's 202 answer (topic, partition, offset); ActError for anything else.

    The token is OMNIROUTE_API_TOKEN, else the dev stack's operator credential; the tenant, when not given, is the
    item's own (read from the stack's Redis); the agent defaults to the user's login name.
    """
    running = statefile.read_live(settings.state_file)
    if running is None or not running.http_url:
        raise ActError("no running dev stack found; start one with `omniroute dev`")
    token = settings.api_token.get_secret_value() if settings.api_token else operator_credential.read(
        settings.state_file)
    if not token:
        raise ActError("OMNIROUTE_API_TOKEN is not set and the dev stack issued no operator credential; export "
                       "a token (`omniroute tokens create --tenant T`)")
    tenant = tenant or _tenant_of(item_id, running.redis_url, running.redis_prefix)
    body = {"kind": kind, "agent_id": agent or _login(), "text": text, "escalate_to": escalate_to,
            "to_queue": to_queue, "to_agent": to_agent, "fields": fields}
    url = f"{running.http_url}/v1/{quote(tenant, safe='')}/work-items/{quote(item_id, safe='')}/actions"
    request = urllib.request.Request(url, data=json.dumps({k: v for k, v in body.items() if v is not None}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ActError(_explain(exc.code, exc.read())) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActError(f"cannot reach the dev stack at {running.http_url} ({reason})") from None


def describe_accepted(kind: str, item_id: str, answer: dict) -> str:
    """One line for the operator: where the action was written and what the checks filled in."""
    line = f"accepted: {kind} on {item_id} ({answer['topic']}[{answer['partition']}]@{answer['offset']})"
    if answer.get("escalate_to"):
        line += f" to {answer['escalate_to']}"
    if kind == "reassign":
        line += f" to {answer.get('to_queue')}" + (f", held by {answer['to_agent']}" if answer.get("to_agent")
                                                    else ", open for claiming")
    if kind == "request_info":
        line += (", clocks paused until the customer answers" if answer.get("pauses_clocks")
                 else ", clocks keep running") + f"; asked: {answer.get('text')}"
    return line


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _tenant_of(item_id: str, redis_url: str, prefix: str) -> str:
    async def read() -> str | None:
        redis = Redis.from_url(redis_url)
        try:
            item = await RedisWorkQueue(redis, prefix=prefix).get(item_id)
            return item.tenant if item else None
        finally:
            await redis.aclose()
    try:
        tenant = asyncio.run(read())
    except (OSError, RedisError) as exc:
        raise ActError(f"cannot read work item {item_id} from the stack's Redis ({exc}); give --tenant") from None
    if tenant is None:
        raise ActError(f"no work item {item_id!r} in the running stack (`omniroute queues` lists them)")
    return tenant


def _explain(status: int, raw: bytes) -> str:
    try:
        answer = json.loads(raw)
    except ValueError:
        return f"the dev stack answered HTTP {status}"
    if status == 422 and answer.get("fields"):
        issues = "; ".join(f"{f['field']}: {f['error']}" for f in answer["fields"])
        return f"action refused (HTTP 422): {issues}"
    return f"action refused (HTTP {status}): {answer.get('error', raw.decode(errors='replace'))}"
