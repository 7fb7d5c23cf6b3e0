"""The project's exception root: every fault omniroute raises on purpose derives from OmnirouteError."""

from __future__ import annotations


class OmnirouteError(Exception):
    """A fault with a message meant for a person: one line that names what is wrong and how to fix it.

    Business outcomes (a dropped duplicate, a refused signature, an unofficial sender) are values, not
    exceptions; this root is for faults, so the CLI and the workers can catch one type.
    """


class PayloadError(OmnirouteError, ValueError):
    """Input that is not what the channel sends: not JSON, not a mail, the wrong top-level shape.

    Signature failures are not PayloadErrors; verifiers return a refused Verification instead. A correctly
    signed body that raises this is answered 400 and logged, not retried (a retry brings the same bytes again).
    """


class ConfigError(OmnirouteError):
    """Configuration that cannot work: a malformed URL, a missing secret where one is required."""
