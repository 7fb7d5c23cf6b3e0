"""Process settings, read once from the environment (prefix OMNIROUTE_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

_REPO_POLICIES = Path(__file__).resolve().parents[1] / "deploy" / "policies"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNIROUTE_", extra="ignore")

    policy_dir: Path = _REPO_POLICIES
