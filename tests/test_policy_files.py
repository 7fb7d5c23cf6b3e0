"""Writing a policy for a new tenant: `load_policy` explains each mistake with file, line, key and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT
from workers.policy_files import PolicyError, load_policy

SHIPPED = ROOT / "deploy" / "policies"


def broken(tmp_path: Path, tenant: str, *edits: tuple[str, str]) -> Path:
    """A copy of a shipped policy with each (old, new) edit applied once; every edit must apply."""
    text = (SHIPPED / f"{tenant}.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) >= 1, old
        text = text.replace(old, new, 1)
    path = tmp_path / f"{tenant}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def issues(path: Path) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    return [str(issue) for issue in caught.value.issues]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("holidays", "problem", "fix"), [
    ("{country: XX}", "no public holidays are known for country 'XX'", "e.g. KE (Kenya)"),
    ("{country: AU, subdivision: QQ}", "AU has no subdivision 'QQ'", "use one of: "),
    ("{country: KE, subdivision: '01'}", "knows no subdivisions of KE", "remove `subdivision`"),
])
def test_unknown_holiday_country_or_subdivision_is_rejected_at_its_line(tmp_path, holidays, problem, fix) -> None:
    path = broken(tmp_path, "conek", ("holidays: {country: ZA}", f"holidays: {holidays}"))
    [issue] = issues(path)
    assert issue.startswith(f"{path}:{line_of(path, 'holidays:')}: holidays")
    assert problem in issue and fix in issue


def test_yaml_syntax_errors_name_the_file_and_line(tmp_path) -> None:
    path = broken(tmp_path, "conek", ("  email: {calendar: support}", "  email: {calendar: support"))
    [issue] = issues(path)
    assert issue.startswith(f"{path}:")
    assert "<unicode string>" not in issue and "not valid YAML" in issue and "correct the YAML syntax at line" in issue
