"""Official-channel-only rule: was the message addressed to one of the tenant's official endpoints?"""

from __future__ import annotations

from contracts.channels import EndpointKind
from contracts.inbound import Endpoint, InboundMessage
from routing.policy import TenantPolicy


def official_keys(policy: TenantPolicy) -> frozenset[tuple[EndpointKind, str]]:
    return frozenset((e.kind, Endpoint(kind=e.kind, value=e.value).normalized()) for e in policy.official_endpoints)


def matched_official_endpoint(message: InboundMessage, official: frozenset[tuple[EndpointKind, str]]) -> Endpoint | None:
    """The first official endpoint the message was addressed to, or None when it reached none."""
    for endpoint in message.addressed_to:
        if endpoint.kind == EndpointKind.api or (endpoint.kind, endpoint.normalized()) in official:
            return endpoint
        if endpoint.kind == EndpointKind.mailbox and (endpoint.kind, untagged(endpoint.normalized())) in official:
            return endpoint  # support+<tag>@ is delivered to support@ (our Reply-To carries such a tag)
    return None


def untagged(address: str) -> str:
    """A mailbox without its plus tag: `support+abc@x` -> `support@x` (the address itself when it has none)."""
    local, at, domain = address.rpartition("@")
    return f"{local.partition('+')[0]}@{domain}" if at and "+" in local else address
