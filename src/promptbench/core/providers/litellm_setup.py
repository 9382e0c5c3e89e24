"""The one place litellm is imported: offline, quiet, redacted, and only when needed.

``import litellm`` costs ~2-4 s of CPU, so nothing imports it at module level.
:func:`ensure_env` prepares the environment *without* importing it (tokens.py relies on
that for tiktoken's offline files); :func:`import_litellm` imports it once, thread-safe;
the GUI calls :func:`warm_up_in_background` after its window shows.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from pathlib import Path
from types import ModuleType

LITELLM_LOGGER_NAMES = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")

_lock = threading.Lock()
_module: ModuleType | None = None


def litellm_package_dir() -> Path | None:
    """litellm's package folder, found without importing it (None if not installed)."""
    from promptbench.core.local.catalog import package_dir

    return package_dir("litellm")


def tokenizers_dir() -> Path | None:
    """litellm's bundled tiktoken cache (cl100k_base, o200k_base, p50k_base files)."""
    pkg = litellm_package_dir()
    folder = pkg / "litellm_core_utils" / "tokenizers" if pkg else None
    return folder if folder is not None and folder.is_dir() else None


def ensure_env() -> None:
    """Keep litellm and tiktoken offline. Cheap and idempotent; never imports litellm.

    - ``LITELLM_LOCAL_MODEL_COST_MAP=True`` (setdefault): use the bundled price map
      instead of fetching one at import (~6 s more on a hanging network).
    - ``TIKTOKEN_CACHE_DIR``: litellm's bundled tokenizer files, the same value litellm
      itself sets when its ``default_encoding`` module loads (it honours
      ``CUSTOM_TIKTOKEN_CACHE_DIR`` first, and so do we).
    """
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    custom = os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR")
    if custom:
        os.environ["TIKTOKEN_CACHE_DIR"] = custom
        return
    folder = tokenizers_dir()
    if folder is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


def is_imported() -> bool:
    """True once litellm is loaded (calling it is then cheap)."""
    return _module is not None


def import_litellm() -> ModuleType:
    """Import and configure litellm once (thread-safe); returns the module."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            ensure_env()
            import litellm

            _configure(litellm)
            _module = litellm
    return _module


def _configure(litellm: ModuleType) -> None:
    litellm.disable_streaming_logging = True
    litellm.suppress_debug_info = True  # no "Provider List: ..." lines on stdout
    if hasattr(litellm, "telemetry"):  # gone in 1.106.2; set if a release brings it back
        litellm.telemetry = False
    litellm.set_verbose = False
    for name in LITELLM_LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        _route_to_stderr(logger)
    # default_encoding resets TIKTOKEN_CACHE_DIR to the same folder when it loads.
    ensure_env()
    from promptbench.core.redaction import install_log_redaction

    install_log_redaction()


class _StderrHandler(logging.StreamHandler):
    """litellm's handler with every record on stderr: its own sends DEBUG/INFO to
    stdout, which would corrupt ``--json`` output when a user turns its logging up."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # looked up per record, so redirections are honoured
        super().emit(record)


def _route_to_stderr(logger: logging.Logger) -> None:
    for old in list(logger.handlers):
        if type(old) is logging.StreamHandler or isinstance(old, _StderrHandler):
            continue
        if isinstance(old, logging.StreamHandler):
            new = _StderrHandler()
            new.setLevel(old.level)
            new.setFormatter(old.formatter)
            for f in old.filters:
                new.addFilter(f)
            logger.removeHandler(old)
            logger.addHandler(new)


def warm_up_in_background() -> threading.Thread:
    """Start a daemon thread that imports litellm; returns it (already started)."""

    def _run() -> None:
        try:
            import_litellm()
        except Exception as exc:  # reported again, with context, on first real use
            logging.getLogger(__name__).warning("litellm warm-up failed: %s", exc)

    thread = threading.Thread(target=_run, name="litellm-warm-up", daemon=True)
    thread.start()
    return thread


# -- provider from a model string, without importing litellm --------------------

_BARE = ((re.compile(r"^(gpt-|chatgpt-|o[1-9](-|$)|text-embedding-|davinci|babbage|dall-e|whisper|tts-)"), "openai"),
         (re.compile(r"^claude-"), "anthropic"), (re.compile(r"^(command|embed-)"), "cohere"))
_PROVIDER_ALIASES = {"ollama_chat": "ollama", "text-completion-openai": "openai", "cohere_chat": "cohere",
                     "bedrock_converse": "bedrock"}
_bundled_providers: dict[str, str] | None = None


def provider_for(model: str) -> str:
    """The provider of a litellm model string: its ``x/`` prefix, a known bare name
    (gpt-*, o1*, claude-*...), litellm's bundled price map (read as JSON, litellm not
    imported), litellm's get_llm_provider only if litellm is already loaded; else
    ``"unknown"``."""
    if "/" in model:
        prefix = model.split("/", 1)[0]
        return _PROVIDER_ALIASES.get(prefix, prefix)
    for pattern, provider in _BARE:
        if pattern.match(model):
            return provider
    found = _bundled_provider_map().get(model)
    if found:
        base = found.split("-", 1)[0] if found.endswith("-models") else found
        return _PROVIDER_ALIASES.get(base, base)
    if is_imported():  # never pay the 4 s import just for a label
        try:
            return import_litellm().get_llm_provider(model)[1]
        except Exception:
            pass
    return "unknown"


def _bundled_provider_map() -> dict[str, str]:
    global _bundled_providers
    if _bundled_providers is None:
        pkg, table = litellm_package_dir(), {}
        try:
            raw = json.loads((pkg / "model_prices_and_context_window_backup.json").read_text(encoding="utf-8"))
            table = {k: v["litellm_provider"] for k, v in raw.items()
                     if "/" not in k and isinstance(v, dict) and isinstance(v.get("litellm_provider"), str)}
        except (OSError, ValueError, TypeError):
            pass
        _bundled_providers = table
    return _bundled_providers
