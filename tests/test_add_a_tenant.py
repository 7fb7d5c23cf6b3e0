"""docs/add-a-tenant.md, as a new user follows it: the example policy checks and routes, folders combine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from conftest import ROOT
from test_cli import EXE

EXAMPLE = ROOT / "docs" / "examples" / "policies"
SAMPLE = ROOT / "docs" / "examples" / "samples" / "mtaani" / "01-order.eml"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
                          env={**os.environ, **(env or {})})


def test_the_walkthrough_example_passes_policy_check() -> None:
    result = run("policy", "check", str(EXAMPLE / "mtaani.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"ok: {EXAMPLE / 'mtaani.yaml'}: tenant mtaani")


def test_the_walkthrough_example_routes_next_to_the_shipped_tenants() -> None:
    """Friday 16:30 in Nairobi, an order question: 4 business hours are Friday's last half hour and Saturday
    morning's 09:00-12:30; a missed deadline goes to the team leads (the orders queue's escalation target)."""
    result = run("route", "--tenant", "mtaani", "--channel", "email", "--policy-dir", str(EXAMPLE), str(SAMPLE))
    assert result.returncode == 0, result.stderr
    [out] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (out["action"], out["category"], out["queue"]) == ("route", "order_status", "orders")
    assert out["sla"]["first_response_due"] == "2026-12-05T12:30:00+03:00"
    assert out["sla"]["escalate_to"] == "team_leads"
    env = {"OMNIROUTE_POLICY_DIR": str(EXAMPLE)}
    for tenant, channel, sample in [("mtaani", "email", SAMPLE),
                                    ("alkonect", "email", ROOT / "deploy/samples/alkonect/01-order-question.eml")]:
        both = run("route", "--tenant", tenant, "--channel", channel, str(sample), env=env)
        assert both.returncode == 0, both.stderr  # OMNIROUTE_POLICY_DIR adds to the shipped folder


def test_a_tenant_defined_twice_names_both_files(tmp_path: Path) -> None:
    shutil.copy(ROOT / "deploy" / "policies" / "conek.yaml", tmp_path / "conek.yaml")
    result = run("route", "--tenant", "mtaani", "--channel", "email", str(SAMPLE),
                 env={"OMNIROUTE_POLICY_DIR": os.pathsep.join([str(EXAMPLE), str(tmp_path)])})
    assert result.returncode == 2 and result.stdout == ""
    assert str(tmp_path / "conek.yaml") in result.stderr
    assert str(ROOT / "deploy" / "policies" / "conek.yaml") in result.stderr and "already defined" in result.stderr


def test_only_the_named_folders_when_the_shipped_ones_are_left_out() -> None:
    env = {"OMNIROUTE_POLICY_DIR": str(EXAMPLE), "OMNIROUTE_SHIPPED_POLICIES": "false"}
    result = run("route", "--tenant", "alkonect", "--channel", "email", str(SAMPLE), env=env)
    assert result.returncode == 2 and "known tenants: mtaani" in result.stderr


def test_an_unknown_holiday_country_fails_route_in_one_line_not_a_traceback(tmp_path: Path) -> None:
    text = (EXAMPLE / "mtaani.yaml").read_text().replace("holidays: {country: KE}", "holidays: {country: XX}")
    (tmp_path / "mtaani.yaml").write_text(text)
    result = run("route", "--tenant", "mtaani", "--channel", "email", "--policy-dir", str(tmp_path), str(SAMPLE))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'mtaani.yaml'}:9: holidays: no public holidays are known for country 'XX'" in result.stderr


def policy_keys(model=None, prefix: str = "") -> list[str]:
    from routing.policy import TenantPolicy
    from workers.policy_files import _model_of

    keys = []
    for name, field in (model or TenantPolicy).model_fields.items():
        keys.append(prefix + name)
        sub = _model_of(field.annotation)
        if sub is not None:
            keys.extend(policy_keys(sub, f"{prefix}{name}."))
    return keys


def test_the_policy_reference_describes_every_key() -> None:
    """docs/policy-reference.md has a row for every key a policy file may hold."""
    text = (ROOT / "docs" / "policy-reference.md").read_text(encoding="utf-8")
    missing = [key for key in policy_keys() if f"`{key}`" not in text]
    assert not missing, f"add these keys to docs/policy-reference.md: {missing}"


def test_the_readme_and_docs_point_only_at_files_in_the_repository() -> None:
    """A path in backticks (`routing/sla.py`, `tests/test_x.py::test_y`) names a file or folder of this repository;
    the team's folders beside it are written `../shared/...` and said to be outside."""
    import re

    missing = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for ref in re.findall(r"`([A-Za-z0-9_.-]+/[A-Za-z0-9_./*<>:-]*)`", doc.read_text(encoding="utf-8")):
            path = ref.split("::")[0]
            if path.startswith(("../", "~/", "text/", "Africa/")) or "<" in path:  # zones, MIME types
                continue
            if not (any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()):
                missing.append(f"{doc.name}: {ref}")
    assert not missing
