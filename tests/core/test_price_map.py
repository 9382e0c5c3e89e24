"""Prices read from litellm's bundled map without litellm are litellm's own, entry by entry."""

from __future__ import annotations

import pytest

from promptbench.core.providers import pricing, price_map
from promptbench.core.providers.price_map import ASK_LITELLM, NOT_IN_MAP, bundled_map, flat_cost
from promptbench.core.settings.config import ModelConfig

# a small prompt, output only, both, and a prompt past the 128k/200k tiers some models have
TOKENS = [(1000, 0), (0, 1000), (1234, 567), (150_001, 10), (250_000, 3)]
OPENAI_COMPATIBLE = ("openai", "hosted_vllm")  # the prefixes the engine streams itself when there is an api_base


@pytest.fixture(scope="module")
def litellm():
    from promptbench.core.providers.litellm_setup import import_litellm

    return import_litellm()


def litellm_or_error(litellm, model, tokens_in, tokens_out):
    try:
        return tuple(litellm.cost_per_token(model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out))
    except Exception as exc:
        return type(exc).__name__


def names():
    """Every key of the map, and its bare names behind the prefixes a catalog would give them."""
    found = set(bundled_map())
    for key, entry in bundled_map().items():
        if "/" not in key:
            found.update(f"{p}/{key}" for p in {*OPENAI_COMPATIBLE, "anthropic", "openrouter", entry.get("litellm_provider", "openai")})
    return sorted(found)


def test_every_flat_price_is_litellms_to_the_last_bit(litellm):
    checked, wrong = set(), []
    for model in names():
        for tokens in TOKENS:
            mine = flat_cost(model, *tokens)
            if isinstance(mine, tuple):
                checked.add(model)
                theirs = litellm_or_error(litellm, model, *tokens)
                if mine != theirs:
                    wrong.append((model, tokens, mine, theirs))
    assert not wrong, wrong[:10]
    assert len(checked) > 800  # most chat models of OpenAI, Anthropic, Mistral, Groq... are priced without litellm


def test_a_name_the_map_lacks_behind_an_openai_compatible_prefix_has_no_litellm_price_either(litellm):
    table = bundled_map()
    bare = [k for k in table if "/" not in k][:300] + ["llama-3.1-8b", "qwen2.5:0.5b", "my-gateway-model"]
    wrong = []
    for prefix in OPENAI_COMPATIBLE:
        for name in bare:
            model = f"{prefix}/{name}"
            if flat_cost(model, 1000, 1000) == NOT_IN_MAP:
                theirs = litellm_or_error(litellm, model, 1000, 1000)
                if isinstance(theirs, tuple) and theirs != (0.0, 0.0):
                    wrong.append((model, theirs))
    assert not wrong, wrong[:10]


@pytest.mark.parametrize("model", ["openai/ft:gpt-4o-mini-2024-07-18:org::abc", "gemini/gemini-2.5-pro",
                                   "azure/gpt-4o", "deepseek-chat"])
def test_what_only_litellms_rules_settle_is_left_to_litellm(model):
    assert flat_cost(model, 1000, 1000) == ASK_LITELLM


def test_a_tier_crossed_is_left_to_litellm():
    tiered = [k for k, v in bundled_map().items()
              if "input_cost_per_token_above_272k_tokens" in v and isinstance(flat_cost(k, 1000, 10), tuple)]
    assert tiered  # e.g. gpt-5.6: one flat price up to 272k prompt tokens
    assert all(flat_cost(k, 272_001, 10) == ASK_LITELLM for k in tiered)


def test_pricing_never_asks_litellm_for_an_unpriced_openai_compatible_endpoint(monkeypatch):
    def refuse():
        raise AssertionError("litellm was asked")

    monkeypatch.setattr(pricing, "import_litellm", refuse)
    gateway = ModelConfig(name="gw", model="openai/my-gateway-model", provider="openai", api_base="http://127.0.0.1:9/v1")
    value, note = pricing.cost_usd(gateway, 100, 100)
    assert value is None and note.startswith("no price for openai/my-gateway-model in litellm's price map")
    priced = ModelConfig(name="p", model="openai/gpt-4o-mini", provider="openai", api_base="http://127.0.0.1:9/v1")
    assert pricing.cost_usd(priced, 1000, 0) == (flat_cost("openai/gpt-4o-mini", 1000, 0)[0], pricing.FROM_LITELLM)
    vllm = ModelConfig(name="v", model="hosted_vllm/gpt-4o-mini", provider="hosted_vllm", api_base="http://127.0.0.1:9/v1")
    assert pricing.cost_usd(vllm, 10, 10)[0] is None  # litellm does not price a vLLM host by OpenAI's list either


def test_the_map_is_read_without_importing_litellm():
    import subprocess
    import sys

    code = ("import sys\nfrom promptbench.core.providers.price_map import flat_cost\n"
            "print(flat_cost('openai/gpt-4o-mini', 1000, 1000), 'litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(0.00015,", "0.0006)", "False"]
    assert price_map.MAP_FILE == "model_prices_and_context_window_backup.json"
