"""Which messages of a verified webhook body go to Kafka: gates that return values, with the reason each one gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from contracts.inbound import InboundMessage, MessageKind
from routing.official import matched_official_endpoint, official_keys
from routing.policy import TenantPolicy
from workers.runtime.edge_guard import Admission

EDGE_FLOOD_FACTOR = 3  # the edge stops a sender at 3x the policy's flood limit: the route worker still sees
#                        (and answers with the policy's reply) the first messages over the limit


@dataclass
class Sorted:
    """A body's messages by what the edge does with them."""

    publish: list[InboundMessage] = field(default_factory=list)
    unofficial: list[InboundMessage] = field(default_factory=list)
    echoes: list[InboundMessage] = field(default_factory=list)
    duplicates: list[InboundMessage] = field(default_factory=list)
    rate_limited: list[InboundMessage] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"published": len(self.publish), "duplicates": len(self.duplicates),
                "unofficial": len(self.unofficial), "echoes": len(self.echoes), "rate_limited": len(self.rate_limited)}


def sort_by_endpoint_and_kind(messages: Sequence[InboundMessage], policy: TenantPolicy) -> Sorted:
    """Events for an address the tenant does not own are never routed; the business's own echoes are not either."""
    official = official_keys(policy)
    out = Sorted()
    for m in messages:
        if matched_official_endpoint(m, official) is None:
            out.unofficial.append(m)
        elif m.kind == MessageKind.echo:
            out.echoes.append(m)
        else:
            out.publish.append(m)
    return out


def split_admitted(candidates: Sequence[InboundMessage], admissions: Sequence[Admission],
                   out: Sorted) -> tuple[list[InboundMessage], list[InboundMessage]]:
    """(new, in flight elsewhere): copies already published and senders over the limit leave here."""
    new, in_flight = [], []
    for m, admission in zip(candidates, admissions):
        {Admission.new: new, Admission.in_flight: in_flight, Admission.duplicate: out.duplicates,
         Admission.rate_limited: out.rate_limited}[admission].append(m)
    return new, in_flight


def edge_limit(policy: TenantPolicy) -> int:
    """Messages a sender may send within the policy's flood window before the edge stops them."""
    return policy.flood.max_messages * EDGE_FLOOD_FACTOR
