"""The one place litellm is imported: offline, quiet, redacted, and only when needed.

``import litellm`` costs ~2-4 s of CPU, so nothing imports it at module level, and
nothing imports it for a model that does not stream through it
(:func:`streams_without_litellm`: local models and OpenAI-compatible endpoints); their
prices and token counts come from litellm's data files, read without it (price_map.py,
bpe.py). :func:`ensure_env` prepares the environment *without* importing it (tokens.py
relies on that for tiktoken's offline files); :func:`import_litellm` imports it once,
thread-safe; the GUI calls :func:`warm_up_in_background` after its window shows, the
CLI :func:`warm_up_for` the models it is about to run.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Iterable

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
        from promptbench.core.providers.price_map import bundled_map

        _bundled_providers = {k: v["litellm_provider"] for k, v in bundled_map().items()
                              if "/" not in k and isinstance(v.get("litellm_provider"), str)}
    return _bundled_providers


# The providers the engine reaches over the OpenAI wire protocol when the model has an
# api_base (core/engine/engine.py _prepare decides the same way).
OPENAI_COMPATIBLE_PROVIDERS = ("openai", "ollama", "openai_compatible", "hosted_vllm")


def streams_without_litellm(cfg: Any) -> bool:
    """True if ``cfg`` never needs litellm to run: an embedded local model, or an endpoint
    given by ``api_base`` that speaks the OpenAI protocol."""
    if getattr(cfg, "is_local", False):
        return True
    model = getattr(cfg, "model", "") or ""
    return bool(getattr(cfg, "api_base", None)) and (
        getattr(cfg, "provider", "") in OPENAI_COMPATIBLE_PROVIDERS or model.startswith("openai/"))


def warm_up_for(models: Iterable[Any]) -> threading.Thread | None:
    """Start importing litellm in the background if any of ``models`` will need it, so the
    import overlaps the rest of start-up; None (nothing started) otherwise."""
    if is_imported() or all(streams_without_litellm(m) for m in models):
        return None
    return warm_up_in_background()
