"""Load tenant policy files from YAML and explain every validation error with file, key, line and fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from contracts.errors import OmnirouteError
from routing.policy import TenantPolicy
from routing.policy.crossrefs import cross_reference_problems


@dataclass(frozen=True)
class PolicyIssue:
    """One problem in a policy file."""

    file: str
    key: str
    line: int | None
    problem: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key or '(top level)'}: {self.problem} — fix: {self.fix}"


class PolicyError(OmnirouteError):
    """A policy file could not be loaded; `issues` says what and where."""

    def __init__(self, issues: list[PolicyIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def load_policy(path: Path) -> TenantPolicy:
    """Read and validate one policy file, raising PolicyError with every problem found."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([PolicyIssue(name, "", None, f"cannot read the file ({exc.strerror})",
                                       "check the path and permissions")]) from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError([_yaml_issue(name, exc)]) from None
    if not isinstance(data, dict):
        raise PolicyError([PolicyIssue(name, "", 1, "the file is not a mapping of keys",
                                       "start from deploy/policies/alkonect.yaml as a template")])
    # names that point at undefined calendars, queues, categories or flags: checked on the raw data, so they are
    # reported at their own line and together with the field errors (the model's own check says only the first)
    crossrefs = [PolicyIssue(name, ".".join(map(str, p.loc)), _line(root, p.loc), p.problem, p.fix)
                 for p in cross_reference_problems(data)]
    try:
        policy = TenantPolicy.model_validate(data)
    except ValidationError as exc:
        fields = [_explain(name, root, err) for err in exc.errors(include_url=False) if err["loc"] or not crossrefs]
        raise PolicyError(sorted(fields + crossrefs, key=lambda i: i.line or 0)) from None
    if crossrefs:
        raise PolicyError(crossrefs)
    if path.stem != policy.tenant:
        raise PolicyError([PolicyIssue(name, "tenant", _line(root, ("tenant",)),
                                       f"tenant {policy.tenant!r} does not match the file name {path.name!r}",
                                       f"rename the file to {policy.tenant}.yaml or fix `tenant`")])
    return policy


def load_policies(directories: Path | Iterable[Path]) -> dict[str, TenantPolicy]:
    """Every `*.yaml` policy in one folder or several combined, keyed by tenant; all problems of all files
    reported at once, including a tenant defined in two files (naming both)."""
    folders = [directories] if isinstance(directories, Path) else list(directories)
    policies: dict[str, TenantPolicy] = {}
    where: dict[str, Path] = {}
    issues: list[PolicyIssue] = []
    seen: set[Path] = set()
    for folder in folders:
        if folder.resolve() in seen:  # the same folder named twice (e.g. the shipped one again) adds nothing
            continue
        seen.add(folder.resolve())
        if not folder.is_dir():
            issues.append(PolicyIssue(str(folder), "policy folder", None, "does not exist or is not a folder",
                                      "check the path given in OMNIROUTE_POLICY_DIR or --policy-dir"))
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                policy = load_policy(path)
            except PolicyError as exc:
                issues.extend(exc.issues)
                continue
            if policy.tenant in where:
                issues.append(duplicate_tenant(policy.tenant, where[policy.tenant], path))
                continue
            policies[policy.tenant], where[policy.tenant] = policy, path
    if issues:
        raise PolicyError(issues)
    return policies


def duplicate_tenant(tenant: str, first: Path, again: Path) -> PolicyIssue:
    """A tenant's policy lives in one file: a second definition is an error naming both."""
    return PolicyIssue(str(again), "tenant", None, f"tenant {tenant!r} is already defined in {first}",
                       "keep one of the two files (or give this tenant another id and file name)")


def _yaml_issue(name: str, exc: yaml.YAMLError) -> PolicyIssue:
    """A YAML syntax error at its line, without PyYAML's `<unicode string>` for the file name."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).replace('"<unicode string>"', repr(name))
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    if context:
        problem = f"{problem} ({context}" + (f" from line {context_mark.line + 1})" if context_mark else ")")
    where = f"at line {mark.line + 1}, column {mark.column + 1}" if mark else "in the file"
    return PolicyIssue(name, "", mark.line + 1 if mark else None, f"not valid YAML: {problem}",
                       f"correct the YAML syntax {where} (quote values holding ': ' or '#', close every [ and {{)")


def _explain(name: str, root: yaml.Node | None, err: dict[str, Any]) -> PolicyIssue:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = ".".join(str(p) for p in loc)
    kind, msg = err["type"], err["msg"].removeprefix("Value error, ")
    if kind == "missing":
        problem, fix = "required key is missing", f"add `{loc[-1]}:` under `{'.'.join(map(str, loc[:-1])) or 'the top level'}`"
    elif kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        problem = "unknown key"
        fix = f"did you mean `{close[0]}`?" if close else f"remove it; allowed keys here: {', '.join(allowed)}"
    elif kind == "enum" or kind == "literal_error":
        problem, fix = msg, "use one of the values listed"
    else:
        problem, fix = _split_fix(msg)
    return PolicyIssue(name, key, _line(root, loc), problem, fix)


def _split_fix(msg: str) -> tuple[str, str]:
    """Our validators write "<problem>; <fix>"; pydantic's own messages state the constraint to meet."""
    if "; " in msg:
        problem, fix = msg.split("; ", 1)
        return problem, fix
    return msg, "change the value so that it meets the constraint above"


def _allowed_keys(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = TenantPolicy
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
    return sorted(model.model_fields) if model else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found:
            return found
    return None


def _line(root: yaml.Node | None, loc: tuple) -> int | None:
    node, line = root, (root.start_mark.line + 1 if root else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            match = node.value[part]
        else:
            match = None
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line
