"""The layering of ARCHITECTURE.md holds: import-linter contracts in pyproject.toml pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_routing_never_reads_the_wall_clock_or_environment() -> None:
    forbidden = re.compile(r"datetime\.(?:now|utcnow|today)\(|\btime\.(?:time|monotonic)\(|\bos\.(?:environ|getenv)"
                           r"|(?<!def )(?<![\w.])open\(|date\.today\(")
    # routing/native.py alone reads OMNIROUTE_PURE, once at import: which build of the same code to load (compiled
    # or pure), never an input of a decision (the golden test runs both builds to the same bytes).
    exempt = {ROOT / "routing" / "native.py": {'if os.environ.get(PURE_VARIABLE, "") not in ("", "0"):'}}
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in (ROOT / "routing").rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if forbidden.search(line) and line.strip() not in exempt.get(path, ())
    ]
    assert not offenders, offenders
