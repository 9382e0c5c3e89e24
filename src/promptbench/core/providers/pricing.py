"""What a run costs, in USD. Never raises: an unknown price is ``None`` plus a note.

Order: the catalog's own price (``input/output_cost_per_mtok`` in promptbench.toml) ->
embedded local and Ollama models are free -> litellm's bundled price map, read as JSON
without importing litellm (:mod:`price_map`: a flat per-token price, the same figures
``litellm.cost_per_token`` gives) -> ``litellm.cost_per_token`` itself for what the map
alone cannot settle (tiers, off-peak rates, names only litellm's routing resolves;
imported lazily, which may take seconds: call it off the GUI thread or after
:func:`litellm_setup.warm_up_in_background`) -> unknown. A model the map does not hold
that is reached as an OpenAI-compatible endpoint (its ``api_base``) is unknown at once:
litellm is never imported for it, as it never streams it either.
"""

from __future__ import annotations

import threading
from typing import Any

from promptbench.core.providers import price_map
from promptbench.core.providers.litellm_setup import import_litellm, streams_without_litellm
from promptbench.core.redaction import redact

MTOK = 1_000_000
FROM_CONFIG = "price from promptbench.toml"
FROM_LITELLM = "price from litellm's price map"
LOCAL_FREE = "local model: free"
OLLAMA_FREE = "ollama model: free (runs on this machine)"

_lock = threading.Lock()
_unknown: dict[str, str] = {}  # model -> why litellm has no price (known ones cost ~0.2 ms a call)


def _unknown_note(model: str) -> str:
    return (f"no price for {model} in litellm's price map; "
            "set input_cost_per_mtok/output_cost_per_mtok in promptbench.toml")


def _map_cost(cfg: Any, input_tokens: int, output_tokens: int) -> tuple[float, float] | str:
    """(input USD, output USD) from litellm's price map, or the note saying why there is no price."""
    found = price_map.flat_cost(cfg.model, input_tokens, output_tokens)
    if isinstance(found, tuple):
        return found
    if found == price_map.NOT_IN_MAP and streams_without_litellm(cfg):
        return _unknown_note(cfg.model)
    return _litellm_cost(cfg.model, input_tokens, output_tokens)


def _litellm_cost(model: str, input_tokens: int, output_tokens: int) -> tuple[float, float] | str:
    """(input USD, output USD) from litellm, or the note saying why there is no price."""
    with _lock:
        if model in _unknown:
            return _unknown[model]
    try:
        litellm = import_litellm()
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=int(input_tokens), completion_tokens=int(output_tokens))
        result = (float(prompt_cost), float(completion_cost))
    except Exception as exc:
        # ModelNotMappedError (a known provider, unmapped model) or BadRequestError
        # ("LLM Provider NOT provided") for strings litellm cannot route.
        note = _unknown_note(model)
        if type(exc).__name__ not in ("ModelNotMappedError", "BadRequestError", "NotFoundError"):
            note += f" ({type(exc).__name__}: {redact(str(exc))[:160]})"
        with _lock:
            _unknown[model] = note
        return note
    return result


def _is_free(cfg: Any) -> str | None:
    if getattr(cfg, "is_local", False) or getattr(cfg, "provider", "") == "local":
        return LOCAL_FREE
    if getattr(cfg, "provider", "") == "ollama":
        return OLLAMA_FREE
    return None


def cost_usd(cfg: Any, input_tokens: int | None, output_tokens: int | None) -> tuple[float | None, str]:
    """(cost in USD or None, note). Never raises."""
    try:
        return _cost(cfg, int(input_tokens or 0), int(output_tokens or 0))
    except Exception as exc:  # a bug or a strange litellm: still a value, never a crash
        return None, f"cost unavailable: {type(exc).__name__}: {redact(str(exc))[:160]}"


def _cost(cfg: Any, input_tokens: int, output_tokens: int) -> tuple[float | None, str]:
    price_in, price_out = cfg.input_cost_per_mtok, cfg.output_cost_per_mtok
    free = _is_free(cfg)
    if free and not (price_in or price_out):  # resolve_model gives local models 0.0 prices
        return 0.0, free
    if price_in is not None and price_out is not None:
        return (input_tokens * price_in + output_tokens * price_out) / MTOK, FROM_CONFIG
    if free:  # one side priced in promptbench.toml, the other free
        return (input_tokens * (price_in or 0.0) + output_tokens * (price_out or 0.0)) / MTOK, FROM_CONFIG
    found = _map_cost(cfg, input_tokens, output_tokens)
    if isinstance(found, str):
        if price_in is not None or price_out is not None:
            missing = "output_cost_per_mtok" if price_out is None else "input_cost_per_mtok"
            return None, f"{found.split(';')[0]}; set {missing} in promptbench.toml too"
        return None, found
    cost_in = input_tokens * price_in / MTOK if price_in is not None else found[0]
    cost_out = output_tokens * price_out / MTOK if price_out is not None else found[1]
    note = FROM_LITELLM if price_in is None and price_out is None else f"{FROM_CONFIG} and litellm's price map"
    return cost_in + cost_out, note


def price_known(cfg: Any) -> bool:
    """True if :func:`cost_usd` will give a number for ``cfg``."""
    return cost_usd(cfg, 1, 1)[0] is not None


def unit_prices(cfg: Any) -> tuple[float | None, float | None]:
    """(USD per input token, USD per output token) at the base tier; None where unknown.

    For counting cost up live while a run streams; the final figure comes from
    :func:`cost_usd` with the real counts (tiered prices can differ for huge prompts).
    """
    n = 1000  # well inside every base tier (tiers start at 128k/200k tokens)
    cost_in, _ = cost_usd(cfg, n, 0)
    cost_out, _ = cost_usd(cfg, 0, n)
    return (None if cost_in is None else cost_in / n), (None if cost_out is None else cost_out / n)


def price_per_mtok(cfg: Any) -> tuple[float | None, float | None, str]:
    """(USD per million input tokens, per million output tokens, note) for display."""
    per_in, per_out = unit_prices(cfg)
    note = cost_usd(cfg, 1, 1)[1]
    return (None if per_in is None else per_in * MTOK), (None if per_out is None else per_out * MTOK), note


def estimate_cost(cfg: Any, input_tokens: int, max_output_tokens: int | None) -> tuple[float | None, str]:
    """Pre-run estimate: the prompt plus ``max_output_tokens`` (an upper bound)."""
    value, note = cost_usd(cfg, input_tokens, max_output_tokens or 0)
    if value is None:
        return value, note
    return value, f"{note}; at most {max_output_tokens or 0} output tokens"

