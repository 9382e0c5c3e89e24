"""The CLI starts without litellm where it does not need it, and its figures are litellm's.

Every command runs in a fresh interpreter through the real ``promptbench.cli.main``; an
``atexit`` hook (registered first, so it runs last) reports which of litellm, tiktoken and
openai were imported by the end of the process. Prices and token counts are compared with
what litellm (``cost_per_token``) and tiktoken (``encode_ordinary``) give for the same
input, computed here in the test process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"
MODEL = "openai/gpt-4o-mini"  # priced by litellm's map; served here by the loopback server
HEAVY = ("litellm", "tiktoken", "openai")
_REPORT = """
import atexit, json, sys

def _report():
    loaded = sorted({name.split(".")[0] for name in list(sys.modules)} & set(%r))
    sys.stderr.write("\\nLOADED " + json.dumps(loaded) + "\\n")

atexit.register(_report)
from promptbench.cli import main
sys.exit(main(sys.argv[1:]))
""" % (HEAVY,)


def run_cli(*args: str) -> tuple[int, str, str, list[str]]:
    """``promptbench ARGS`` in a fresh process: exit code, stdout, stderr (without the
    report) and the heavy packages it had imported when it ended."""
    env = {k: v for k, v in os.environ.items() if k not in ("LITELLM_LOCAL_MODEL_COST_MAP", "TIKTOKEN_CACHE_DIR")}
    proc = subprocess.run([sys.executable, "-c", _REPORT, *args], capture_output=True, text=True, env=env, timeout=300)
    err, _, report = proc.stderr.rpartition("\nLOADED ")
    assert report, f"no report: the process died early\n{proc.stderr}"
    return proc.returncode, proc.stdout, err, json.loads(report)


@pytest.fixture
def ws(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    workspace.save(P, SIMPLE_PROMPT, "v1")
    (workspace.root / "promptbench.toml").write_text(f"""
[compare]
default_models = ["loop"]

[models.loop]
model = "{MODEL}"
api_base = "{openai_server.base_url}"
api_key_env = "PB_TEST_KEY"

[models.unpriced]
model = "openai/some-gateway-model"
api_base = "{openai_server.base_url}"
api_key_env = "PB_TEST_KEY"
""")
    return workspace


@pytest.fixture(scope="module")
def litellm():
    from promptbench.core.providers.litellm_setup import import_litellm

    return import_litellm()


def litellm_cost(litellm, model: str, input_tokens: int, output_tokens: int) -> float:
    cost_in, cost_out = litellm.cost_per_token(model=model, prompt_tokens=input_tokens, completion_tokens=output_tokens)
    return cost_in + cost_out


def tiktoken_message_tokens(messages: list[dict], encoding_name: str) -> int:
    """OpenAI's chat accounting (3 per message, 3 to prime the reply) with tiktoken itself."""
    import tiktoken

    enc = tiktoken.get_encoding(encoding_name)
    return 3 + sum(3 + len(enc.encode_ordinary(m["role"])) + len(enc.encode_ordinary(m["content"])) for m in messages)


def rendered(ws, test: int) -> list[dict]:
    code, out, err, _ = run_cli("--workspace", str(ws.root), "render", P, "--test", str(test), "--json")
    assert code == 0, err
    return json.loads(out)["messages"]


def test_compare_against_an_openai_compatible_model_never_imports_litellm_and_costs_what_litellm_says(ws, openai_server, litellm):
    openai_server.set_scenario("gpt-4o-mini", prompt_tokens=25, completion_tokens=20)
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "compare", P, "--test", "0", "-m", "loop", "--json")
    assert code == 0, err
    assert loaded == []
    (run,) = json.loads(out)["runs"]
    assert run["status"] == "finished" and run["input_tokens_reported"] and run["tokens_reported"]
    assert (run["input_tokens"], run["output_tokens"]) == (25, 20)
    assert run["cost_usd"] == litellm_cost(litellm, MODEL, 25, 20) and run["cost_note"] == "price from litellm's price map"
    estimated = tiktoken_message_tokens(rendered(ws, 0), "o200k_base")
    assert f"~{estimated} input tokens, up to 64 output tokens" in err


def test_counts_without_usage_are_tiktokens_and_the_cost_is_litellms(ws, openai_server, litellm):
    import tiktoken

    openai_server.set_scenario("gpt-4o-mini", include_usage=False)
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "compare", P, "--test", "1", "-m", "loop", "--json")
    assert code == 0, err
    assert loaded == []
    (run,) = json.loads(out)["runs"]
    assert not run["input_tokens_reported"] and not run["tokens_reported"]
    assert run["input_tokens"] == tiktoken_message_tokens(rendered(ws, 1), "o200k_base")
    assert run["output_tokens"] == len(tiktoken.get_encoding("o200k_base").encode_ordinary(run["output"]))
    assert run["cost_usd"] == litellm_cost(litellm, MODEL, run["input_tokens"], run["output_tokens"])


def test_a_model_litellms_map_does_not_price_is_unknown_without_litellm(ws):
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "compare", P, "--test", "0", "-m", "unpriced", "--json")
    assert code == 0, err
    assert loaded == []
    (run,) = json.loads(out)["runs"]
    assert run["cost_usd"] is None and run["cost_note"].startswith("no price for openai/some-gateway-model in litellm's price map")
    assert "unknown price" in err


def test_eval_with_an_openai_compatible_model_never_imports_litellm(ws, openai_server):
    openai_server.set_scenario("gpt-4o-mini", chunks=["Hello Ada!"])
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "eval", P, "--test", "0", "-m", "loop", "--json")
    assert code == 0, err
    assert loaded == []
    report = json.loads(out)
    assert report["summary"]["passed"] == 1 and report["summary"]["errors"] == 0


def test_models_prices_from_litellms_map_without_litellm(ws, litellm):
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "models", "--json")
    assert code == 0, err
    assert loaded == []
    rows = {row["name"]: row for row in json.loads(out)}
    n = 1000  # as pricing.unit_prices asks
    assert rows["loop"]["input_cost_per_mtok"] == litellm_cost(litellm, MODEL, n, 0) / n * 1_000_000
    assert rows["loop"]["output_cost_per_mtok"] == litellm_cost(litellm, MODEL, 0, n) / n * 1_000_000
    assert rows["unpriced"]["input_cost_per_mtok"] is None
    assert rows["local/smollm2-135m-instruct"]["input_cost_per_mtok"] == 0.0


@pytest.mark.parametrize("args", [["list", "--json"], ["history", P, "--json"], ["render", P, "--test", "0", "--json"],
                                  ["diff", P, "HEAD"], ["label", P, "--json"]])
def test_commands_on_prompts_import_none_of_them(ws, args):
    code, _, err, loaded = run_cli("--workspace", str(ws.root), *args)
    assert code == 0, err
    assert loaded == []


@pytest.mark.local_model
def test_compare_on_the_embedded_local_model_never_imports_litellm(ws):
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "compare", P, "--test", "0", "-m",
                                     "local/smollm2-135m-instruct", "--json")
    assert code == 0, err
    assert loaded == []
    (run,) = json.loads(out)["runs"]
    assert run["status"] == "finished" and run["cost_usd"] == 0.0


def test_a_price_only_litellm_can_work_out_still_comes_from_litellm(ws, litellm):
    """The control: the check sees litellm when a command does need it. Gemini's prices
    are tiered by prompt length, which price_map leaves to litellm."""
    model = "gemini/gemini-2.5-pro"
    with open(ws.root / "promptbench.toml", "a") as f:
        f.write(f'\n[models.tiered]\nmodel = "{model}"\n')
    code, out, err, loaded = run_cli("--workspace", str(ws.root), "models", "--json", "--no-ollama")
    assert code == 0, err
    assert "litellm" in loaded
    row = {r["name"]: r for r in json.loads(out)}["tiered"]
    assert row["input_cost_per_mtok"] == litellm_cost(litellm, model, 1000, 0) / 1000 * 1_000_000


# -- a command run as the process ends without Python's teardown (cli._EndWithoutTeardown) ----

def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "promptbench", *args], capture_output=True, text=True, timeout=300)


def test_run_as_the_process_a_command_keeps_its_exit_code_its_output_and_its_stored_runs(ws, openai_server):
    from promptbench.core.db.runs import RunStore

    openai_server.set_scenario("gpt-4o-mini", chunks=["Goodbye."])  # fails "mentions name"
    proc = run_module("--workspace", str(ws.root), "eval", P, "--test", "0", "-m", "loop", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)  # all of it was flushed
    assert report["summary"]["failed"] == 1
    proc = run_module("--workspace", str(ws.root), "compare", P, "--test", "0", "-m", "loop", "--json")
    assert proc.returncode == 0, proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    runs = RunStore(ws.root / ".promptbench" / "promptbench.db")
    try:
        stored = runs.get_run(run["run_id"])
    finally:
        runs.close()
    assert stored["status"] == "finished" and stored["output"] == "Goodbye."
    assert run_module("--workspace", str(ws.root), "render", "nope").returncode == 2
    assert run_module("--version").returncode == 0


def test_nothing_of_promptbench_registers_an_atexit_callback_before_main_runs():
    code = "import atexit, promptbench, promptbench.cli; print(atexit._ncallbacks())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
