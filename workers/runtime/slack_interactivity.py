"""Slack's Claim and Resolve buttons: POST /slack/{tenant}/interactivity -> the same checked action path as the API.

The request must carry Slack's signature by the tenant's signing secret and a timestamp under five minutes old
(else 401; 503 while the secret is unset). The Slack user becomes an agent id through the sink file's `agents`
map (`slack:<user id>` when unmapped), and the click is taken like `POST .../actions` (`take_action`): of two
racing claims one wins. Slack gets its 200 at once; a refused click is answered to that user alone (an ephemeral
message through the interaction's response_url), while the item's message itself is edited by the deliver
processor when the action comes through Kafka.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaProducer
from slack_sdk.webhook.async_client import AsyncWebhookClient

from channels.sinks.slack_verify import SlackClick, parse_click, verify
from contracts.errors import PayloadError
from contracts.ports import Clock
from contracts.workitem import AgentActionKind, WorkItemState
from workers.runtime.action_checks import Refused
from workers.runtime.auth import json_response
from workers.runtime.sink_requests import signed_body
from workers.runtime.take_action import ActionChecks, take_action
from workers.sink_files import SinkSet

log = logging.getLogger("omniroute.slack")
PATH = "/slack/{tenant}/interactivity"


@dataclass
class SlackDeps:
    producer: AIOKafkaProducer
    checks: ActionChecks
    sinks: SinkSet
    clock: Clock
    session: aiohttp.ClientSession
    answers: set[asyncio.Task] = field(default_factory=set)  # ephemeral answers still being sent


def agent_for(sinks: SinkSet, tenant: str, user_id: str) -> str:
    """The agent id a Slack user acts as: the sink file's `agents` map, else `slack:<user id>`."""
    for sink in sinks.slack(tenant):
        if user_id in sink.agents:
            return sink.agents[user_id]
    return f"slack:{user_id}"


async def refusal_text(deps: SlackDeps, click: SlackClick, refused: Refused) -> str:
    """What the refused user reads; a lost claim names who holds the item."""
    item = await deps.checks.queue.get(click.item_id) if refused.status == 409 else None
    if item is not None and item.state == WorkItemState.claimed and item.assignee:
        verb = "claimed" if click.kind == AgentActionKind.claim else "held"
        return f":no_entry: Already {verb} by {item.assignee}."
    return f":no_entry: {refused.error}"


def add_slack_routes(app: web.Application, deps: SlackDeps) -> None:
    async def interactivity(request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        body = await signed_body(
            request, deps.sinks.slack(tenant), verify, deps.clock.now().timestamp(),
            missing_sink=f"no Slack sink for tenant {tenant!r}: add one to its deploy/sinks/{tenant}.yaml and set "
                         "its bot token",
            no_secret="set {missing} (the Slack app's signing secret) to accept its button clicks")
        if isinstance(body, web.Response):
            return body
        try:
            click = parse_click(body)
        except PayloadError as exc:
            return json_response(400, {"error": str(exc)})
        if click is None:
            return web.Response(status=200)  # another interaction of the app: nothing for us to do
        agent = agent_for(deps.sinks, tenant, click.user_id)
        taken = await take_action(deps.producer, deps.checks, tenant, click.item_id, click.kind, agent,
                                  deps.clock.now())
        if isinstance(taken, Refused):
            log.info("slack %s by %s on %s/%s refused: %s", click.kind.value, agent, tenant, click.item_id,
                     taken.error)
            if click.response_url:
                answer(deps, click.response_url, await refusal_text(deps, click, taken))
        return web.Response(status=200)

    async def finish_answers(_: web.Application) -> None:
        if deps.answers:
            await asyncio.wait(set(deps.answers), timeout=5)

    app.router.add_post(PATH, interactivity)
    app.on_cleanup.append(finish_answers)


def answer(deps: SlackDeps, response_url: str, text: str) -> None:
    """An ephemeral message to the user who clicked, sent after Slack has had its 200 (Slack waits 3 s at most)."""
    async def send() -> None:
        try:
            sent = await AsyncWebhookClient(response_url, session=deps.session, timeout=10).send(
                text=text, response_type="ephemeral", replace_original=False)
            if sent.status_code != 200:
                log.warning("slack response_url answered %s: %s", sent.status_code, sent.body[:200])
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("slack response_url unreachable: %s", exc)

    task = asyncio.get_running_loop().create_task(send())
    deps.answers.add(task)
    task.add_done_callback(deps.answers.discard)
