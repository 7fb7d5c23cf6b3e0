"""Errors channel adapters raise for input they cannot accept (re-exported from the project's exception root)."""

from __future__ import annotations

from contracts.errors import PayloadError

__all__ = ["PayloadError"]
