"""Exact local numbers and log-probabilities, on the real SmolLM2 and llama.cpp's own programs.

- token counts come from the model's own tokenizer (the server's usage), the server's
  timings are stored beside promptbench's wire measurements;
- log-probabilities of generated tokens come through the engine;
- the perplexity of a given text, scored through the engine, matches llama.cpp's own
  ``llama-perplexity`` on the same tokens within 1 %.
"""

from __future__ import annotations

import json
import os
import math
import re
import subprocess
import sys

import pytest

from promptbench.core.db.runs import RunStore
from promptbench.core.engine import events as ev
from promptbench.core.engine.engine import ComparisonRequest, Engine
from promptbench.core.local.programs import llama_program, missing_reason
from promptbench.core.local.scoring import ServerClient, score_tokens
from promptbench.core.local.servers import SMOLLM2_ID, LocalServerManager, get_local_model
from promptbench.core.settings.config import load_settings, resolve_model
from tests.core.engine_helpers import Collector

pytestmark = [pytest.mark.local_model, pytest.mark.skipif(missing_reason() is not None, reason=str(missing_reason()))]

MESSAGES = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "Name three colours of the rainbow, one per line."},
]
# A fixed English text, long enough for llama-perplexity's two windows of CONTEXT tokens.
TEXT = " ".join([
    "The lighthouse keeper climbed the spiral stairs every evening before sunset.",
    "He carried a small brass lamp, a notebook and a thermos of strong black tea.",
    "From the gallery at the top he could see the fishing boats coming home across the bay,",
    "their sails turning orange in the last light of the day.",
    "He wrote down the name of every boat, the time it passed the rocks and the state of the sea.",
    "Nobody had asked him to keep such records, but his father had done the same before him,",
    "and his grandfather before that, and the shelves of the little cottage were full of notebooks.",
    "In winter the storms came from the north and the waves broke over the harbour wall.",
    "On those nights he did not sleep at all; he watched the beam sweep across the water",
    "and listened to the wind howling around the tower like an animal trying to get in.",
    "In summer the days were long and quiet, and children from the village came to visit.",
    "He showed them how the great lens turned, how the clockwork had to be wound by hand,",
    "and how a single flame could be seen by a sailor twenty miles away.",
    "The children always asked whether he was lonely, and he always said that he was not,",
    "because the sea was never the same two days running and there was always something to watch.",
    "When the lighthouse was finally automated, the engineers offered him a house in the town.",
    "He thanked them politely and moved into the cottage at the foot of the cliff instead,",
    "where he could still see the beam from his kitchen window and count the boats coming home.",
]) * 3
CONTEXT = 256


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("logprobs")
    settings = load_settings(tmp)
    manager = LocalServerManager(log_dir=tmp / "logs")
    runs = RunStore(tmp / "pb.db")
    collector = Collector()
    engine = Engine(settings, collector, local=manager, runs=runs)
    yield settings, manager, runs, collector, engine
    engine.shutdown()
    manager.stop_all()
    runs.close()


def _run(setup, params: dict):
    settings, manager, runs, collector, engine = setup
    smol = resolve_model(settings, SMOLLM2_ID)
    comparison = engine.compare(ComparisonRequest(MESSAGES, [smol], params=params))
    assert comparison.wait(180)
    (run_id,) = comparison.run_ids
    result = collector.terminal()[run_id]
    assert isinstance(result, ev.RunFinished), result
    return run_id, result


def test_token_counts_are_the_models_own_and_server_timings_are_stored(setup):
    settings, manager, runs, collector, engine = setup
    run_id, result = _run(setup, {"temperature": 0, "max_tokens": 40, "seed": 3, "logprobs": True, "top_logprobs": 1})
    m = result.metrics
    client = ServerClient(manager.ensure(SMOLLM2_ID), SMOLLM2_ID)
    prompt = client.chat_prompt(MESSAGES)
    assert "<|im_start|>user" in prompt  # SmolLM2's own chat template, applied by the server
    assert m.input_tokens == len(client.tokenize(prompt, special=True))
    assert m.input_tokens_reported and m.tokens_reported
    # every generated token has its log-probability: their number is the output count
    assert m.output_tokens == len(result.logprobs) > 0
    assert "".join(t["token"] for t in result.logprobs) == result.output
    # the server's own timings, beside the wire measurements
    assert m.server_prompt_ms is not None and m.server_prompt_ms > 0
    assert m.server_decode_tokens_per_s is not None and m.server_decode_tokens_per_s > 0
    assert m.server_prompt_tokens_per_s is not None and m.server_prompt_tokens_per_s > 0
    assert m.queue_ms is not None and m.queue_ms >= 0
    assert m.ttft_ms >= m.server_prompt_ms  # the first token cannot come before the prompt is read
    runs.flush()
    stored = runs.get_run(run_id)
    assert stored["input_tokens"] == m.input_tokens and stored["input_tokens_reported"]
    assert stored["output_tokens"] == m.output_tokens and stored["tokens_reported"]
    assert stored["server_prompt_ms"] == pytest.approx(m.server_prompt_ms)
    assert stored["server_decode_tokens_per_s"] == pytest.approx(m.server_decode_tokens_per_s)
    assert stored["queue_ms"] == pytest.approx(m.queue_ms)


def test_generated_log_probabilities_through_the_engine(setup):
    run_id, result = _run(setup, {"temperature": 0, "max_tokens": 24, "seed": 5, "logprobs": True, "top_logprobs": 3})
    assert result.logprobs
    for entry in result.logprobs:
        assert entry["logprob"] <= 0 and math.isfinite(entry["logprob"])
        tops = entry["top_logprobs"]
        assert 1 <= len(tops) <= 3
        # greedy decoding: the chosen token is the most probable one
        assert entry["logprob"] == pytest.approx(max(t["logprob"] for t in tops), abs=1e-4)
    # without asking, no log-probabilities are sent or kept
    _, plain = _run(setup, {"temperature": 0, "max_tokens": 8, "seed": 5})
    assert plain.logprobs == ()


def test_scoring_a_text_gives_each_token_and_a_perplexity(setup):
    settings, manager, runs, collector, engine = setup
    smol = resolve_model(settings, SMOLLM2_ID)
    likely = engine.score_text(smol, MESSAGES, "Red\nOrange\nYellow")
    unlikely = engine.score_text(smol, MESSAGES, "Telescope\nBicycle\nSandwich")
    assert [t.token for t in likely.tokens] and "".join(t.token for t in likely.tokens) == "Red\nOrange\nYellow"
    assert likely.prompt_tokens > 10
    assert likely.perplexity is not None and likely.perplexity < unlikely.perplexity
    assert json.loads(json.dumps(likely.to_json()))["text_tokens"] == len(likely.tokens)


def test_perplexity_matches_llama_perplexity_within_one_percent(setup, tmp_path):
    settings, manager, runs, collector, engine = setup
    client = ServerClient(manager.ensure(SMOLLM2_ID), SMOLLM2_ID)
    tokens = [int(t) for t in client.post("/tokenize", {"content": TEXT, "add_special": True, "parse_special": False})["tokens"]]
    assert len(tokens) >= 2 * CONTEXT, "the text must be long enough for llama-perplexity"
    # llama-perplexity's first window: CONTEXT tokens, logits of the second half scored,
    # i.e. tokens first+1 .. CONTEXT-1 predicted from everything before them.
    first = CONTEXT // 2
    ours = score_tokens(client, tokens[: first + 1], tokens[first + 1 : CONTEXT])
    assert len(ours.tokens) == CONTEXT - first - 1

    text_file = tmp_path / "text.txt"
    text_file.write_text(TEXT, encoding="utf-8")
    program, env = llama_program("llama-perplexity")
    done = subprocess.run(
        [str(program), "-m", str(get_local_model(SMOLLM2_ID).path), "-f", str(text_file), "-c", str(CONTEXT),
         "--chunks", "1", "-b", str(CONTEXT), "-t", os.environ.get("PB_PPL_THREADS", "2"), "--no-repack"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = re.search(r"Final estimate: PPL = ([0-9.]+)", done.stdout + done.stderr)
    assert found, (done.stdout + done.stderr)[-3000:]
    theirs = float(found.group(1))
    print(f"perplexity: promptbench {ours.perplexity:.4f}, llama-perplexity {theirs:.4f}", file=sys.stderr)
    assert ours.perplexity == pytest.approx(theirs, rel=0.01)


def test_the_public_api_scores_a_reference_answer_and_refuses_a_hosted_model(workspace):
    import promptbench
    from tests.conftest import SIMPLE_PROMPT

    root = workspace.root
    workspace.close()
    with promptbench.Workspace(root) as ws:
        ws.prompts.save("greeter.prompt.yml", SIMPLE_PROMPT, "a greeter")
        good = ws.score("greeter", "Hello, Ada! How are you today?", variables={"name": "Ada"})
        odd = ws.score("greeter", "Purple elephant calculus.", variables={"name": "Ada"})
        assert good["text_tokens"] == len(good["tokens"]) > 3 and good["prompt_tokens"] > 10
        assert "".join(t["token"] for t in good["tokens"]) == "Hello, Ada! How are you today?"
        assert good["perplexity"] < odd["perplexity"]
        with pytest.raises(promptbench.PromptbenchError, match="needs a local model"):
            ws.score("greeter", "Hello", model="openai/gpt-4o-mini", variables={"name": "Ada"})
