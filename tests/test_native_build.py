"""Which build of the routing core is imported (issue 12): the compiled one only for exactly its sources, the pure
one with OMNIROUTE_PURE=1 or without a build. Decisions themselves are compared in test_decide_golden.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import ROOT
from routing import native

PROBE = ("import json, routing, routing.decide, routing.record, routing.policy; print(json.dumps([routing.COMPILED,"
         " routing.BUILD, routing.decide.__file__, routing.record.__file__, routing.policy.__file__]))")


def _probe(root: Path, **env: str) -> tuple[bool, str, str, str, str]:
    clean = {k: v for k, v in os.environ.items() if k != "OMNIROUTE_PURE"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True, timeout=60,
                            env={**clean, "PYTHONPATH": str(root), **env})
    assert result.returncode == 0, result.stderr
    return tuple(json.loads(result.stdout))


def _built(root: Path) -> Path | None:
    tag = native.source_tag(root)
    return next((d for d in native.build_dirs(root, tag) if (d / native.MARKER).is_file()), None)


def _need_build() -> Path:
    built = _built(ROOT)
    if built is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test the compiled routing core: no build of these sources (`make native`)")
        pytest.skip("no compiled build of these sources; `make native` compiles it")
    return built


def test_pure_when_asked() -> None:
    compiled, how, decide, record, _ = _probe(ROOT, OMNIROUTE_PURE="1")
    assert not compiled and "OMNIROUTE_PURE" in how
    assert decide == str(ROOT / "routing" / "decide.py") and record == str(ROOT / "routing" / "record.py")


def test_compiled_modules_are_imported_when_built() -> None:
    built = _need_build()
    compiled, how, decide, record, policy = _probe(ROOT)
    assert compiled and str(built) in how
    assert Path(decide).parent == built and Path(decide).suffix in (".so", ".pyd")
    assert Path(record).parent == built
    assert policy == str(ROOT / "routing" / "policy" / "__init__.py")  # pydantic models stay pure


def test_a_build_of_other_sources_is_never_used(tmp_path: Path) -> None:
    built = _need_build()
    for package in ("routing", "contracts"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "_mypyc"))
    tag = native.source_tag(tmp_path)
    assert tag == native.source_tag(ROOT)
    shutil.copytree(built, tmp_path / "build" / "mypyc" / tag / "routing")
    assert _probe(tmp_path)[0]

    decide = tmp_path / "routing" / "decide.py"
    decide.write_text(decide.read_text() + "\n# edited after the build\n")
    assert native.source_tag(tmp_path) != tag
    compiled, how, decide_file, _, _ = _probe(tmp_path)
    assert not compiled and "no compiled build" in how and decide_file == str(decide)


def test_a_build_that_does_not_load_falls_back(tmp_path: Path) -> None:
    for package in ("routing", "contracts"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "_mypyc"))
    broken = tmp_path / "build" / "mypyc" / native.source_tag(tmp_path) / "routing"
    broken.mkdir(parents=True)
    (broken / native.MARKER).write_text("")
    (broken / f"_native__mypyc{sysconfig.get_config_var('EXT_SUFFIX')}").write_bytes(b"not an ELF file")
    compiled, how, decide, _, _ = _probe(tmp_path)
    assert not compiled and "does not load" in how and decide == str(tmp_path / "routing" / "decide.py")


def test_the_routing_core_and_contracts_type_check(tmp_path: Path) -> None:
    """mypyc compiles what mypy accepts; a type error would leave the install on the pure fallback, quietly, and a
    wrongly typed value raises in the compiled build only. So the whole core (compiled or not) must type-check."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "routing",
                             "contracts"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
