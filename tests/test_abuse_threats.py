"""Implicit threats to staff (English, Nigerian Pidgin, South African English) are caught; civil chasers are not.

Two ratchets (tests/ratchet.py): `threat_cases.jsonl`, written for this and tuned on, and
`threat_cases_fresh.jsonl`, written before the threat patterns and not tuned on (reported, and kept).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ratchet import ratchet
from routing.abuse import detect_abuse

DATA = Path(__file__).parent / "data"


def _graded(name: str) -> dict[str, bool]:
    """Case id -> passes: a threat is flagged with the `threat` kind, a civil message is not flagged at all."""
    results = {}
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        found = detect_abuse(case["text"])
        results[case["id"]] = "threat" in found.kinds if case["threat"] else not found.abusive
    return results


@pytest.mark.parametrize("name", ["threat_cases.jsonl", "threat_cases_fresh.jsonl"])
def test_threat_cases_ratchet(name: str) -> None:
    ratchet(f"abuse/{name.removesuffix('.jsonl')}", _graded(name))


def test_civil_frustration_is_never_flagged() -> None:
    """Chasers and impatience stay unflagged in both sets: precision is not ratcheted, it is required."""
    for name in ("threat_cases.jsonl", "threat_cases_fresh.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            if not case["threat"]:
                assert not detect_abuse(case["text"]).abusive, case["id"]
