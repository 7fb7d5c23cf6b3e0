"""Validate the KEDA objects of a rendered manifest (stdin) against KEDA's CRD models; run by .venv-iac's python.

cloudcoil-models-keda holds pydantic models generated from KEDA's CRDs. It lives in .venv-iac because cloudcoil
registers a pytest plugin the project's own environment should not load. Prints one line per problem.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from cloudcoil.models.keda import v1alpha1 as keda

MODELS = {"ScaledObject": keda.ScaledObject, "TriggerAuthentication": keda.TriggerAuthentication}


def unknown(original: Any, dumped: Any, path: str = "") -> list[str]:
    """Keys of `original` the model dropped (pydantic ignores unknown fields; the API server would prune them)."""
    if isinstance(original, dict) and isinstance(dumped, dict):
        return [u for k, v in original.items()
                for u in ([f"{path}.{k}"] if k not in dumped else unknown(v, dumped[k], f"{path}.{k}"))]
    if isinstance(original, list) and isinstance(dumped, list):
        return [u for i, (a, b) in enumerate(zip(original, dumped)) for u in unknown(a, b, f"{path}[{i}]")]
    return []


def main() -> int:
    problems, seen = [], 0
    for obj in yaml.safe_load_all(sys.stdin):
        if not obj or not obj.get("apiVersion", "").startswith("keda.sh/"):
            continue
        seen += 1
        name = f"{obj['kind']} {obj['metadata']['name']}"
        model = MODELS.get(obj["kind"])
        if model is None:
            problems.append(f"{name}: no KEDA model for this kind")
            continue
        try:
            dumped = model.model_validate(obj).model_dump(by_alias=True, exclude_none=True, mode="json")
        except Exception as exc:  # noqa: BLE001 - pydantic's error says what is wrong
            problems.append(f"{name}: {exc}")
            continue
        problems += [f"{name}: unknown field {path}" for path in unknown(obj, dumped)]
    print(f"checked {seen} KEDA objects")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
