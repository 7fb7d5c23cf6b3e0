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
    """The line that is `needle` (stripped), else the first line holding it."""
    lines = path.read_text().splitlines()
    exact = [i for i, line in enumerate(lines, start=1) if line.strip() == needle.strip()]
    return exact[0] if exact else next(i for i, line in enumerate(lines, start=1) if needle in line)


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


@pytest.mark.parametrize(("tenant", "old", "new", "key", "hint"), [
    ("izonie", "      escalate_to: supervisors", "      escalate_to: supervisor", "sla.rules.0.escalate_to",
     "did you mean `supervisors`?"),
    ("izonie", "    general: {escalate_to: supervisors}", "    general: {escalate_to: senior}",
     "queues.declared.general.escalate_to", "define 'senior' under `queues.declared`"),
    ("izonie", "  abuse: trust_safety", "  abuse: trust-safety", "queues.abuse", "did you mean `trust_safety`?"),
    ("izonie", "    seller_support: sellers", "    seller_support: seller", "queues.by_category.seller_support",
     "did you mean `sellers`?"),
    ("conek", "  queue: billing_disputes", "  queue: billing_dispute", "chargeback.queue",
     "did you mean `billing_disputes`?"),
    ("conek", "  default: support", "  default: suport", "queues.default", "did you mean `support`?"),
    ("izonie", "    queue: supervisors", "    queue: supervisor", "abuse.threat.queue", "did you mean `supervisors`?"),
    ("alkonect", "  out_of_scope: investigations", "  out_of_scope: investigation", "queues.out_of_scope",
     "did you mean `investigations`?"),
    ("alkonect", "  chat: {calendar: support}", "  chat: {calendar: suport}", "channels.chat.calendar",
     "did you mean `support`?"),
    ("conek", "match: {flags: [refund_request]}", "match: {flags: [refund_requested]}", "sla.rules.2.match.flags.0",
     "did you mean `refund_request`?"),
])
def test_every_queue_calendar_and_flag_name_is_checked_at_its_own_line(tmp_path, tenant, old, new, key, hint) -> None:
    """Queues are declared data: a reference to an undeclared queue (breached work would go to a queue nobody
    watches) fails at the line that makes it, with a did-you-mean."""
    path = broken(tmp_path, tenant, (old, new))
    found = issues(path)
    assert found[0].startswith(f"{path}:{line_of(path, new.strip())}: {key}: "), found
    assert hint in found[0]


def test_name_errors_are_reported_together_with_field_errors(tmp_path) -> None:
    path = broken(tmp_path, "izonie", ("timezone: Africa/Lagos", "timezone: Africa/Lagoss"),
                  ("  chat: {calendar: live_chat}", "  chat: {calendar: livechat}"),
                  ("      escalate_to: supervisors", "      escalate_to: supervisor"))
    found = issues(path)
    assert [i.split(": ")[1] for i in found] == ["timezone", "channels.chat.calendar", "sla.rules.0.escalate_to"]
    assert [int(i.split(": ")[0].rsplit(":", 1)[1]) for i in found] == [
        line_of(path, "Africa/Lagoss"), line_of(path, "livechat"), line_of(path, "escalate_to: supervisor")]  # the rule's line


def test_queues_must_be_declared(tmp_path) -> None:
    path = broken(tmp_path, "conek", ("  declared:\n", "  declare:\n"))
    found = issues(path)
    assert any("queues.declared: required key is missing" in i for i in found)
    assert any("queues.declare: unknown key" in i and "did you mean `declared`" in i for i in found)


@pytest.mark.parametrize("origin", ["izonie.com", "https://izonie.com/chat", "app:com.izonie.app"])
def test_a_chat_origin_is_a_web_or_app_origin(tmp_path, origin) -> None:
    path = broken(tmp_path, "izonie", ('value: "android-app://com.izonie.app"', f'value: "{origin}"'))
    [issue] = issues(path)
    line = line_of(path, f'value: "{origin}"')
    assert issue.startswith(f"{path}:{line}: official_endpoints.")
    assert "is not a chat origin" in issue and "android-app://" in issue
