"""The automatic-mail processor: routed and rejected email decisions -> the policy's automatic answer by SMTP.

What to say is planned by `routing/automail.py` (pure); this sends it through the outbound processor as a
`policy_message` (null envelope sender, `Auto-Submitted: auto-replied`, capped per recipient by the SMTP
transport). The outbound id derives from the decision's message id, and the outbound processor claims each id in
Redis before sending: a decision published or consumed twice sends one mail. Other channels answer in their own
way (the chat gateway shows policy texts in the session), so only email is handled here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from channels import registry
from contracts.channels import ChannelKind
from contracts.decision import Decision
from contracts.outbound import DeliveryEvent, OutboundKind
from routing.automail import automatic_answer
from routing.policy import TenantPolicy
from workers.runtime.codec import decode_decision
from workers.runtime.outbound import OutboundProcessor

log = logging.getLogger("omniroute.automail")
AUTOMAIL_CHANNELS = frozenset({ChannelKind.email})


class AutomailProcessor:
    def __init__(self, outbound: OutboundProcessor, policies: Mapping[str, TenantPolicy]) -> None:
        self.outbound, self.policies = outbound, policies
        self._told: set[str] = set()  # tenants whose missing SMTP URL was logged already

    async def on_decision(self, raw: bytes) -> list[DeliveryEvent]:
        """The delivery events of this decision's automatic mail (none when it asks for none)."""
        return await self.answer(decode_decision(raw))

    async def answer(self, decision: Decision) -> list[DeliveryEvent]:
        target = decision.reply_to
        policy = self.policies.get(decision.tenant)
        if target is None or target.channel not in AUTOMAIL_CHANNELS or policy is None:
            return []
        answer = automatic_answer(decision, policy)
        if answer is None:
            return []
        if not self.outbound.can_send(decision.tenant, target):
            if decision.tenant not in self._told:  # agents' replies fail visibly; automatic mail is left out quietly
                self._told.add(decision.tenant)
                adapter = registry.adapter_for(target.channel)
                role = adapter.sender.token_role if adapter.sender else "smtp_url"
                log.info("automatic mail for %s is not sent: set %s", decision.tenant,
                         self.outbound.secrets.variable(adapter.name, decision.tenant, role))
            return []
        log.info("automatic mail for %s message %s: %s", decision.tenant, decision.message_id,
                 ", ".join(answer.reasons))
        return await self.outbound.send(decision.tenant, getattr(decision, "work_item_id", ""), target, answer.text,
                                        source=f"automail:{decision.message_id}", kind=OutboundKind.policy_message)
