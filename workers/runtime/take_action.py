"""An agent's action taken, by whatever door it came in (the actions API, Slack's buttons): checked against the
item (`action_checks`: 404/409/422, claims and resolutions applied atomically in Redis), then published to
support.agent-actions.v1 and remembered in the item's history. Refusals are values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from channels.sinks.redis_queue import RedisWorkQueue
from contracts.topics import AGENT_ACTIONS
from contracts.workitem import AgentAction, AgentActionKind
from routing.policy import TenantPolicy
from workers.runtime.action_checks import Refused, check_action
from workers.runtime.action_history import ActionHistory
from workers.runtime.codec import encode


@dataclass(frozen=True)
class ActionChecks:
    """What checking an action needs: the work queue, the tenants' policies, the action history."""

    queue: RedisWorkQueue
    policies: dict[str, TenantPolicy]
    history: ActionHistory | None = None


@dataclass(frozen=True)
class Taken:
    action: AgentAction
    record: RecordMetadata


def action_key(action: AgentAction) -> bytes:
    """tenant:work_item, as contracts.topics.AGENT_ACTIONS says: one item's actions stay in order."""
    return f"{action.tenant}:{action.work_item_id}".encode()


async def take_action(producer: AIOKafkaProducer, checks: ActionChecks | None, tenant: str, item_id: str,
                      kind: AgentActionKind, agent_id: str, at: datetime, *, text: str | None = None,
                      escalate_to: str | None = None, to_queue: str | None = None, to_agent: str | None = None,
                      fields: Sequence[str] = ()) -> Taken | Refused:
    """Taken once the broker acknowledged the action; Refused (with its HTTP status) before anything happened."""
    if checks is not None:
        verdict = await check_action(checks.queue, checks.policies[tenant], tenant, item_id, kind, agent_id,
                                     escalate_to, to_queue=to_queue, to_agent=to_agent, fields=fields, text=text)
        if isinstance(verdict, Refused):
            return verdict
        escalate_to = verdict.escalate_to or escalate_to
        to_queue, to_agent = verdict.to_queue or to_queue, verdict.to_agent or to_agent
        text = verdict.text or text
    action = AgentAction(kind=kind, work_item_id=item_id, tenant=tenant, agent_id=agent_id, at=at, text=text,
                         escalate_to=escalate_to, to_queue=to_queue, to_agent=to_agent, fields=list(fields))
    record = await producer.send_and_wait(AGENT_ACTIONS.name, value=encode(action), key=action_key(action))
    if checks is not None and checks.history is not None:
        await checks.history.remember(action)
    return Taken(action, record)
