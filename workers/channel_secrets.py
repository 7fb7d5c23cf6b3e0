"""Channel secrets, read once from the environment at start-up and handed to adapters by role."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.adapters import ChannelAdapter


@dataclass(frozen=True)
class ChannelSecrets:
    """`(adapter, tenant) -> {role: value}` for the secrets that are set, and the variable each role reads."""

    values: Mapping[tuple[str, str], Mapping[str, str]]
    variables: Mapping[tuple[str, str, str], str]  # (adapter, tenant, role) -> environment variable name

    @classmethod
    def from_environ(cls, adapters: Iterable[ChannelAdapter], tenants: Iterable[str],
                     environ: Mapping[str, str] | None = None) -> ChannelSecrets:
        env = os.environ if environ is None else environ
        values: dict[tuple[str, str], dict[str, str]] = {}
        variables: dict[tuple[str, str, str], str] = {}
        for adapter in adapters:
            for tenant in tenants:
                found = values.setdefault((adapter.name, tenant), {})
                for spec in adapter.secrets:
                    name = spec.variable_for(tenant)
                    variables[(adapter.name, tenant, spec.role)] = name
                    if env.get(name, "").strip():
                        found[spec.role] = env[name].strip()
        return cls(values, variables)

    def for_tenant(self, adapter: str, tenant: str) -> Mapping[str, str]:
        return self.values.get((adapter, tenant), {})

    def variable(self, adapter: str, tenant: str, role: str) -> str:
        return self.variables[(adapter, tenant, role)]

    def missing(self, adapter: str, tenant: str, role: str) -> str | None:
        """The variable to set when `role` is unset for the tenant, else None."""
        return None if role in self.for_tenant(adapter, tenant) else self.variable(adapter, tenant, role)
