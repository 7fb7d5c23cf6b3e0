"""A tenant policy prepared for fast decisions: calendars built and regexes compiled once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.channels import ChannelKind, EndpointKind
from routing.calendar import BusinessCalendar
from routing.official import official_keys
from routing.policy import TenantPolicy
from routing.references import compile_reference_patterns


@dataclass(frozen=True)
class CompiledPolicy:
    policy: TenantPolicy
    calendars: dict[str, BusinessCalendar]
    official: frozenset[tuple[EndpointKind, str]]
    references: tuple[re.Pattern[str], ...]
    out_of_scope: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    required_info_triggers: tuple[tuple[re.Pattern[str], ...], ...]

    def calendar_for(self, channel: ChannelKind, override: str | None = None) -> BusinessCalendar:
        """The named calendar, else the channel's, else the first one the policy defines."""
        if override:
            return self.calendars[override]
        rule = self.policy.channels.get(channel)
        return self.calendars[rule.calendar] if rule else next(iter(self.calendars.values()))


_CACHE: dict[int, CompiledPolicy] = {}


def compile_policy(policy: TenantPolicy) -> CompiledPolicy:
    """Compiled form of a policy, cached per policy object."""
    cached = _CACHE.get(id(policy))
    if cached is not None and cached.policy is policy:
        return cached
    flags = re.IGNORECASE
    compiled = CompiledPolicy(
        policy=policy,
        calendars={
            name: BusinessCalendar(spec, policy.timezone, policy.holidays, name=name)
            for name, spec in policy.calendars.items()
        },
        official=official_keys(policy),
        references=compile_reference_patterns(policy.references),
        out_of_scope=tuple((r.name, tuple(re.compile(p, flags) for p in r.patterns)) for r in policy.out_of_scope),
        required_info_triggers=tuple(
            tuple(re.compile(p, flags) for p in (r.when_patterns or ())) for r in policy.required_info
        ),
    )
    _CACHE[id(policy)] = compiled
    return compiled
