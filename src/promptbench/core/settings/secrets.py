"""Where API keys come from.

Keys live in environment variables or the OS keyring; promptbench.toml only says which
(``api_key_env = "OPENAI_API_KEY"`` or ``keyring = "service/username"``). Nothing in
this module writes a key anywhere except :func:`store_key_in_keyring`, and nothing
returns one except :func:`get_api_key`, which hands each key to core/redaction.py so
that :func:`~promptbench.core.redaction.redact` hides it from every message and log record.
"""

from __future__ import annotations

import os
from typing import Any

from promptbench.core.errors import PromptbenchError
from promptbench.core.redaction import redact, remember_secret

DEFAULT_KEYRING_USERNAME = "api_key"
KEYLESS_PROVIDERS = frozenset({"local", "ollama", "ollama_chat", "lm_studio", "llamafile", "hosted_vllm"})

# What litellm reads when no key is passed: used only when the model talks to the
# provider's own endpoint (no custom api_base), so a real OpenAI key is never sent
# to some gateway just because its model string starts with "openai/".
DEFAULT_KEY_ENV = {
    "openai": "OPENAI_API_KEY", "text-completion-openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY", "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY", "xai": "XAI_API_KEY", "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY", "cohere": "COHERE_API_KEY", "cohere_chat": "COHERE_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY", "fireworks_ai": "FIREWORKS_AI_API_KEY",
    "perplexity": "PERPLEXITYAI_API_KEY", "huggingface": "HF_TOKEN", "cerebras": "CEREBRAS_API_KEY",
}

# -- where a model's key comes from ------------------------------------------

def parse_keyring_ref(ref: str) -> tuple[str, str]:
    """``"service/username"`` -> (service, username); ``"service"`` -> (service, "api_key")."""
    service, sep, username = ref.partition("/")
    return service, (username if sep and username else DEFAULT_KEYRING_USERNAME)


def _needs_key(cfg: Any) -> bool:
    return not (getattr(cfg, "is_local", False) or getattr(cfg, "provider", "") in KEYLESS_PROVIDERS)


def _env_name(cfg: Any) -> str | None:
    """The env var to read: configured, else the provider default (own endpoint only)."""
    if getattr(cfg, "api_key_env", None):
        return cfg.api_key_env
    if getattr(cfg, "keyring", None) or getattr(cfg, "api_base", None) or not _needs_key(cfg):
        return None
    return DEFAULT_KEY_ENV.get(getattr(cfg, "provider", ""))


def key_source(cfg: Any) -> str | None:
    """``"env:NAME"`` / ``"keyring:service/username"`` / None (no key configured or needed)."""
    env = _env_name(cfg)
    ring = getattr(cfg, "keyring", None)
    if env and (os.environ.get(env) or not ring):
        return f"env:{env}"
    if ring:
        service, username = parse_keyring_ref(ring)
        return f"keyring:{service}/{username}"
    return None


def _keyring_lookup(ref: str) -> tuple[str | None, str]:
    """(key or None, detail). Never raises: a missing backend is a detail, not a crash."""
    service, username = parse_keyring_ref(ref)
    try:
        import keyring

        value = keyring.get_password(service, username)
    except Exception as exc:  # NoKeyringError, InitError, D-Bus failures...
        return None, f"no keyring backend: {redact(str(exc)) or type(exc).__name__}"
    if not value:
        return None, (f"no key stored in the keyring for {service}/{username}; store one with "
                      f"the app's model settings or: keyring set {service} {username}")
    return value, "set"


def get_api_key(cfg: Any) -> str | None:
    """The key for ``cfg``: its env var, else its keyring entry; None if neither has one."""
    env = _env_name(cfg)
    if env and os.environ.get(env):
        return remember_secret(os.environ[env])
    ring = getattr(cfg, "keyring", None)
    if ring:
        return remember_secret(_keyring_lookup(ring)[0])
    return None


def missing_key(cfg: Any) -> str | None:
    """Why ``cfg``'s key is known to be missing (e.g. "OPENAI_API_KEY is not set"), or None
    when it is there, not needed, or not configured at all (a gateway may need none)."""
    if key_source(cfg) is None:
        return None
    status = key_status(cfg)
    return None if status["available"] else status["detail"]


def key_status(cfg: Any) -> dict:
    """``{"source", "available", "detail", "required"}`` for display. Never the key."""
    source = key_source(cfg)
    required = _needs_key(cfg)
    if not required and source is None:
        return {"source": None, "available": True, "detail": "no key needed", "required": False}
    env = _env_name(cfg)
    if env and os.environ.get(env):
        return {"source": source, "available": True, "detail": "set", "required": required}
    ring = getattr(cfg, "keyring", None)
    if ring:
        value, detail = _keyring_lookup(ring)
        if env and value is None:
            detail = f"{env} is not set and {detail}"
        return {"source": source, "available": value is not None, "detail": detail, "required": required}
    if env:
        return {"source": source, "available": False, "detail": f"{env} is not set", "required": required}
    return {"source": None, "available": False, "required": required,
            "detail": "no key configured: set api_key_env or keyring for this model in promptbench.toml"}


def keyring_available() -> bool:
    """Whether this system has a keyring that can hold keys (a real backend, not keyring's
    "fail" or "null" placeholder). May talk to D-Bus: not on a GUI thread. Never raises."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:
        return False
    return not isinstance(backend, (fail.Keyring, null.Keyring))


def store_key_in_keyring(service: str, username: str, key: str) -> None:
    """Save ``key`` in the OS keyring; PromptbenchError (saying what to do) if impossible."""
    if not service or not username or not key:
        raise PromptbenchError("keyring: service, username and key must all be non-empty")
    hint = ("install and unlock a keyring backend (GNOME Keyring / KWallet / macOS Keychain / "
            "Windows Credential Locker, or `pip install keyrings.alt` for a file-based one), "
            "or put the key in an environment variable and set api_key_env in promptbench.toml")
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring):
            raise PromptbenchError(f"no usable keyring backend to store the key for {service}/{username}: {hint}")
        keyring.set_password(service, username, key)
    except PromptbenchError:
        raise
    except Exception as exc:
        reason = redact(str(exc), [key]) or type(exc).__name__
        raise PromptbenchError(f"could not store the key for {service}/{username} in the keyring ({reason}): {hint}") from None
