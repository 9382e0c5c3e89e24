"""Classifying provider failures into the error classes every front shows."""

from __future__ import annotations

import email.utils
import time

from promptbench.core.redaction import redact


class ProviderError(Exception):
    """A provider failure, already classified; ``message`` has keys redacted."""

    def __init__(self, error_class: str, message: str, *, status: int | None = None,
                 retry_after_s: float | None = None):
        self.error_class = error_class
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)

    @property
    def retryable(self) -> bool:
        return self.status in (429, 503) or self.error_class == "rate_limit"


def class_for_status(status: int, body_text: str = "") -> str:
    lowered = body_text.lower()
    if status in (401, 403):
        return "auth"
    if status == 429:
        return "rate_limit"
    if status in (408, 504):
        return "timeout"
    if "content_filter" in lowered or "content management policy" in lowered:
        return "content_filter"
    if 400 <= status < 500:
        return "bad_request"
    if status >= 500:
        return "server"
    return "unknown"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (now if now is not None else time.time()))
