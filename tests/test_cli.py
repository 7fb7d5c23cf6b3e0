"""The `omniroute` command as external checks use it: route over native inputs, policy check, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from conftest import ROOT

SAMPLES = ROOT / "deploy" / "samples"
EXE = shutil.which("omniroute", path=str(Path(sys.executable).parent)) or "omniroute"
REQUIRED = {"tenant", "channel", "action", "category", "queue", "priority", "flags", "sla", "sender", "text", "trace"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def lines(result: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_alkonect_email_samples_route_as_one_stream() -> None:
    result = run("route", "--tenant", "alkonect", "--channel", "email", *sorted(map(str, SAMPLES.glob("alkonect/*.eml"))))
    assert result.returncode == 0, result.stderr
    out = lines(result)
    assert len(out) == 7
    for obj in out:
        assert REQUIRED <= obj.keys()
    by_file = dict(zip(sorted(p.name for p in SAMPLES.glob("alkonect/*.eml")), out))
    first = by_file["01-order-question.eml"]
    assert first["action"] == "route" and "outside_hours" in first["flags"] and first["category"] == "order_status"
    assert first["sla"]["first_response_due"].endswith("+01:00") and first["sla"]["timezone"] == "Africa/Lagos"
    assert first["sender"]["email"] == "ada.okafor@example.ng"
    assert "Kindly confirm" in first["text"]
    again = by_file["02-same-request-again.eml"]
    assert again["action"] == "merge" and "repeated_request" in again["flags"]
    assert "wrote:" not in again["text"] and ">" not in again["text"]
    assert by_file["03-unofficial-address.eml"]["action"] == "reject"
    assert "unofficial_channel" in by_file["03-unofficial-address.eml"]["flags"]
    abusive = by_file["04-abusive.eml"]  # it threatens staff: §8 work for the escalations team, not a held record
    assert (abusive["action"], abusive["queue"]) == ("route", "escalations") and "threat" in abusive["flags"]
    assert by_file["05-auto-reply.eml"]["action"] == "drop" and "auto_reply" in by_file["05-auto-reply.eml"]["flags"]
    assert "out_of_scope" in by_file["06-customs-delay.eml"]["flags"]
    assert by_file["07-redelivered-copy.eml"]["action"] == "drop"
    assert "duplicate" in by_file["07-redelivered-copy.eml"]["flags"]


def test_izonie_messenger_samples() -> None:
    files = sorted(map(str, SAMPLES.glob("izonie/*.json")))
    result = run("route", "--tenant", "izonie", "--channel", "messenger", *files)
    assert result.returncode == 0, result.stderr
    out = lines(result)
    actions = [o["action"] for o in out]
    assert len(out) == 6  # the read receipt is not a customer message
    assert actions[:5] == ["route", "drop", "reject", "route", "quarantine"]
    assert "seller_dispute" in out[0]["flags"]
    assert out[3]["queue"] == "supervisors" and "escalation_requested" in out[3]["flags"]
    assert out[5]["action"] == "merge" and out[5]["work_item_id"] == out[0]["work_item_id"]


def test_conek_whatsapp_samples() -> None:
    files = sorted(map(str, SAMPLES.glob("conek/*.json")))
    result = run("route", "--tenant", "conek", "--channel", "whatsapp", *files)
    assert result.returncode == 0, result.stderr
    out = {o["provider_message_id"]: o for o in lines(result)}
    assert "missing_info" in out["wamid.ck1"]["flags"]
    assert out["wamid.ck2"]["priority"] == "urgent" and "chargeback" in out["wamid.ck2"]["flags"]
    assert out["wamid.ck3"]["action"] == "reject"
    assert {"outside_hours", "holiday"} <= set(out["wamid.ck4"]["flags"])
    assert out["wamid.ck6"]["action"] == "merge"  # the complete refund request joins the open one


def test_at_overrides_the_received_time() -> None:
    sample = str(SAMPLES / "conek" / "04-holiday.json")
    result = run("route", "--tenant", "conek", "--channel", "whatsapp", "--at", "2026-12-15T10:00:00", sample)
    out = lines(result)[0]
    assert datetime.fromisoformat(out["received_at"]) == datetime.fromisoformat("2026-12-15T10:00:00+02:00")
    assert "holiday" not in out["flags"] and "outside_hours" not in out["flags"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--tenant", "nobody", "--channel", "email", "deploy/samples/alkonect/01-order-question.eml"], "unknown tenant"),
    (["--tenant", "conek", "--channel", "whatsapp", "does-not-exist.json"], "cannot read"),
    (["--tenant", "conek", "--channel", "whatsapp", "README.md"], "not a WhatsApp"),
    (["--tenant", "conek", "--channel", "whatsapp", "--at", "tomorrow", "deploy/samples/conek/01-refund-missing-info.json"], "--at"),
])
def test_bad_input_gives_one_line_error_and_non_zero_exit(args, needle) -> None:
    result = run("route", *args)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_file_does_not_stop_the_other_files() -> None:
    result = run("route", "--tenant", "conek", "--channel", "whatsapp", "README.md",
                 str(SAMPLES / "conek" / "02-chargeback.json"))
    assert result.returncode == 1
    assert len(lines(result)) == 1


def test_policy_check_accepts_the_shipped_policies() -> None:
    result = run("policy", "check", *sorted(map(str, (ROOT / "deploy" / "policies").glob("*.yaml"))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok: ") == 3


def test_policy_check_explains_errors_with_file_line_key_and_fix(tmp_path: Path) -> None:
    text = (ROOT / "deploy" / "policies" / "alkonect.yaml").read_text()
    broken = text.replace("timezone: Africa/Lagos", "timezone: Africa/Lagoss").replace("  abuse: trust_safety", "  abuze: trust_safety")
    path = tmp_path / "alkonect.yaml"
    path.write_text(broken)
    result = run("policy", "check", str(path))
    assert result.returncode == 1
    assert f"{path}:6: timezone:" in result.stderr and "fix: write e.g. Africa/Lagos" in result.stderr
    assert "queues.abuze: unknown key" in result.stderr and "did you mean `abuse`" in result.stderr
    assert "queues.abuse: required key is missing" in result.stderr


def test_summary_prints_one_readable_line_per_message() -> None:
    result = run("route", "--summary", "--tenant", "conek", "--channel", "whatsapp",
                 *sorted(map(str, SAMPLES.glob("conek/*.json"))))
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert len(rows) == 5
    assert rows[1].split()[:4] == ["route", "payment_billing", "billing_disputes", "urgent"]
    assert "[outside_hours, holiday]" in rows[3]


@pytest.mark.parametrize(("channel", "content", "needle"), [
    ("email", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary data"),
    ("email", b"", "empty input"),
    ("whatsapp", b"\x89PNG\r\n\x1a\n\x00", "not valid JSON"),
])
def test_junk_is_the_channels_payload_error_even_with_at(tmp_path: Path, channel: str, content: bytes, needle: str) -> None:
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    result = run("route", "--tenant", "conek", "--channel", channel, "--at", "2026-12-16T10:00:00", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert needle in result.stderr and str(path) in result.stderr


def test_an_input_without_customer_messages_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(b"{}")
    result = run("route", "--tenant", "conek", "--channel", "whatsapp", str(path),
                 str(SAMPLES / "conek" / "05-status-only.json"))
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.count("holds no customer message") == 2
