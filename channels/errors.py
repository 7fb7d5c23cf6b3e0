"""Errors channel adapters raise for input they cannot accept."""

from __future__ import annotations


class PayloadError(ValueError):
    """A webhook body that is not what the platform sends: not JSON, or the wrong top-level shape.

    Signature failures are not PayloadErrors; verifiers return False instead. A correctly signed body that
    raises this should be acknowledged and logged, not retried (a retry brings the same bytes again).
    """
