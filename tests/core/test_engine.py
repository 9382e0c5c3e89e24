"""The engine against a real OpenAI-compatible streaming server on 127.0.0.1, with faults."""

from __future__ import annotations

import threading

import pytest

from promptbench.core.engine import events as ev
from promptbench.testing.fakeclient import free_port
from tests.core.engine_helpers import model, run_comparison, settings_for

WORDS = [f" w{i}" for i in range(20)]


def test_three_models_stream_concurrently_with_exact_text_and_metrics(openai_server, tmp_path):
    for name in ("a", "b", "c"):
        openai_server.set_scenario(name, chunks=WORDS, first_token_delay_s=0.05, chunk_interval_s=0.005,
                                   prompt_tokens=11, completion_tokens=20)
    results, collector, _ = run_comparison(settings_for(tmp_path), [model(openai_server, n) for n in "abc"])
    for result in results:
        assert isinstance(result, ev.RunFinished), result
        assert result.output == "".join(WORDS)
        m = result.metrics
        assert m.ttft_ms is not None and m.ttft_ms >= 50
        assert m.tokens_reported and m.output_tokens == 20 and m.input_tokens == 11 and m.input_tokens_reported
        assert m.cost_usd == pytest.approx(11 * 1e-6 + 20 * 2e-6)
        assert m.tokens_per_s and m.tokens_per_s > 0 and m.itl_p50_ms is not None and m.total_ms >= m.ttft_ms
        assert m.finish_reason == "stop" and m.retries == 0
        deltas = collector.of(result.run_id, ev.TextDelta)
        assert "".join(d.text for d in deltas) == result.output
        assert not deltas[0].tokens_reported and deltas[-1].output_tokens >= 1  # live estimate while streaming
        assert len(collector.of(result.run_id, ev.FirstToken)) == 1
    # the three ran at the same time: their streams overlapped
    log = openai_server.log()
    starts = sorted(r["received_ns"] for r in log)
    ends = sorted(r["ended_ns"] for r in log)
    assert starts[-1] < ends[0]


@pytest.mark.parametrize("fault, fields, error_class, keeps_partial", [
    ("status", dict(status_code=500), "server", False),
    ("status", dict(status_code=401), "auth", False),
    ("status", dict(status_code=400, error_code="context_length_exceeded"), "bad_request", False),
    ("status", dict(status_code=429, retry_after="0"), "rate_limit", False),
    ("reset_mid_stream", dict(fault_after_chunks=3), "connection", True),
    ("close_mid_stream", dict(fault_after_chunks=3), "connection", True),
    ("stall_before_first_token", dict(), "timeout", False),
    ("stall_mid_stream", dict(fault_after_chunks=3), "timeout", True),
    ("malformed_chunk", dict(fault_after_chunks=3), "server", True),
    ("content_filter", dict(fault_after_chunks=3), "content_filter", True),
    ("close_mid_header", dict(), "connection", False),
])
def test_faults_end_with_the_right_class_and_leave_other_runs_alone(openai_server, tmp_path, fault, fields, error_class, keeps_partial):
    openai_server.set_scenario("ok", chunks=WORDS, chunk_interval_s=0.002)
    openai_server.set_scenario("bad", chunks=WORDS, chunk_interval_s=0.002, fault=fault, **fields)
    results, _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "ok"), model(openai_server, "bad")])
    ok, bad = results
    assert isinstance(ok, ev.RunFinished) and ok.output == "".join(WORDS)
    assert isinstance(bad, ev.RunFailed), bad
    assert bad.error_class == error_class, bad.message
    assert bad.message
    if keeps_partial:
        assert bad.output == "".join(WORDS[:3])
    else:
        assert bad.output == ""


def test_retry_after_is_honoured_and_counted(openai_server, tmp_path):
    openai_server.set_scenario("busy", chunks=WORDS, fault="status", status_code=429, retry_after="1", fail_times=1)
    openai_server.set_scenario("down", chunks=WORDS, fault="status", status_code=503, fail_times=2)
    results, collector, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "busy"), model(openai_server, "down")])
    busy, down = results
    assert isinstance(busy, ev.RunFinished) and busy.metrics.retries == 1
    assert isinstance(down, ev.RunFinished) and down.metrics.retries == 2
    retry = collector.of(busy.run_id, ev.Retrying)
    assert retry and retry[0].wait_s == pytest.approx(1.0)
    log = [r for r in openai_server.log() if r["model"] == "busy"]
    assert (log[1]["received_ns"] - log[0]["received_ns"]) / 1e9 >= 0.95


def test_rate_limit_gives_up_after_max_retries(openai_server, tmp_path):
    openai_server.set_scenario("busy", fault="status", status_code=429, retry_after="0")
    (result,), _, _ = run_comparison(settings_for(tmp_path, max_retries=2), [model(openai_server, "busy")])
    assert isinstance(result, ev.RunFailed) and result.error_class == "rate_limit" and result.metrics.retries == 2


def test_connection_refused(tmp_path, openai_server):
    port = free_port()
    cfg = model(openai_server, "x", api_base=f"http://127.0.0.1:{port}/v1")
    (result,), _, _ = run_comparison(settings_for(tmp_path), [cfg])
    assert isinstance(result, ev.RunFailed) and result.error_class == "connection"
    assert f"127.0.0.1:{port}" in result.message


def test_stream_without_done_still_finishes(openai_server, tmp_path):
    openai_server.set_scenario("nd", chunks=WORDS, fault="no_done")
    (result,), _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "nd")])
    assert isinstance(result, ev.RunFinished) and result.output == "".join(WORDS)


def test_empty_completion(openai_server, tmp_path):
    openai_server.set_scenario("empty", fault="empty_completion")
    (result,), _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "empty")])
    assert isinstance(result, ev.RunFinished) and result.output == ""
    assert result.metrics.ttft_ms is None and result.metrics.output_tokens == 0 and result.metrics.tokens_per_s is None


def test_five_megabyte_completion(openai_server, tmp_path):
    openai_server.set_scenario("huge", fault="huge")
    (result,), _, _ = run_comparison(settings_for(tmp_path), [model(openai_server, "huge")], timeout=120)
    assert isinstance(result, ev.RunFinished)
    assert len(result.output) == 5_000_000
    assert result.metrics.tokens_reported


def test_model_missing_from_price_map_has_no_cost_but_finishes(openai_server, tmp_path):
    openai_server.set_scenario("mystery-model-xyz", chunks=WORDS)
    cfg = model(openai_server, "mystery-model-xyz", input_cost_per_mtok=None, output_cost_per_mtok=None)
    (result,), _, _ = run_comparison(settings_for(tmp_path), [cfg])
    assert isinstance(result, ev.RunFinished)
    assert result.metrics.cost_usd is None and "mystery-model-xyz" in result.metrics.cost_note


def test_cancel_one_run_leaves_the_other(openai_server, tmp_path):
    from promptbench.core.engine.engine import ComparisonRequest, Engine
    from tests.core.engine_helpers import MESSAGES, Collector

    openai_server.set_scenario("slow", chunks=WORDS * 10, chunk_interval_s=0.05)
    openai_server.set_scenario("fast", chunks=WORDS, chunk_interval_s=0.002)
    collector = Collector()
    first_token = threading.Event()

    def on_event(event):
        collector(event)
        if isinstance(event, ev.FirstToken):
            first_token.set()

    engine = Engine(settings_for(tmp_path), on_event, key_lookup=lambda m: None)
    try:
        comparison = engine.compare(ComparisonRequest(MESSAGES, [model(openai_server, "slow"), model(openai_server, "fast")]))
        cid, (slow_id, fast_id) = comparison.id, comparison.run_ids
        assert first_token.wait(10)
        engine.cancel(slow_id)
        assert comparison.wait(20)
    finally:
        engine.shutdown()
    results = collector.terminal()
    assert isinstance(results[slow_id], ev.RunCancelled) and 0 < len(results[slow_id].output) < len("".join(WORDS * 10))
    assert isinstance(results[fast_id], ev.RunFinished)


def test_shutdown_mid_stream_cancels_everything(openai_server, tmp_path):
    from promptbench.core.engine.engine import ComparisonRequest, Engine
    from tests.core.engine_helpers import MESSAGES, Collector

    openai_server.set_scenario("slow", chunks=WORDS * 50, chunk_interval_s=0.05)
    collector = Collector()
    engine = Engine(settings_for(tmp_path), collector, key_lookup=lambda m: None)
    engine.compare(ComparisonRequest(MESSAGES, [model(openai_server, "slow")] * 3))
    engine.shutdown()
    results = collector.terminal()
    assert len(results) == 3 and all(isinstance(r, ev.RunCancelled) for r in results.values())
    assert not engine._thread.is_alive()


def test_provider_concurrency_limit(openai_server, tmp_path):
    openai_server.set_scenario("lim", chunks=WORDS[:5], first_token_delay_s=0.2)
    cfg = model(openai_server, "lim", max_concurrency=1)
    results, _, _ = run_comparison(settings_for(tmp_path), [cfg, cfg, cfg])
    assert all(isinstance(r, ev.RunFinished) for r in results)
    log = sorted(openai_server.log(), key=lambda r: r["received_ns"])
    for earlier, later in zip(log, log[1:]):
        assert later["received_ns"] >= earlier["ended_ns"]


def test_cancel_right_after_compare_is_stored_as_cancelled(openai_server, tmp_path):
    from promptbench.core.engine.engine import ComparisonRequest, Engine
    from promptbench.core.db.runs import RunStore
    from tests.core.engine_helpers import MESSAGES, Collector

    openai_server.set_scenario("slow", chunks=WORDS, chunk_interval_s=0.05)
    runs = RunStore(tmp_path / "runs.db")
    collector = Collector()
    engine = Engine(settings_for(tmp_path), collector, runs=runs, key_lookup=lambda m: None)
    try:
        comparison = engine.compare(ComparisonRequest(MESSAGES, [model(openai_server, "slow")]))
        cid, (run_id,) = comparison.id, comparison.run_ids
        engine.cancel(run_id)  # possibly before the run got past its warm-up
        assert comparison.wait(20)
    finally:
        engine.shutdown()
    runs.flush()
    assert runs.get_run(run_id)["status"] == "cancelled"
    runs.close()  # raises if a write had no row to update
