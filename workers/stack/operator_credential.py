"""The dev stack's local operator credential: a token for every tenant, in a 0600 file beside the state file.

`omniroute act`, `omniroute tokens` and the tests find it the way they find the stack, so nothing needs setting up.
"""

from __future__ import annotations

import os
from pathlib import Path

from workers.runtime.tokens import ALL_TENANTS, TokenStore


def path_for(state_file: Path) -> Path:
    return Path(state_file).with_suffix(".token")


async def issue(state_file: Path, store: TokenStore) -> Path:
    """Create an operator token in the store and write it where the CLI looks (readable by this user only)."""
    _, token = await store.create(ALL_TENANTS, label="dev stack operator")
    path = path_for(state_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return path


def read(state_file: Path) -> str | None:
    try:
        return path_for(state_file).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remove(state_file: Path) -> None:
    path_for(state_file).unlink(missing_ok=True)
