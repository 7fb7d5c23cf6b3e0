"""A tenant policy prepared for fast decisions: calendars built and regexes compiled once."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from contracts.channels import ChannelKind, EndpointKind
from contracts.decision import DecisionFlag, Priority
from routing.calendar import BusinessCalendar
from routing.categorize import allowed_pool
from routing.official import official_keys
from routing.policy import TenantPolicy
from routing.policy.models import SlaRule, SlaTarget
from routing.queueing import choose_priority, choose_queue
from routing.references import compile_reference_patterns
from routing.sla import SlaClock, select_sla_rules

_MEMO_LIMIT = 4096
# (queue, the rule that chose it, priority, the reasons for the priority joined for the trace)
Routing = tuple[str, str, Priority, str]


@dataclass(frozen=True)
class CompiledPolicy:
    policy: TenantPolicy
    calendars: dict[str, BusinessCalendar]
    official: frozenset[tuple[EndpointKind, str]]
    references: tuple[re.Pattern[str], ...]
    out_of_scope: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    required_info_triggers: tuple[tuple[re.Pattern[str], ...], ...]
    category_pool: tuple[str, ...]  # the served canonical categories, in canonical order
    refund_requests: tuple[re.Pattern[str], ...]
    refund_cases: tuple[tuple[re.Pattern[str], ...], ...]
    appeals: tuple[re.Pattern[str], ...]
    # one pattern that matches where any appeal or refund-request pattern does: most texts are ruled out in one scan
    refund_gate: re.Pattern[str] | None = None
    out_of_scope_gate: re.Pattern[str] | None = None  # the same over every out-of-scope pattern
    # memos of pure functions of the policy, keyed by what they read
    _sla_clocks: dict[tuple, tuple[SlaClock | None, SlaClock | None]] = field(default_factory=dict)
    _routing: dict[tuple, Routing] = field(default_factory=dict)

    def sla_clocks(
        self, channel: ChannelKind, category: str | None, flags: Collection[DecisionFlag]
    ) -> tuple[SlaClock | None, SlaClock | None]:
        """The first-response and resolution clocks `select_sla_rules` picks (it only asks which flags are present)."""
        key = (channel, category, frozenset(flags))
        clocks = self._sla_clocks.get(key)
        if clocks is None:
            first, resolution = select_sla_rules(self.policy.sla.rules, channel=channel, category=category,
                                                 flags=[f.value for f in flags])
            clocks = (self._clock(first, first.first_response, channel) if first and first.first_response else None,
                      self._clock(resolution, resolution.resolution, channel)
                      if resolution and resolution.resolution else None)
            _remember(self._sla_clocks, key, clocks)
        return clocks

    def _clock(self, rule: SlaRule, target: SlaTarget, channel: ChannelKind) -> SlaClock:
        opens = self.calendar_for(channel, rule.calendar)
        return SlaClock(rule, target, opens, self.calendars[target.calendar] if target.calendar else opens)

    def routing(self, category: str | None, channel: ChannelKind, flags: Collection[DecisionFlag]) -> Routing:
        """`choose_queue` and `choose_priority` together (both only ask which flags are present)."""
        key = (category, channel, frozenset(flags))
        found = self._routing.get(key)
        if found is None:
            queue, queue_rule = choose_queue(self.policy, category, flags)
            priority, why = choose_priority(self.policy, category, channel, flags)
            found = (queue, queue_rule, priority, "; ".join(why) or "default")
            _remember(self._routing, key, found)
        return found

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
        category_pool=allowed_pool(policy.served_categories),
        refund_requests=tuple(re.compile(p, flags) for p in (policy.refunds.request_patterns if policy.refunds else ())),
        refund_cases=tuple(tuple(re.compile(p, flags) for p in case.patterns)
                           for case in (policy.refunds.cases if policy.refunds else ())),
        appeals=tuple(re.compile(p, flags) for p in (policy.refunds.decision_final.patterns
                                                     if policy.refunds and policy.refunds.decision_final else ())),
    )
    _CACHE[id(policy)] = compiled = replace(
        compiled, refund_gate=any_of((*compiled.appeals, *compiled.refund_requests)),
        out_of_scope_gate=any_of(tuple(p for _, patterns in compiled.out_of_scope for p in patterns)))
    return compiled


_EVERYWHERE = re.compile("")


def any_of(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str] | None:
    """One pattern that finds a match exactly where one of `patterns` does: None when there are none, and one
    that matches everywhere when they cannot be joined (mixed flags, backreferences, global inline flags)."""
    if not patterns:
        return None
    if len({p.flags for p in patterns}) != 1 or any(_UNJOINABLE.search(p.pattern) for p in patterns):
        return _EVERYWHERE
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), patterns[0].flags)
    except re.error:
        return _EVERYWHERE


_UNJOINABLE = re.compile(r"\\[1-9]|\(\?P=|\(\?[aiLmsux]+\)")


def _remember(memo: dict, key: tuple, value: object) -> None:
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value
