"""The batch runner: a real git workspace, a real SQLite file, the real engine and the
loopback OpenAI server (whose request log shows what was actually sent)."""

from __future__ import annotations

import threading
import time

import pytest

from promptbench.core.engine import events as ev
from promptbench.core.batch.runner import BatchRunner
from promptbench.core.batch.plan import BatchPlan
from promptbench.core.engine.engine import ComparisonRequest, Engine
from promptbench.core.errors import PromptbenchError
from promptbench.core.db.runs import RunStore
from tests.core.engine_helpers import model, settings_for
from tests.process_helpers import dead_owner

REL = "batch.prompt.yml"
PROMPT = """\
name: Batch
model: openai/gpt-4o-mini
modelParameters:
  maxTokens: 16
messages:
  - role: system
    content: Be brief.
  - role: user
    content: '{{greeting}} number {{n}}'
testData:
  - {greeting: Hi, n: 0}
  - {greeting: Hi, n: 1}
  - {greeting: Hi, n: 2}
"""
WORDS = [" one", " two", " three"]


@pytest.fixture
def bench(workspace, openai_server, tmp_path):
    workspace.create(REL, PROMPT)
    runs = RunStore(tmp_path / "runs.db")
    settings = settings_for(tmp_path, max_retries=0)
    engine = Engine(settings, runs=runs, key_lookup=lambda m: "sk-test-key-0000")
    runner = BatchRunner(engine, runs, workspace, settings)
    yield runner
    runner.close()
    engine.shutdown()
    runs.close()


def models(server, *names, **scenario):
    for name in names:
        server.set_scenario(name, **{"chunks": WORDS, **scenario})
    return [model(server, name) for name in names]


def sent(server, since=0) -> list[tuple[str, str]]:
    """(model, last user message) of every request the server received."""
    return [(r["model"], r["body"]["messages"][-1]["content"]) for r in server.log(since)]


def cell_request(runner, batch_id, row) -> tuple[str, str]:
    plan = BatchPlan.from_config(REL, runner.get(batch_id)["config"])
    messages = plan.rendered[(row["prompt_version"], row["test_case"])].messages
    return row["model_name"], messages[-1]["content"]


def run(runner, plan, timeout=30, **kw):
    batch_id = runner.start(plan, **kw)
    assert runner.wait(batch_id, timeout), "batch did not end"
    return batch_id


# --- planning ----------------------------------------------------------------------------


def test_plan_is_versions_x_test_cases_x_models_x_repeats(bench, openai_server, workspace):
    v1 = workspace.history(REL)[0].sha
    workspace.save(REL, PROMPT.replace("Be brief.", "Be very brief."))
    workspace.set_label(REL, "prod", v1)
    ms = models(openai_server, "a", "b")
    plan = bench.plan(REL, versions=["prod", None], models=ms, repeats=2)
    assert [v.version for v in plan.versions] == [v1, workspace.history(REL)[0].sha]
    assert plan.total == len(plan.cells) == 2 * 3 * 2 * 2
    assert len({c.key for c in plan.cells}) == plan.total
    assert plan.cells[0].model_name == "a" and plan.cells[1].model_name == "b"  # models interleave
    subset = bench.plan(REL, versions=[v1, "prod"], test_cases=[2, 0], models=ms)  # same version once
    assert subset.total == 1 * 2 * 2 and subset.test_cases == [2, 0]
    with pytest.raises(PromptbenchError, match="no test case 3"):
        bench.plan(REL, test_cases=[3], models=ms)

    est = bench.estimate(plan)
    assert est["cells"] == plan.total and est["input_tokens"] > 0
    assert est["max_output_tokens"] == 16 * plan.total
    assert est["max_cost_usd"] == pytest.approx(sum(r["max_cost_usd"] for r in est["per_model"]))
    assert all(r["cells"] == plan.total // 2 for r in est["per_model"])


def test_a_test_case_missing_a_variable_fails_before_anything_runs(bench, openai_server, workspace, tmp_path):
    workspace.save(REL, PROMPT.replace("  - {greeting: Hi, n: 1}", "  - {greeting: Hi}"))
    with pytest.raises(PromptbenchError) as err:
        bench.plan(REL, models=models(openai_server, "a"))
    message = str(err.value)
    assert REL in message and "test case 1" in message and "{{n}}" in message
    assert "test case 0" not in message and "test case 2" not in message
    assert openai_server.log() == [] and bench.batches.list() == []


# --- running -----------------------------------------------------------------------------


def test_a_small_batch_runs_to_completion(bench, openai_server, workspace):
    plan = bench.plan(REL, models=models(openai_server, "a", "b"), repeats=2)
    batch_id = run(bench, plan)
    batch = bench.get(batch_id)
    assert batch["status"] == "finished" and batch["ended_at"]
    assert (batch["total_cells"], batch["finished_cells"], batch["error_cells"]) == (12, 12, 0)
    assert batch["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in bench.results(batch_id)))
    results = bench.results(batch_id)
    assert [r["cell_key"] for r in results] == [c.key for c in plan.cells]
    version = plan.versions[0].version
    assert version == workspace.history(REL)[0].sha and len(openai_server.log()) == 12
    for row in results:
        assert row["status"] == "finished" and row["output"] == "".join(WORDS)
        assert row["output_tokens"] == 3 and row["ttft_ms"] is not None and row["cost_usd"] > 0
        stored = bench.runs.get_run(row["run_id"])
        assert stored["status"] == "finished"
        assert (stored["prompt_path"], stored["prompt_version"], stored["test_case"]) == (REL, version, row["test_case"])
        assert stored["messages"][-1]["content"] == f"Hi number {row['test_case']}"
    assert sorted(sent(openai_server)) == sorted(cell_request(bench, batch_id, r) for r in results)


def test_a_faulty_models_cells_end_as_errors_without_affecting_the_others(bench, openai_server):
    ok = models(openai_server, "ok")
    bad = models(openai_server, "bad", fault="status", status_code=401)
    progress = []
    batch_id = run(bench, bench.plan(REL, models=ok + bad), on_progress=progress.append)
    by_model = {}
    for row in bench.results(batch_id):
        by_model.setdefault(row["model_name"], []).append(row)
    assert all(r["status"] == "finished" and r["output"] == "".join(WORDS) for r in by_model["ok"])
    assert all(r["status"] == "error" and r["error_class"] == "auth" and r["run_status"] == "error"
               for r in by_model["bad"])
    batch = bench.get(batch_id)
    assert batch["status"] == "finished" and (batch["finished_cells"], batch["error_cells"]) == (3, 3)
    assert progress[-1].final and (progress[-1].done, progress[-1].errors) == (6, 3)


def test_cancel_mid_batch_then_resume_runs_exactly_the_unfinished_cells(bench, openai_server, workspace):
    ms = models(openai_server, "a", "b", first_token_delay_s=0.15)
    plan = bench.plan(REL, models=ms, test_cases=[0, 1, 2])
    batch_id = bench.start(plan, concurrency=2)
    while bench.get(batch_id)["cells"]["finished"] < 2:
        assert not bench.wait(batch_id, 0.02), "the batch ended before it could be cancelled"
    bench.cancel(batch_id)
    assert bench.wait(batch_id, 10)
    batch = bench.get(batch_id)
    assert batch["status"] == "cancelled"
    rows = {r["cell_key"]: r for r in bench.results(batch_id)}
    finished = {k for k, r in rows.items() if r["status"] == "finished"}
    assert 2 <= len(finished) < 6
    assert all(r["status"] in ("pending", "cancelled") for k, r in rows.items() if k not in finished)
    assert all(r["run_status"] == "cancelled" for r in rows.values() if r["status"] == "cancelled")
    before = openai_server.log()[-1]["id"]

    # the file changes after the batch was planned: a resume still sends what was planned
    workspace.save(REL, PROMPT.replace("number", "NUMBER"))
    progress = []
    assert bench.resume(batch_id, on_progress=progress.append) == batch_id
    assert bench.wait(batch_id, 30)
    again = sent(openai_server, before)
    expected = [cell_request(bench, batch_id, r) for k, r in rows.items() if k not in finished]
    assert sorted(again) == sorted(expected)
    assert not {cell_request(bench, batch_id, rows[k]) for k in finished} & set(again)
    after = {r["cell_key"]: r for r in bench.results(batch_id)}
    assert all(r["status"] == "finished" for r in after.values())
    assert all(after[k]["run_id"] == rows[k]["run_id"] for k in finished)  # finished cells untouched
    assert bench.get(batch_id)["status"] == "finished"
    assert progress[0].done >= len(finished) and progress[-1].done == progress[-1].total == 6


def test_errored_cells_rerun_on_resume_only_when_asked(bench, openai_server):
    ms = models(openai_server, "ok") + models(openai_server, "flaky", fault="status", status_code=401, fail_times=3)
    batch_id = run(bench, bench.plan(REL, models=ms))
    assert bench.get(batch_id)["cells"]["error"] == 3
    before = openai_server.log()[-1]["id"]
    bench.resume(batch_id, rerun_errors=False)
    assert bench.wait(batch_id, 10)
    assert openai_server.log(before) == [] and bench.get(batch_id)["cells"]["error"] == 3
    bench.resume(batch_id)
    assert bench.wait(batch_id, 30)
    assert {m for m, _ in sent(openai_server, before)} == {"flaky"} and len(openai_server.log(before)) == 3
    assert bench.get(batch_id)["cells"]["finished"] == 6


def test_a_batch_left_running_by_a_killed_process_is_marked_interrupted_and_resumes(bench, openai_server):
    plan = bench.plan(REL, models=models(openai_server, "a"))
    dead = "deadbatch0000000"
    bench.batches.create(dead, REL, plan.to_config(4), plan.cells)  # as a killed process left it
    bench.batches._submit("owner", lambda db: db.execute("UPDATE batches SET owner = ? WHERE id = ?", [dead_owner(), dead]), wait=True)
    slow = bench.start(bench.plan(REL, models=models(openai_server, "slow", first_token_delay_s=0.5)))
    assert bench.mark_interrupted() == 1  # the batch running in this process is left alone
    assert bench.get(dead)["status"] == "interrupted" and bench.get(slow)["status"] == "running"
    assert bench.wait(slow, 30) and bench.get(slow)["status"] == "finished"
    bench.resume(dead)
    assert bench.wait(dead, 30)
    assert bench.get(dead)["status"] == "finished" and bench.get(dead)["cells"]["finished"] == 3


def test_progress_is_throttled_monotonic_and_ends_with_done_equal_total(bench, openai_server):
    plan = bench.plan(REL, models=models(openai_server, "a", "b", "c", "d", chunk_interval_s=0.01), repeats=3)
    calls = []
    run(bench, plan, on_progress=lambda p: calls.append((time.perf_counter(), p, threading.current_thread().name)))
    progress = [p for _, p, _ in calls]
    assert [p.done for p in progress] == sorted(p.done for p in progress)
    assert [p.elapsed_s for p in progress] == sorted(p.elapsed_s for p in progress)
    assert progress[-1].final and progress[-1].done == progress[-1].total == 36 and progress[-1].eta_s == 0
    assert not any(p.final for p in progress[:-1])
    assert all(name.startswith("promptbench-batch-") for _, _, name in calls)
    stamps = [t for t, p, _ in calls if not p.final]
    assert all(b - a >= 0.09 for a, b in zip(stamps, stamps[1:]))  # the throttle, not a speed
    assert all(p.eta_s is None or p.eta_s >= 0 for p in progress)
    assert progress[-1].running_cost_usd == pytest.approx(bench.get(progress[-1].batch_id)["cost_usd"])


def test_at_most_concurrency_cells_are_in_flight(bench, openai_server):
    plan = bench.plan(REL, models=models(openai_server, "a", "b", "c", "d", first_token_delay_s=0.05), repeats=2)
    run(bench, plan, concurrency=3)
    spans = [(r["received_ns"], r["chunks"][-1]["t_ns"]) for r in openai_server.log()]  # until [DONE] was sent
    assert len(spans) == 24
    points = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda p: (p[0], p[1]))
    level = peak = 0
    for _, step in points:
        level += step
        peak = max(peak, level)
    assert 2 <= peak <= 3


def test_subscribers_hear_every_event_even_when_one_breaks_and_the_batch_goes_on(bench, openai_server):
    seen = []

    def broken(event):
        raise RuntimeError("listener bug")

    bench.engine.subscribe(broken)
    bench.engine.subscribe(seen.append)
    batch_id = run(bench, bench.plan(REL, models=models(openai_server, "a")))
    # listeners added after the runner's may still be handling the last event when wait() returns
    deadline = time.monotonic() + 10
    while sum(isinstance(e, ev.ComparisonFinished) for e in seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sum(isinstance(e, ev.RunFinished) for e in seen) == 3
    assert sum(isinstance(e, ev.ComparisonFinished) for e in seen) == 3
    bench.engine.unsubscribe(seen.append)
    bench.engine.unsubscribe(broken)
    count = len(seen)
    bench.resume(batch_id)  # nothing left to run
    assert bench.wait(batch_id, 10) and len(seen) == count


def test_a_comparison_listener_hears_only_its_comparison_from_its_first_event(tmp_path, openai_server):
    mine, everything = [], []
    engine = Engine(settings_for(tmp_path), everything.append, key_lookup=lambda m: "sk-test-key-0000")
    try:
        ms = models(openai_server, "a", "b")
        other = engine.compare(ComparisonRequest([{"role": "user", "content": "Hi"}], ms))
        comparison = engine.compare(ComparisonRequest([{"role": "user", "content": "Hi"}], ms), listener=mine.append)
        # the run ids exist before any event: nothing can arrive for an unknown run
        assert len(comparison.run_ids) == 2 and comparison.run_for("a") == comparison.run_ids[0]
        assert comparison.wait(20) and other.wait(20) and comparison.done
        assert {getattr(e, "run_id", None) for e in mine} == {*comparison.run_ids, None}
        assert [type(e) for e in mine if getattr(e, "run_id", None) == comparison.run_ids[0]][0] is ev.RunStarted
        assert mine[-1] == ev.ComparisonFinished(comparison.id)
        assert len(everything) > len(mine) and all(e in everything for e in mine)
    finally:
        engine.shutdown()


def test_bad_arguments_are_refused_clearly(bench, openai_server):
    ms = models(openai_server, "a")
    with pytest.raises(PromptbenchError, match="listed twice"):
        bench.plan(REL, models=ms + ms)
    with pytest.raises(PromptbenchError, match="repeats"):
        bench.plan(REL, models=ms, repeats=0)
    with pytest.raises(PromptbenchError, match="concurrency"):
        bench.start(bench.plan(REL, models=ms), concurrency=0)
    with pytest.raises(PromptbenchError, match="no batch"):
        bench.resume("nope")


def test_a_prompt_without_test_data_runs_once_per_model_and_unknown_prices_show(bench, openai_server, workspace):
    rel = "plain.prompt.yml"
    workspace.create(rel, "name: Plain\nmessages:\n  - role: user\n    content: Hello\n")
    ms = models(openai_server, "a") + [model(openai_server, "unpriced", input_cost_per_mtok=None,
                                             output_cost_per_mtok=None, model="openai/no-such-model-xyz")]
    plan = bench.plan(rel, models=ms, repeats=2)
    assert plan.test_cases == [None] and plan.total == 4
    est = bench.estimate(plan)
    assert est["max_cost_usd"] is None and est["unknown_price_models"] == ["unpriced"]
    assert est["known_max_cost_usd"] > 0


def test_an_engine_shut_down_mid_batch_leaves_it_interrupted(workspace, openai_server, tmp_path):
    workspace.create(REL, PROMPT)
    settings = settings_for(tmp_path, max_retries=0)
    with RunStore(tmp_path / "runs.db") as runs:
        engine = Engine(settings, runs=runs, key_lookup=lambda m: "sk-test-key-0000")
        runner = BatchRunner(engine, runs, workspace, settings)
        plan = runner.plan(REL, models=models(openai_server, "a", "b", first_token_delay_s=0.3), repeats=3)
        batch_id = runner.start(plan, concurrency=2)
        while not openai_server.log():
            assert not runner.wait(batch_id, 0.02)
        engine.shutdown()
        assert runner.wait(batch_id, 20)
        batch = runner.get(batch_id)
        assert batch["status"] == "interrupted" and batch["cells"]["finished"] < plan.total
        assert batch["cells"]["pending"] + batch["cells"]["cancelled"] == plan.total - batch["cells"]["finished"]
        runner.close()
