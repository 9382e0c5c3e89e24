"""litellm's bundled price map, read as JSON: prices without ``import litellm`` (~3 s).

litellm ships its map as ``model_prices_and_context_window_backup.json`` in its package
folder, and uses that very file when ``LITELLM_LOCAL_MODEL_COST_MAP=True``
(litellm_setup.ensure_env). :func:`flat_cost` prices the common case from it: a model
the map prices per token at one flat rate, for a request that carries only prompt and
completion tokens. The figures are litellm's own (``tests/core/test_price_map.py``
checks every entry of the map against ``litellm.cost_per_token``). What it cannot price
the same way (tiered or off-peak rates, per-second or per-character prices, names that
only litellm's routing resolves) is :data:`ASK_LITELLM`; a name the map does not hold is
:data:`NOT_IN_MAP`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

MAP_FILE = "model_prices_and_context_window_backup.json"
NOT_IN_MAP = "not in map"
ASK_LITELLM = "ask litellm"

# Keys that change what a plain prompt+completion request costs (or that litellm prices
# by another route). Their presence sends the model to litellm itself.
_EXOTIC_KEYS = ("tiered_pricing", "off_peak_pricing", "input_cost_per_character", "output_cost_per_character",
                "input_cost_per_second", "output_cost_per_second", "cost_per_second", "input_dbu_cost_per_token",
                "output_dbu_cost_per_token", "output_cost_per_image_token")
_THRESHOLD_PREFIXES = ("input_cost_per_token_above_", "output_cost_per_token_above_")
# Providers whose cost function is litellm's generic per-token one for a plain request
# (azure is not: it resolves deployment names its own way), and those whose models
# litellm also knows by their bare name (it cannot route a bare deepseek-chat).
_FLAT_PROVIDERS = frozenset({"openai", "text-completion-openai", "anthropic", "mistral", "groq", "deepseek", "cohere",
                             "cohere_chat", "together_ai", "fireworks_ai", "perplexity", "openrouter"})
_BARE_NAME_PROVIDERS = frozenset({"openai", "text-completion-openai", "anthropic", "cohere", "cohere_chat"})

_lock = threading.Lock()
_map: dict[str, Any] | None = None


def bundled_map() -> dict[str, Any]:
    """The map (model -> entry), parsed once (20-40 ms); empty if litellm is not installed."""
    global _map
    if _map is None:
        with _lock:
            if _map is None:
                _map = _read()
    return _map


def _read() -> dict[str, Any]:
    from promptbench.core.local.catalog import package_dir

    pkg = package_dir("litellm")
    try:
        raw = json.loads((pkg / MAP_FILE).read_bytes()) if pkg else {}
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, dict) and k != "sample_spec"} if isinstance(raw, dict) else {}


def entry_for(model: str) -> dict[str, Any] | None:
    """The map's entry for a litellm model string, as litellm resolves the simple cases:
    the string itself, else the name after its ``provider/`` prefix when the map files that
    name under the same provider. None otherwise (litellm may still know it by other routes)."""
    table = bundled_map()
    found = table.get(model)
    if found is not None:
        return found
    prefix, sep, rest = model.partition("/")
    if not sep:
        return None
    found = table.get(rest)
    if found is not None and found.get("litellm_provider") == prefix:
        return found
    return None


def flat_cost(model: str, input_tokens: int, output_tokens: int) -> tuple[float, float] | str:
    """(input USD, output USD) as ``litellm.cost_per_token`` gives them, or :data:`NOT_IN_MAP`
    or :data:`ASK_LITELLM`."""
    if "ft:" in model:  # fine-tunes: litellm prices them by their base model's ft: entry
        return ASK_LITELLM
    entry = entry_for(model)
    if entry is None:
        return NOT_IN_MAP
    provider = entry.get("litellm_provider")
    if "/" not in model and provider not in _BARE_NAME_PROVIDERS:
        return ASK_LITELLM
    price_in, price_out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if (provider not in _FLAT_PROVIDERS or any(k in entry for k in _EXOTIC_KEYS)
            or not _is_number(price_in) or not _is_number(price_out) or entry.get("mode") not in ("chat", "completion", "responses")):
        return ASK_LITELLM
    if any(_crosses(key, input_tokens) for key in entry if key.startswith(_THRESHOLD_PREFIXES)):
        return ASK_LITELLM
    return float(input_tokens) * float(price_in), float(output_tokens) * float(price_out)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _crosses(key: str, input_tokens: int) -> bool:
    """True if a prompt this long may be billed at the ``..._above_<N>[k]_tokens`` rate (or
    the key cannot be read): litellm then picks the tier."""
    size = key.rsplit("_above_", 1)[1].split("_tokens", 1)[0]
    try:
        threshold = float(size[:-1]) * 1000 if size.endswith("k") else float(size)
    except ValueError:
        return True
    return input_tokens >= threshold
