"""Which build of the routing core is imported: the mypyc-compiled modules or the pure-Python ones (issue 12).

`pip install` compiles MODULES with mypyc when it can (setup.py) into `build/mypyc/<tag>/routing/` of the source
tree (editable installs) or `routing/_mypyc/<tag>/routing/` of an installed wheel. `<tag>` is a hash of every
source file of `routing` and `contracts` (the compiled code bakes in their types) and of the interpreter, so a
build is used only for exactly the sources it was compiled from: edit any of them and the package is pure
Python again until the next build (`make native` or a reinstall). The pure modules are always importable;
`OMNIROUTE_PURE=1` forces them. Nothing here is a routing input: the choice changes speed, never a decision.
Only the standard library is used, so setup.py can load this file without importing the package.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
from pathlib import Path

# The modules decide() and record() run through, compiled together into one extension (routing._native__mypyc
# plus one small module each). Not compiled: routing.policy (pydantic models), the modules off the per-message
# path (automail, state_snapshot, retention, work_items), this one, and routing.state (with the customers and
# packed_sla modules it holds its tables and SLAs with): one OpenItem is held per
# open conversation, and as a mypyc native instance it takes 248 bytes against 112 as a slotted Python class
# (worker RSS 126 against 112 MiB per 100k open conversations; decide + record ~5% slower without it).
MODULES = (
    "abuse", "analysis", "calendar", "categorize", "compiled", "confidence", "decide", "dedupe", "escalation",
    "information_request", "lexicon_abuse", "lexicon_categories", "official", "queueing", "record", "references",
    "refunds", "required_info", "similarity", "sla", "textnorm",
)
GROUP = "routing._native"  # mypyc's group name: the shared library is the module routing._native__mypyc
MARKER = "BUILT"  # written last into a finished build directory
PURE_VARIABLE = "OMNIROUTE_PURE"


def source_tag(root: Path) -> str:
    """The build tag of the sources under `root` (the directory holding `routing/` and `contracts/`)."""
    digest = hashlib.sha256(f"{sys.implementation.cache_tag} {GROUP} {' '.join(MODULES)}\n".encode())
    for package in ("routing", "contracts"):
        for path in sorted((root / package).rglob("*.py")):
            if "_mypyc" in path.relative_to(root).parts:
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_dirs(root: Path, tag: str) -> tuple[Path, Path]:
    """Where a build of these sources may be: inside an installed package, then in the source tree."""
    return root / "routing" / "_mypyc" / tag / "routing", root / "build" / "mypyc" / tag / "routing"


def activate(package_path: list[str]) -> tuple[bool, str]:
    """Put the compiled build of these sources first on the routing package's path when there is one.

    Returns (compiled, how): whether the compiled modules will be imported, and why or why not in words.
    """
    if os.environ.get(PURE_VARIABLE, "") not in ("", "0"):
        return False, f"pure Python ({PURE_VARIABLE} is set)"
    root = Path(package_path[-1]).resolve().parent
    try:
        tag = source_tag(root)
    except OSError as exc:
        return False, f"pure Python (sources unreadable: {exc})"
    for directory in build_dirs(root, tag):
        if not (directory / MARKER).is_file():
            continue
        package_path.insert(0, str(directory))
        try:
            importlib.import_module(f"{GROUP}__mypyc")
        except ImportError as exc:
            package_path.remove(str(directory))
            sys.modules.pop(f"{GROUP}__mypyc", None)
            return False, f"pure Python (the compiled build at {directory} does not load: {exc})"
        return True, f"compiled with mypyc ({directory})"
    return False, "pure Python (no compiled build of these sources)"
