"""Names one part of a policy file gives to another (calendars, queues, categories, flags), each checked at its key.

The checks read the raw mapping a YAML file holds, so they run even when other fields are wrong, and each
problem carries the path of the key that names the unknown thing (for the file's line number).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.categories import CANONICAL_CATEGORIES
from contracts.decision import DecisionFlag

# keys of `queues` that name one queue each (besides `default`, `by_category` and `by_flag`)
QUEUE_ROLES = ("default", "seller", "escalation", "abuse", "missing_info", "out_of_scope")
FLAGS = tuple(flag.value for flag in DecisionFlag)


@dataclass(frozen=True)
class Problem:
    """One wrong name: where (a key path), what is wrong, and how to fix it."""

    loc: tuple[str | int, ...]
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{'.'.join(map(str, self.loc))}: {self.problem}; {self.fix}"


def cross_reference_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every name in `data` that points at something the policy does not define, in file order of sections."""
    out: list[Problem] = []
    calendars = _mapping(data.get("calendars"))
    queues = _mapping(data.get("queues"))
    declared = _mapping(queues.get("declared"))

    def calendar(name: Any, loc: tuple) -> None:
        if isinstance(name, str) and calendars and name not in calendars:
            out.append(_unknown(loc, "calendar", name, list(calendars), "calendars"))

    def queue(name: Any, loc: tuple) -> None:
        if isinstance(name, str) and "declared" in queues and name not in declared:
            out.append(_unknown(loc, "queue", name, list(declared), "queues.declared"))

    def categories(names: Any, loc: tuple) -> None:
        for i, name in enumerate(_items(names)):
            if isinstance(name, str) and name not in CANONICAL_CATEGORIES:
                out.append(_unknown((*loc, i) if isinstance(names, list) else (*loc, name), "category", name,
                                    list(CANONICAL_CATEGORIES), "the canonical categories"))

    def flags(names: Any, loc: tuple) -> None:
        for i, name in enumerate(_items(names)):
            if isinstance(name, str) and name not in FLAGS:
                out.append(_unknown((*loc, i) if isinstance(names, list) else (*loc, name), "decision flag", name,
                                    list(FLAGS), "the decision flags"))

    for kind, rule in _mapping(data.get("channels")).items():
        if isinstance(rule, Mapping):
            calendar(rule.get("calendar", "support"), ("channels", kind, "calendar") if "calendar" in rule
                     else ("channels", kind))

    for name, spec in declared.items():
        if isinstance(spec, Mapping):
            queue(spec.get("escalate_to"), ("queues", "declared", name, "escalate_to"))
    for role in QUEUE_ROLES:
        queue(queues.get(role), ("queues", role))
    categories(_mapping(queues.get("by_category")), ("queues", "by_category"))
    for category, name in _mapping(queues.get("by_category")).items():
        queue(name, ("queues", "by_category", category))
    flags(_mapping(queues.get("by_flag")), ("queues", "by_flag"))
    for flag, name in _mapping(queues.get("by_flag")).items():
        queue(name, ("queues", "by_flag", flag))
    categories(_mapping(_mapping(data.get("priorities")).get("by_category")), ("priorities", "by_category"))

    rules = _mapping(data.get("sla")).get("rules")
    rules = rules if isinstance(rules, list) else []
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        loc = ("sla", "rules", i)
        calendar(rule.get("calendar"), (*loc, "calendar"))
        for target in ("first_response", "resolution"):
            calendar(_mapping(rule.get(target)).get("calendar"), (*loc, target, "calendar"))
        match = _mapping(rule.get("match"))
        categories(match.get("categories"), (*loc, "match", "categories"))
        flags(match.get("flags"), (*loc, "match", "flags"))
        queue(rule.get("escalate_to"), (*loc, "escalate_to"))
        if rule.get("first_response") is None and rule.get("resolution") is None:
            out.append(Problem(loc, f"rule {rule.get('name')!r} sets no target",
                               "give it `first_response:` or `resolution:` (or both)"))
    if rules and any(v is not None for v in _mapping(_mapping(rules[-1]).get("match")).values()):
        out.append(Problem(("sla", "rules", len(rules) - 1, "match"), "the last SLA rule has a `match`",
                           "end sla.rules with a catch-all rule (no `match`), so every message gets an SLA"))

    required = data.get("required_info")
    for i, rule in enumerate(required if isinstance(required, list) else []):
        if isinstance(rule, Mapping):
            categories(rule.get("categories"), ("required_info", i, "categories"))
            flags(rule.get("when_flags"), ("required_info", i, "when_flags"))
    queue(_mapping(data.get("chargeback")).get("queue"), ("chargeback", "queue"))
    queue(_mapping(_mapping(data.get("abuse")).get("threat")).get("queue"), ("abuse", "threat", "queue"))
    cooling = _mapping(_mapping(data.get("refunds")).get("cooling_off"))
    if cooling:
        calendar(cooling.get("calendar", "support"), ("refunds", "cooling_off", "calendar") if "calendar" in cooling
                 else ("refunds", "cooling_off"))
    return out


def _unknown(loc: tuple, what: str, name: str, known: list[str], section: str) -> Problem:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        fix = f"did you mean `{close[0]}`?"
    elif section.startswith("the "):
        fix = "use one of those"
    else:
        fix = f"use one of those, or define {name!r} under `{section}`"
    return Problem(loc, f"{what} {name!r} is not defined under `{section}` ({', '.join(known) or 'none'})", fix)


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _items(value: Any) -> list:
    if isinstance(value, Mapping):
        return list(value)
    return list(value) if isinstance(value, list) else []
