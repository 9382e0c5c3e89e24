"""Keeping API keys out of everything we show or store: :func:`redact` runs over every
error message, log record, crash report and export.

It hides the keys :func:`remember_secret` was given (every key core/settings/secrets.py
hands out), the values of environment variables whose names say they are secrets, and
anything shaped like a provider key or a bearer token. It sits at the bottom of core
(it imports nothing of promptbench), so every layer can redact.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Iterable

REDACTED = "[REDACTED]"

# Shapes of provider keys. Long enough after the prefix that model names never match.
KEY_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(r"(?<![A-Za-z0-9_\-])" + p) for p in (
    r"sk-ant-[A-Za-z0-9_\-]{8,}",  # Anthropic
    r"sk-[A-Za-z0-9_\-]{16,}",  # OpenAI (sk-..., sk-proj-...), DeepSeek, OpenRouter (sk-or-...)
    r"AIza[0-9A-Za-z_\-]{20,}",  # Google
    r"gsk_[A-Za-z0-9]{20,}",  # Groq
    r"xai-[A-Za-z0-9]{20,}",  # xAI
    r"hf_[A-Za-z0-9]{20,}",  # Hugging Face
    r"r8_[A-Za-z0-9]{20,}",  # Replicate
    r"pplx-[A-Za-z0-9]{20,}",  # Perplexity
))
_BEARER = re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9._~+/=\-]{8,}")
_KEY_ASSIGN = re.compile(r"(?i)((?:api[_-]?key|x-api-key|access[_-]?token|secret)[\"']?\s*[:=]\s*[\"']?)([^\s\"',&;}]{8,})")
_SECRET_ENV_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
_NOT_SECRET_ENV_NAME = re.compile(r"(_DIR|_PATH|_FILE|_HOME|_BACKEND|_PARALLELISM)$", re.IGNORECASE)
_MIN_SECRET_LEN = 8  # shorter env values ("1", "true") are not worth redacting


def looks_like_key(value: str) -> bool:
    """True if ``value`` contains something shaped like a provider API key."""
    return value.startswith("sk-") or any(p.search(value) for p in KEY_PATTERNS) or bool(_BEARER.search(value))


# Every key get_api_key() handed out, in memory only: redact() must know a key that sits in
# an env var with an ordinary name (api_key_env = "GATEWAY_AUTH") or in the keyring, where
# neither the variable's name nor the key's shape gives it away.
_KNOWN_SECRETS: set[str] = set()


def remember_secret(value: str | None) -> str | None:
    """Make :func:`redact` hide ``value`` from now on (process lifetime); returns it unchanged."""
    if value and len(value) >= _MIN_SECRET_LEN:
        _KNOWN_SECRETS.add(value)
    return value


def _env_secrets() -> list[str]:
    return [v for k, v in os.environ.items()
            if _SECRET_ENV_NAME.search(k) and not _NOT_SECRET_ENV_NAME.search(k) and len(v) >= _MIN_SECRET_LEN]


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    """``text`` with known key values and key-shaped strings replaced by ``[REDACTED]``."""
    if not text:
        return text
    text = str(text)
    known = {s for s in (*extra_secrets, *_env_secrets(), *tuple(_KNOWN_SECRETS)) if s and len(s) >= _MIN_SECRET_LEN}
    for secret in sorted(known, key=len, reverse=True):  # longest first: no partial leftovers
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in KEY_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _KEY_ASSIGN.sub(lambda m: m.group(1) + (m.group(2) if m.group(2) == REDACTED else REDACTED), text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback text) with :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to logging's own error path
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to the root logger, litellm's loggers and their handlers.

    Idempotent. A logger's filters only see records logged on that very logger, so the
    filter also goes on the handlers present now (which see propagated records too).
    """
    names = ("", "LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
    for name in names:
        logger = logging.getLogger(name)
        targets = [logger, *logger.handlers]
        for target in targets:
            if _FILTER not in target.filters:
                target.addFilter(_FILTER)
