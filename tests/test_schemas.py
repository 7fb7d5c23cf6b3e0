"""Committed JSON Schemas stay in sync with the pydantic contracts."""

from __future__ import annotations

import json

from conftest import ROOT
from contracts.schemas import json_schemas


def test_committed_schemas_match_models() -> None:
    directory = ROOT / "contracts" / "schemas"
    stale = []
    for name, schema in json_schemas().items():
        path = directory / name
        if not path.exists() or json.loads(path.read_text()) != schema:
            stale.append(name)
    assert not stale, f"schemas out of date: {stale}; run `make schemas` (omniroute schemas --write) and commit"
