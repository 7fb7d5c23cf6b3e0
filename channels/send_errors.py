"""Reading a platform's send answer into a SendResult: success, retry (throttles, server faults) or a final error."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from contracts.outbound import SendResult


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP-dates are rare on these APIs and ignored)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def failure(status: int, code: object, message: object, headers: Mapping[str, str],
            throttles: Collection[str]) -> SendResult:
    """A failed send: retried on 429, 5xx and the platform's throttle codes; final otherwise."""
    code_text = None if code is None else str(code)
    transient = status == 429 or status >= 500 or (code_text in throttles)
    return SendResult(ok=False, retry=transient, retry_after_s=retry_after(headers), error_code=code_text or str(status),
                      error=str(message or f"HTTP {status}")[:500])
