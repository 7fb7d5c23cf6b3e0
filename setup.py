"""Install-time build of the routing core with mypyc (issue 12); everything else is in pyproject.toml.

`pip install [-e] .` compiles the modules of `routing.native.MODULES` into `build/mypyc/<tag>/` (an editable
install reads them there; a wheel carries them as `routing/_mypyc/<tag>/`). When mypy, a C compiler or the
build itself is missing or fails, it says so and the install goes on: the package is then pure Python, as
it always is with OMNIROUTE_PURE=1. `python setup.py native` (`make native`) rebuilds in place after an edit.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile
import traceback
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _native():
    """routing/native.py, loaded on its own (importing the package would look for a build)."""
    spec = importlib.util.spec_from_file_location("_omniroute_native", ROOT / "routing" / "native.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _say(text: str) -> None:
    print(f"omniroute: {text}", file=sys.stderr, flush=True)


def build_native(root: Path = ROOT) -> Path | None:
    """Compile the routing core for the sources under `root`; the build's `routing` directory, else None."""
    native = _native()
    if os.environ.get(native.PURE_VARIABLE, "") not in ("", "0"):
        _say(f"{native.PURE_VARIABLE} is set: routing stays pure Python")
        return None
    tag = native.source_tag(root)
    target = root / "build" / "mypyc" / tag
    if (target / "routing" / native.MARKER).is_file():
        _say(f"routing core already compiled for these sources ({target})")
        return target / "routing"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        _say(f"no C compiler ({compiler}): routing stays pure Python")
        return None
    try:
        from mypyc.build import mypycify
        from setuptools import Distribution
    except ImportError as exc:
        _say(f"mypyc unavailable ({exc}): routing stays pure Python")
        return None
    (root / "build").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mypyc-", dir=root / "build"))
    cwd = os.getcwd()
    try:
        os.chdir(root)  # mypy names modules by their paths from here
        _say(f"compiling the routing core with mypyc ({len(native.MODULES)} modules, about a minute)")
        extensions = mypycify(
            [f"--cache-dir={work / 'mypy-cache'}", *(f"routing/{name}.py" for name in native.MODULES)],
            target_dir=str(work / "c"), group_name=native.GROUP, opt_level="3",
        )
        dist = Distribution({"name": "omniroute-routing-native", "ext_modules": extensions})
        build_ext = dist.get_command_obj("build_ext")
        build_ext.build_lib, build_ext.build_temp, build_ext.inplace = str(work / "out"), str(work / "tmp"), False
        build_ext.ensure_finalized()
        build_ext.run()
        built = work / "out" / "routing"
        missing = [name for name in (*native.MODULES, native.GROUP.rpartition(".")[2] + "__mypyc")
                   if not list(built.glob(f"{name}.*.so")) and not list(built.glob(f"{name}.*.pyd"))]
        if missing:
            raise RuntimeError(f"no extension built for {', '.join(missing)}")
        (built / native.MARKER).write_text("\n".join(native.MODULES) + "\n")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            (work / "out").rename(target)
        except OSError:  # another build of the same sources finished first
            if not (target / "routing" / native.MARKER).is_file():
                raise
        for old in target.parent.iterdir():  # builds of earlier sources can never be used again
            if old != target and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        _say(f"routing core compiled: {target}")
        return target / "routing"
    except (Exception, SystemExit):  # noqa: BLE001 - a failed build never fails the install (mypyc exits on type errors)
        _say("compiling the routing core failed; routing stays pure Python. The error:\n" + traceback.format_exc())
        return None
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)


class BuildPyNative(build_py):
    """build_py, then the compiled routing core (beside the sources for an editable install, in the wheel else)."""

    def run(self) -> None:
        super().run()
        built = build_native()
        if built is None or self.editable_mode:
            return
        tag = built.parent.name
        shutil.copytree(built, Path(self.build_lib) / "routing" / "_mypyc" / tag / "routing", dirs_exist_ok=True)


if __name__ == "__main__" and sys.argv[1:] == ["native"]:
    sys.exit(0 if build_native() is not None else 1)

setup(cmdclass={"build_py": BuildPyNative})
