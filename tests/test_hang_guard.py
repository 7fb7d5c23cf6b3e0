"""The hang guard (tests/hang_guard.py) fails a test that never finishes, naming where its tasks wait."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HANGING = '''
import asyncio
import pytest

@pytest.mark.asyncio
async def test_waits_for_nothing():
    async def never_answered():
        await asyncio.Event().wait()
    await asyncio.gather(never_answered(), never_answered())
'''


def test_a_hanging_async_test_fails_with_its_tasks_stacks(tmp_path: Path) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING)
    env = {**os.environ, "OMNIROUTE_TEST_HANG_SECONDS": "2",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "hang_guard", "-p", "no:cacheprovider",
                          "--rootdir", str(tmp_path), str(tmp_path)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "test still running after 2s" in run.stdout
    assert "in never_answered" in run.stdout  # where each task was waiting
