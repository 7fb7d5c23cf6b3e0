"""Slack's interactivity requests: the signing-secret check (slack-sdk's SignatureVerifier) and the button click.

Outcomes are values: `verify` returns None when the request is Slack's, else why not; `parse_click` returns the
click on one of our buttons, None for any other interaction, and raises PayloadError for a body Slack never sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

from channels.sinks.slack_payload import CLAIM, RESOLVE
from contracts.errors import PayloadError
from contracts.workitem import AgentActionKind

MAX_AGE_S = 5 * 60  # Slack's advice: refuse requests older than five minutes (replays)
KINDS = {CLAIM: AgentActionKind.claim, RESOLVE: AgentActionKind.resolve}


class _At:
    """slack-sdk's clock, at a time we give (so the check uses the process's clock, and tests' fixed ones)."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def verify(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> str | None:
    """None when `X-Slack-Signature` is v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}") and the timestamp is fresh."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp, signature = lower.get("x-slack-request-timestamp"), lower.get("x-slack-signature")
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        age = abs(now - int(timestamp))
    except ValueError:
        return "X-Slack-Request-Timestamp is not a Unix time"
    if age > MAX_AGE_S:
        return f"stale request: its timestamp is {int(age)} s from now (more than {MAX_AGE_S} s)"
    if not SignatureVerifier(secret, clock=_At(now)).is_valid(body, timestamp, signature):
        return "X-Slack-Signature does not match the body (wrong signing secret, or the body was changed)"
    return None


@dataclass(frozen=True)
class SlackClick:
    """A Claim or Resolve button pressed by a Slack user."""

    kind: AgentActionKind
    item_id: str
    user_id: str
    user_name: str | None
    team_id: str | None
    response_url: str | None  # where an ephemeral answer to that user goes


def parse_click(body: bytes) -> SlackClick | None:
    """The click in a `block_actions` interaction (form field `payload`, JSON); None for anything else."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False)
        payload = json.loads(form["payload"][0])
    except (UnicodeDecodeError, KeyError, IndexError, ValueError):
        raise PayloadError("not a Slack interaction: expected a form body with a JSON `payload` field") from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        return None
    user = payload.get("user") or {}
    action = next((a for a in payload.get("actions") or [] if isinstance(a, dict) and a.get("action_id") in KINDS),
                  None)
    if action is None:
        return None
    if not isinstance(user, dict) or not user.get("id") or not action.get("value"):
        raise PayloadError("a Slack block_actions payload without user.id or the button's value")
    return SlackClick(kind=KINDS[action["action_id"]], item_id=str(action["value"]), user_id=str(user["id"]),
                      user_name=user.get("username") or user.get("name"), team_id=(payload.get("team") or {}).get("id"),
                      response_url=payload.get("response_url"))
