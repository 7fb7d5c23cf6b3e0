"""What the HTTP service needs for the agents' API, and why an API-channel message is official."""

from __future__ import annotations

from dataclasses import dataclass

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.channels import EndpointKind
from routing.policy import TenantPolicy
from workers.runtime.action_history import ActionHistory
from workers.runtime.csat_store import CsatStore
from workers.runtime.tokens import Authoriser, Principal


@dataclass(frozen=True)
class AgentsApiDeps:
    auth: Authoriser
    queue: RedisWorkQueue
    history: ActionHistory
    policies: dict[str, TenantPolicy]
    csat: CsatStore | None = None  # each queue's ratings, for GET /v1/{tenant}/queues

    def action_checks(self) -> dict:
        return {"queue": self.queue, "policies": self.policies, "history": self.history}


def official_by_token(data: dict, principal: Principal) -> list[dict]:
    """A message posted with the tenant's token is official by that authentication: the API endpoint comes first,
    named by the token; whatever the integration said it was addressed to follows."""
    given = data.get("addressed_to")
    return [{"kind": EndpointKind.api.value, "value": f"token {principal.id}"},
            *(given if isinstance(given, list) else [])]
