"""Keys and failures classed and priced honestly: a model whose key is known to be missing
is not sent (class auth, cost $0, still stored); a provider's 401 or "missing credentials"
is auth; a failed call costs $0 unless the provider reported usage; timings have a start
(RequestSent) and an end (the terminal event's t_ns) the fronts can count between."""

from __future__ import annotations

import dataclasses

import pytest

from promptbench.core.engine import events as ev
from promptbench.core.settings.config import load_settings, resolve_model
from promptbench.core.engine.engine import ComparisonRequest, Engine
from promptbench.core.db.runs import RunStore
from promptbench.core.settings.secrets import missing_key
from tests.core.engine_helpers import MESSAGES, Collector, model, run_comparison, settings_for

WORDS = ["Hello", " there", " friend", "!"]


def run_with_default_keys(tmp_path, models, runs=None):
    """As the app runs: keys looked up from the environment / keyring."""
    collector = Collector()
    engine = Engine(settings_for(tmp_path), collector, runs=runs)
    try:
        request = ComparisonRequest(messages=MESSAGES, models=models, prompt_path="p.prompt.yml", prompt_version="draft:x")
        comparison = engine.compare(request)
        comparison_id, run_ids = comparison.id, comparison.run_ids
        assert comparison.wait(30)
    finally:
        engine.shutdown()
    results = collector.terminal()
    return [results[r] for r in run_ids], collector


def test_a_model_whose_key_is_missing_is_not_sent(openai_server, tmp_path, monkeypatch):
    monkeypatch.delenv("LOOP_KEY", raising=False)
    openai_server.set_scenario("keyed", chunks=WORDS)
    keyed = model(openai_server, "keyed", api_key_env="LOOP_KEY")
    assert missing_key(keyed) == "LOOP_KEY is not set"
    before = len(openai_server.log())
    db = tmp_path / "runs.db"
    with RunStore(db) as runs:
        (result,), collector = run_with_default_keys(tmp_path, [keyed], runs=runs)
        runs.flush()
        stored = runs.get_run(result.run_id)
    assert len(openai_server.log()) == before, "a request reached the server"
    assert isinstance(result, ev.RunFailed) and result.error_class == "auth"
    assert "LOOP_KEY is not set" in result.message and "nothing was sent" in result.message
    assert result.metrics.cost_usd == 0.0 and "not charged" in result.metrics.cost_note
    assert not collector.of(result.run_id, ev.RequestSent)
    assert stored["status"] == "error" and stored["error_class"] == "auth" and stored["cost_usd"] == 0.0
    assert stored["kind"] == "comparison"


def test_the_provider_default_key_missing_is_auth_without_a_request(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    cfg = resolve_model(load_settings(tmp_path), "openai/gpt-4o-mini")
    assert missing_key(cfg) == "OPENAI_API_KEY is not set"
    (result,), _ = run_with_default_keys(tmp_path, [cfg])
    assert result.error_class == "auth" and "OPENAI_API_KEY" in result.message
    assert result.metrics.cost_usd == 0.0


def test_a_gateway_without_any_key_configured_is_still_sent(openai_server, tmp_path):
    openai_server.set_scenario("open", chunks=WORDS)
    gateway = model(openai_server, "open")  # api_base, no api_key_env, no keyring
    assert missing_key(gateway) is None
    (result,), _ = run_with_default_keys(tmp_path, [gateway])
    assert isinstance(result, ev.RunFinished) and result.output == "".join(WORDS)


def test_a_401_is_auth_and_costs_nothing(openai_server, tmp_path):
    openai_server.set_scenario("denied", fault="status", status_code=401, error_message="Incorrect API key provided")
    (result,), _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "denied")])
    assert result.error_class == "auth"
    assert result.metrics.cost_usd == 0.0 and result.metrics.input_tokens  # estimated, but not charged


def test_a_stream_that_breaks_part_way_keeps_an_estimated_cost_and_says_so(openai_server, tmp_path):
    openai_server.set_scenario("cut", chunks=WORDS, fault="reset_mid_stream", fault_after_chunks=2)
    (result,), _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "cut")])
    assert result.error_class == "connection" and result.output == "Hello there"
    assert result.metrics.cost_usd and result.metrics.cost_usd > 0
    assert result.metrics.cost_note.startswith("estimated: the stream failed part way")


def test_litellm_missing_credentials_is_auth():
    from promptbench.core.providers.litellm_setup import import_litellm
    from promptbench.core.providers.transports.litellm_stream import classify_litellm_error

    litellm = import_litellm()
    exc = litellm.InternalServerError("litellm.InternalServerError: OpenAIException - Missing credentials. Please pass "
                                      "an `api_key`", llm_provider="openai", model="gpt-4o-mini")
    assert classify_litellm_error(exc).error_class == "auth"
    other = litellm.InternalServerError("upstream overloaded", llm_provider="openai", model="gpt-4o-mini")
    assert classify_litellm_error(other).error_class == "server"
    # what `promptbench eval` on openai/gpt-4o-mini with a key but no network got from litellm 1.106.2
    offline = litellm.InternalServerError("litellm.InternalServerError: InternalServerError: OpenAIException - "
                                          "Connection error.", llm_provider="openai", model="gpt-4o-mini")
    assert classify_litellm_error(offline).error_class == "connection"


def test_request_sent_and_end_times_bracket_the_run(openai_server, tmp_path):
    openai_server.set_scenario("timed", chunks=WORDS, first_token_delay_s=0.05, chunk_interval_s=0.01)
    (result,), collector, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "timed")])
    sent = collector.of(result.run_id, ev.RequestSent)
    started = collector.of(result.run_id, ev.RunStarted)[0]
    assert len(sent) == 1 and started.t_ns <= sent[0].t_ns < result.t_ns
    # total_ms is exactly request sent -> end
    assert result.metrics.total_ms == pytest.approx((result.t_ns - sent[0].t_ns) / 1e6, abs=0.001)


def test_retries_send_again_with_their_attempt_number(openai_server, tmp_path):
    openai_server.set_scenario("busy", chunks=WORDS, fault="status", status_code=429, retry_after="0", fail_times=1)
    (result,), collector, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "busy")])
    assert isinstance(result, ev.RunFinished)
    assert [e.attempt for e in collector.of(result.run_id, ev.RequestSent)] == [0, 1]


def test_stored_failed_runs_are_priced_like_the_event(openai_server, tmp_path):
    openai_server.set_scenario("boom", fault="status", status_code=500)
    with RunStore(tmp_path / "runs.db") as runs:
        (result,), _, _ = run_comparison(settings_for(tmp_path), [dataclasses.replace(model(openai_server, "boom"))],
                                         runs=runs)
        runs.flush()
        stored = runs.get_run(result.run_id)
    assert stored["cost_usd"] == 0.0 and stored["error_class"] == "server"


@pytest.mark.parametrize("api_base", ["http://promptbench-test.invalid/v1", "http://127.0.0.1:9/v1"])
def test_a_provider_that_cannot_be_reached_is_a_connection_error(tmp_path, api_base):
    """Through litellm (an Anthropic model): no DNS answer, or nothing listening, is `connection`
    (litellm wraps both in InternalServerError), costs nothing, and names the host."""
    anthropic = dataclasses.replace(resolve_model(load_settings(tmp_path), "anthropic/claude-3-5-haiku-latest"),
                                    api_base=api_base, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)
    (result,), _, _ = run_comparison(settings_for(tmp_path, max_retries=0), [anthropic], timeout=60)
    assert isinstance(result, ev.RunFailed) and result.error_class == "connection", (result.error_class, result.message)
    assert result.metrics.cost_usd == 0.0
    assert api_base.split("//")[1].split("/")[0].split(":")[0] in result.message
