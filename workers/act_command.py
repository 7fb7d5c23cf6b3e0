"""`omniroute act`: post one agent action to the running dev stack's HTTP ingress."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import quote

from contracts.errors import OmnirouteError
from workers.settings import Settings
from workers.stack import statefile


class ActError(OmnirouteError):
    """The action was not accepted; the message is one line for the operator."""


def post_action(settings: Settings, item_id: str, *, tenant: str, kind: str, agent: str, text: str | None = None,
                escalate_to: str | None = None, timeout_s: float = 15.0) -> dict:
    """The ingress's 202 answer (topic, partition, offset); ActError for anything else."""
    running = statefile.read_live(settings.state_file)
    if running is None or not running.http_url:
        raise ActError("no running dev stack found; start one with `omniroute dev`")
    if settings.api_token is None:
        raise ActError("OMNIROUTE_API_TOKEN is not set; export the token the dev stack was started with")
    body = {"kind": kind, "agent_id": agent, "text": text, "escalate_to": escalate_to}
    url = f"{running.http_url}/v1/{quote(tenant, safe='')}/work-items/{quote(item_id, safe='')}/actions"
    request = urllib.request.Request(url, data=json.dumps({k: v for k, v in body.items() if v is not None}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    request.add_header("Authorization", f"Bearer {settings.api_token.get_secret_value()}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ActError(_explain(exc.code, exc.read())) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActError(f"cannot reach the dev stack at {running.http_url} ({reason})") from None


def _explain(status: int, raw: bytes) -> str:
    try:
        answer = json.loads(raw)
    except ValueError:
        return f"the dev stack answered HTTP {status}"
    if status == 422 and answer.get("fields"):
        issues = "; ".join(f"{f['field']}: {f['error']}" for f in answer["fields"])
        return f"action refused (HTTP 422): {issues}"
    return f"action refused (HTTP {status}): {answer.get('error', raw.decode(errors='replace'))}"
