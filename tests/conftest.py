"""Shared test fixtures: where the repository and the team's shared/ folder are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["stack_fixtures", "hang_guard"]

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("OMNIROUTE_SHARED", ROOT.parent / "shared"))
CONFORMANCE = SHARED / "conformance"

# Subprocesses (`omniroute ...`) import this checkout's packages, not whatever the editable install points at
# (a second worktree shares the venv): PYTHONPATH entries come before the editable finder.
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared/ not found at {SHARED}: CI must have it beside the repository")
        pytest.skip(f"shared/ not found at {SHARED}; set OMNIROUTE_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def conformance_dir(shared_dir: Path) -> Path:
    return shared_dir / "conformance"

