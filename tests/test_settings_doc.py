"""Every setting is documented, and the README's settings table is the one generated from `Settings`."""

from __future__ import annotations

from pathlib import Path

from workers.settings import Settings
from workers.settings_doc import MEANINGS, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_has_a_meaning() -> None:
    assert set(MEANINGS) == set(Settings.model_fields), "document new settings in workers/settings_doc.py"


def test_the_readme_table_is_current() -> None:
    assert settings_table() in README.read_text(encoding="utf-8"), (
        "README.md's settings table is stale: paste the output of "
        "`python -c 'from workers.settings_doc import settings_table; print(settings_table())'`")
