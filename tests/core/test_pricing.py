"""Costs from the catalog, local models and litellm's bundled map; offline token counts;
and `promptbench models --json` never printing a key."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from promptbench.core.providers import litellm_setup, pricing
from promptbench.core.settings.config import ModelConfig, Settings, resolve_model
from promptbench.core.providers.pricing import cost_usd, estimate_cost, price_known, price_per_mtok, unit_prices
from promptbench.core.providers.tokens import StreamingTokenCounter, count_message_tokens, count_text_tokens, encoding_name


def adhoc(model: str) -> ModelConfig:
    return resolve_model(Settings(), model)


def test_catalog_override_wins():
    cfg = ModelConfig(name="gw", model="openai/gpt-4o-mini", provider="openai", input_cost_per_mtok=2.0, output_cost_per_mtok=10.0)
    assert cost_usd(cfg, 1_000_000, 500_000) == (pytest.approx(7.0), pricing.FROM_CONFIG)
    assert price_per_mtok(cfg) == (2.0, 10.0, pricing.FROM_CONFIG)


def test_local_models_are_free():
    for model in ("local/smollm2-135m-instruct", "local/file:/x/y.gguf"):
        assert cost_usd(adhoc(model), 5000, 5000) == (0.0, "local model: free")
    value, note = cost_usd(adhoc("ollama/llama3.2"), 5000, 5000)
    assert value == 0.0 and "ollama" in note


def test_known_model_from_litellms_bundled_map():
    value, note = cost_usd(adhoc("openai/gpt-4o-mini"), 1_000_000, 1_000_000)
    assert value == pytest.approx(0.15 + 0.60) and note == pricing.FROM_LITELLM
    assert cost_usd(adhoc("gpt-4o-mini"), 1000, 0)[0] == pytest.approx(0.00015)
    assert price_known(adhoc("openai/gpt-4o-mini"))
    assert price_per_mtok(adhoc("openai/gpt-4o-mini"))[:2] == (pytest.approx(0.15), pytest.approx(0.6))
    assert unit_prices(adhoc("openai/gpt-4o-mini")) == (pytest.approx(0.15e-6), pytest.approx(0.6e-6))
    assert unit_prices(adhoc("local/gemma3-270m")) == (0.0, 0.0)
    value, note = estimate_cost(adhoc("openai/gpt-4o-mini"), 1000, 500)
    assert value == pytest.approx(0.00015 + 0.0003) and "at most 500 output tokens" in note


@pytest.mark.parametrize("model", ["openai/llama-3.1-8b", "anthropic/claude-3-5-haiku-20241022", "foo/bar", "total-nonsense", ""])
def test_unknown_model_is_none_with_a_note(model, capsys):
    cfg = ModelConfig(name=model or "x", model=model, provider="unknown")
    value, note = cost_usd(cfg, 100, 100)
    assert value is None
    assert note == (f"no price for {model} in litellm's price map; "
                    "set input_cost_per_mtok/output_cost_per_mtok in promptbench.toml")
    assert not price_known(cfg) and estimate_cost(cfg, 10, 10)[0] is None
    assert unit_prices(cfg) == (None, None) and price_per_mtok(cfg) == (None, None, note)
    assert cost_usd(cfg, 100, 100) == (value, note)  # cached
    assert "Provider List" not in capsys.readouterr().out  # litellm's debug print is off


def test_half_override_uses_litellm_for_the_other_side():
    cfg = ModelConfig(name="x", model="openai/gpt-4o-mini", provider="openai", input_cost_per_mtok=1.0)
    value, note = cost_usd(cfg, 1_000_000, 1_000_000)
    assert value == pytest.approx(1.0 + 0.6) and "promptbench.toml" in note
    cfg = ModelConfig(name="x", model="openai/unknown-thing", provider="openai", output_cost_per_mtok=1.0)
    value, note = cost_usd(cfg, 10, 10)
    assert value is None and "input_cost_per_mtok" in note


def test_never_raises():
    class Broken:
        input_cost_per_mtok = "cheap"
        output_cost_per_mtok = 1
        model = None
        provider = "openai"

    value, note = cost_usd(Broken(), 10, 10)
    assert value is None and note.startswith("cost unavailable")
    assert cost_usd(adhoc("openai/gpt-4o-mini"), None, None)[0] == 0.0


def test_litellm_import_is_configured():
    litellm = litellm_setup.import_litellm()
    assert litellm is litellm_setup.import_litellm()
    assert litellm.disable_streaming_logging is True and litellm.suppress_debug_info is True
    assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(litellm_setup.tokenizers_dir())
    thread = litellm_setup.warm_up_in_background()
    thread.join(10)
    assert thread.daemon and not thread.is_alive()


def test_litellm_debug_logging_never_reaches_stdout(capsys):
    """litellm's own handler sends DEBUG/INFO to stdout; ours keeps `--json` output clean."""
    import logging

    litellm_setup.import_litellm()
    logger = logging.getLogger("LiteLLM")
    saved = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("a debug line from litellm")
        logger.info("an info line from litellm")
    finally:
        logger.setLevel(saved)
    out, err = capsys.readouterr()
    assert out == ""
    assert "a debug line from litellm" in err and "an info line from litellm" in err


# -- tokens ------------------------------------------------------------------

def test_token_counts():
    assert encoding_name("openai/gpt-4o-mini") == "o200k_base" and encoding_name("gpt-4.1") == "o200k_base"
    assert encoding_name("o1-mini") == "o200k_base" and encoding_name("gpt-4") == "cl100k_base"
    assert encoding_name("anthropic/claude-3-opus") == "cl100k_base"
    assert count_text_tokens("hello world", "gpt-4o") == 2
    assert count_text_tokens("", "gpt-4o") == 0
    assert count_text_tokens("a <|endoftext|> b", "gpt-4") > 3  # special tokens are plain text
    messages = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hello world", "name": "ada"}]
    expected = 3 + sum(3 + count_text_tokens(m["role"], "gpt-4o") + count_text_tokens(m["content"], "gpt-4o") for m in messages) \
        + count_text_tokens("ada", "gpt-4o") + 1
    assert count_message_tokens(messages, "gpt-4o") == expected
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello world"}, {"type": "image_url", "image_url": {"url": "x"}}]}]
    assert count_message_tokens(parts, "gpt-4o") == 3 + 3 + 1 + 2


STREAM_TEXTS = {
    "english": ("The quick brown fox jumps over the lazy dog. " * 20) + "Streaming tokens arrive in small deltas, " * 30,
    "code": "def f(x):\n    if x:\n        return {'a': [1, 2, 3]}  # note\n    return None\n\n\n" * 40,
    "cjk": "日本語のテキストです。" * 200,
}


@pytest.mark.parametrize("kind,tolerance", [("english", 0.0), ("code", 0.01), ("cjk", 0.02)])
@pytest.mark.parametrize("model", ["gpt-4o-mini", "claude-3-haiku"])
@pytest.mark.parametrize("size", [1, 4, 17])
def test_streaming_counter_is_close_to_the_full_count(kind, tolerance, model, size):
    text = STREAM_TEXTS[kind]
    counter = StreamingTokenCounter(model)
    running = [counter.add(text[i:i + size]) for i in range(0, len(text), size)]
    assert running[-1] == counter.count
    assert all(b >= a - 1 for a, b in zip(running, running[1:]))  # an unfinished word may dip by one
    exact = count_text_tokens(text, model)
    assert abs(counter.count - exact) <= tolerance * exact, (counter.count, exact)


def test_tokens_work_offline_without_importing_litellm(tmp_path):
    code = (
        "import socket, sys\n"
        "def refuse(*a, **k): raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from promptbench.core.providers.tokens import count_text_tokens\n"
        "print(count_text_tokens('hello world', 'gpt-4o'), count_text_tokens('hello world', 'gpt-3.5-turbo'))\n"
        "print('litellm' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["2", "2", "False"]
    assert not (tmp_path / "data-gym-cache").exists()  # nothing fetched into the default cache


# -- the models command never prints a key --------------------------------------

def test_models_json_never_shows_a_key(tmp_path, monkeypatch, capsys):
    import promptbench.cli as cli
    from promptbench.commands import models as models_command

    key = "sk-proj-PLANTED0123456789abcdefghijklmnopqrstuv"
    gw_key = "a-gateway-key-that-has-no-known-shape-42"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("GATEWAY_KEY", gw_key)
    (tmp_path / "promptbench.toml").write_text(
        '[models.gpt-mini]\nmodel = "openai/gpt-4o-mini"\napi_key_env = "OPENAI_API_KEY"\n'
        '[models.gw]\nmodel = "openai/llama-3.1-8b"\napi_base = "http://127.0.0.1:9/v1"\napi_key_env = "GATEWAY_KEY"\n'
        'input_cost_per_mtok = 0.05\noutput_cost_per_mtok = 0.08\n'
        '[models.nokey]\nmodel = "anthropic/claude-sonnet-4-5"\napi_key_env = "PB_TEST_UNSET_KEY"\n'
    )
    monkeypatch.delenv("PB_TEST_UNSET_KEY", raising=False)
    build = cli.build_parser

    def build_with_models():  # until cli.py registers the command itself
        parser = build()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "models" not in sub.choices:
            models_command.register(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_with_models)
    assert cli.main(["--workspace", str(tmp_path), "models", "--json", "--no-ollama"]) == 0
    captured = capsys.readouterr()
    assert key not in captured.out + captured.err and gw_key not in captured.out + captured.err
    rows = {row["name"]: row for row in json.loads(captured.out)}
    assert rows["gpt-mini"]["key_source"] == "env:OPENAI_API_KEY" and rows["gpt-mini"]["key_available"] is True
    assert rows["gpt-mini"]["input_cost_per_mtok"] == pytest.approx(0.15)
    assert rows["gw"]["input_cost_per_mtok"] == 0.05 and rows["gw"]["key_available"] is True
    assert rows["nokey"]["key_available"] is False and rows["nokey"]["key_detail"] == "PB_TEST_UNSET_KEY is not set"
    assert rows["local/smollm2-135m-instruct"]["source"] == "local" and rows["local/smollm2-135m-instruct"]["default"]
    assert cli.main(["--workspace", str(tmp_path), "models", "--no-ollama"]) == 0
    table = capsys.readouterr().out
    assert key not in table and gw_key not in table and "env:OPENAI_API_KEY (set)" in table
