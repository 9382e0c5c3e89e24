"""Automated evaluation (core/eval_run.py): a real git workspace, a real SQLite file, the
real engine and the loopback OpenAI server, whose request log shows what was sent - to
the models under test and to the judges (which are just other fake-server models)."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from promptbench.core.errors import PromptbenchError
from promptbench.core.eval.judges import choice_grammar
from promptbench.core.eval.runner import EvalRunner
from promptbench.core.engine.engine import Engine
from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore
from promptbench.testing.fakeclient import free_port
from tests.core.engine_helpers import model, settings_for
from tests.process_helpers import dead_owner

REL = "eval.prompt.yml"
GOOD = ['{"answer": ', '"hello 42"}']  # passes every check below
BAD = [" nope"]                       # fails the string, regex and schema checks
PROMPT = """\
name: Eval
model: openai/gpt-4o-mini
modelParameters:
  maxTokens: 16
messages:
  - role: user
    content: 'Tell me about {{topic}}'
testData:
  - {topic: cats, expected: '{"answer": "hello 42"}'}
  - {topic: dogs, expected: '{"answer": "hello 42"}'}
evaluators:
  - name: says hello
    string: {contains: hello}
  - name: has a number
    regex: {pattern: '\\d+'}
  - name: is an answer
    jsonSchema:
      schema: {type: object, required: [answer]}
  - name: judged
    llm:
      modelId: JUDGE
      prompt: 'Verdict on: {{completion}}'
      choices:
        - {choice: good, score: 1}
        - {choice: bad, score: 0}
"""
CHECKS = ["says hello", "has a number", "is an answer"]
JUDGES = ("judge", "judge-echo", "judge-down", "judge-maybe", "judge-slow")


def prompt_with(judge="judge", extra=""):
    return PROMPT.replace("JUDGE", judge) + extra


class Bench:
    def __init__(self, workspace, server, tmp_path):
        self.workspace, self.server, self.tmp_path = workspace, server, tmp_path
        self.runs = RunStore(tmp_path / "runs.db")
        catalog = {n: model(server, n) for n in JUDGES}
        catalog["judge-gone"] = model(server, "judge-gone", api_base=f"http://127.0.0.1:{free_port()}/v1")
        self.settings = dataclasses.replace(settings_for(tmp_path, max_retries=0), models=catalog)
        self.engines: list[Engine] = []
        self.runners: list[EvalRunner] = []
        server.set_scenario("judge", chunks=["good"])
        server.set_scenario("judge-echo", echo=True)
        server.set_scenario("judge-down", fault="status", status_code=500)
        server.set_scenario("judge-maybe", chunks=["maybe"])

    def runner(self, **settings) -> EvalRunner:
        """A runner (and engine) as a new process would make them."""
        s = dataclasses.replace(self.settings, **settings)
        engine = Engine(s, runs=self.runs, key_lookup=lambda m: "sk-test-key-0000")
        runner = EvalRunner(engine, self.runs, self.workspace, s)
        self.engines.append(engine)
        self.runners.append(runner)
        return runner

    def models(self, *names, **scenario):
        for name in names:
            self.server.set_scenario(name, **{"chunks": GOOD, **scenario})
        return [model(self.server, name) for name in names]

    def close(self):
        for runner in self.runners:
            runner.close()
        for engine in self.engines:
            engine.shutdown()
        self.runs.close()


@pytest.fixture
def bench(workspace, openai_server, tmp_path):
    b = Bench(workspace, openai_server, tmp_path)
    yield b
    b.close()


def finish(runner, eval_id, timeout=30):
    assert runner.wait(eval_id, timeout), "eval did not end"
    return runner.report(eval_id)


def verdicts(report, model_name=None):
    """{(test case, model, repeat, evaluator): passed} over the report's cells."""
    return {(c["test_case"], c["model"], c["repeat"], r["name"]): r["passed"]
            for c in report["cells"] if model_name in (None, c["model"]) for r in c["evaluators"]}


def requests_for(server, model_name, since=0):
    return [r for r in server.log(since) if r["model"] == model_name]


def cell_requests(server, since=0):
    """(model, test case) of every request to a model under test (not a judge)."""
    topics = {"cats": 0, "dogs": 1}
    return [(r["model"], topics[r["body"]["messages"][-1]["content"].rsplit(" ", 1)[1]])
            for r in server.log(since) if not r["model"].startswith("judge")]


# --- a whole eval --------------------------------------------------------------------------


def test_every_cell_is_scored_by_every_evaluator_and_judges_run_through_the_engine(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    runner = bench.runner()
    progress = []
    eval_id = runner.start(REL, models=bench.models("good") + bench.models("bad", chunks=BAD), on_progress=progress.append)
    report = finish(runner, eval_id)

    assert report["eval_id"] == eval_id and report["prompt"] == REL and report["models"] == ["good", "bad"]
    assert [e["name"] for e in report["evaluators"]] == [*CHECKS, "judged"]
    assert len(report["cells"]) == 4 and all(c["status"] == "finished" and c["evaluated"] for c in report["cells"])
    got = verdicts(report)
    assert all(got[(tc, "good", 0, name)] is True for tc in (0, 1) for name in [*CHECKS, "judged"])
    assert all(got[(tc, "bad", 0, name)] is False for tc in (0, 1) for name in CHECKS)
    assert all(got[(tc, "bad", 0, "judged")] is True for tc in (0, 1))  # the judge always answers "good"
    judged = next(r for r in report["cells"][0]["evaluators"] if r["name"] == "judged")
    assert judged["score"] == 1.0 and judged["judge_model"] == "judge" and "good" in judged["reason"]

    columns = {c["model"]: c for c in report["columns"]}
    assert columns["good"]["pass_rate"] == 1.0 and columns["bad"]["pass_rate"] == 0.25
    assert columns["good"]["cells"] == 2 and columns["good"]["p50_ttft_ms"] is not None
    assert columns["good"]["cost_usd"] > 0 and columns["good"]["tokens"] > 0
    summary = report["summary"]
    assert (summary["passed"], summary["failed"], summary["errors"]) == (10, 6, 0)
    assert summary["pass_rate"] == pytest.approx(10 / 16) and summary["judge_cost_usd"] > 0

    # one judge request per cell, with the (trimmed) output in it, sent as gh models eval sends it
    # (changed with gh-models compatibility: the output is trimmed and no temperature/max_tokens is sent)
    judge_requests = requests_for(openai_server, "judge")
    assert len(judge_requests) == 4 and len(openai_server.log()) == 8
    bodies = sorted(r["body"]["messages"][-1]["content"] for r in judge_requests)
    assert bodies == sorted(["Verdict on: " + "".join(GOOD)] * 2 + ["Verdict on: " + "".join(BAD).strip()] * 2)
    assert not any("temperature" in r["body"] or "max_tokens" in r["body"] for r in judge_requests)
    assert not any("grammar" in r["body"] for r in judge_requests)  # only local judges are constrained

    # judge runs are stored runs (linked to the eval and the judged run) but never cells
    batch = runner.batch.get(eval_id)
    assert batch["config"]["kind"] == "eval" and batch["total_cells"] == 4 and batch["finished_cells"] == 4
    judge_runs = bench.runs.list_runs(prompt_path="judge:judged", kinds=["judge"])
    assert len(judge_runs) == 4 and all(r["status"] == "finished" for r in judge_runs)
    comparison = bench.runs.get_comparison(judge_runs[0]["comparison_id"])
    assert comparison["variables"]["eval_id"] == eval_id
    assert comparison["variables"]["run_id"] in {c["run_id"] for c in report["cells"]}

    rows = runner.evals.results(eval_id)
    assert len(rows) == 16 and {r["prompt_path"] for r in rows} == {REL}
    assert {r["judge_run_id"] for r in rows if r["evaluator"] == "judged"} == {r["id"] for r in judge_runs}
    assert all(r["judge_model"] is None and r["judge_run_id"] is None for r in rows if r["evaluator"] in CHECKS)
    assert all(r["created_at"].endswith("Z") and len(r["created_at"]) == 24 for r in rows)

    assert progress[-1].final and progress[-1].evaluated == progress[-1].total == progress[-1].done == 4
    assert not any(p.final for p in progress[:-1]) and [p.evaluated for p in progress] == sorted(p.evaluated for p in progress)
    assert json.loads(json.dumps(report)) == report  # JSON-able as it is


def test_bad_evaluators_missing_variables_and_no_evaluators_fail_before_anything_runs(bench, openai_server, workspace):
    runner = bench.runner()
    ms = bench.models("good")
    workspace.create(REL, prompt_with().replace("pattern: '\\d+'", "pattern: '(unclosed'"))
    with pytest.raises(PromptbenchError) as err:
        runner.start(REL, models=ms)
    assert REL in str(err.value) and "evaluators[1].regex.pattern" in str(err.value)

    workspace.save(REL, prompt_with().replace("  - {topic: dogs,", "  - {subject: dogs,"))
    with pytest.raises(PromptbenchError, match=r"test case 1.*\{\{topic\}\}"):
        runner.start(REL, models=ms)

    workspace.save(REL, PROMPT.split("evaluators:")[0])
    with pytest.raises(PromptbenchError, match="no evaluators"):
        runner.start(REL, models=ms)

    workspace.save(REL, prompt_with("local/no-such-model"))
    with pytest.raises(PromptbenchError, match="judge model 'local/no-such-model'"):
        runner.start(REL, models=ms)

    workspace.save(REL, prompt_with())
    with pytest.raises(PromptbenchError, match="concurrency must be a whole number >= 1, not 0"):
        runner.start(REL, models=ms, concurrency=0)
    assert runner.running() == []
    assert openai_server.log() == [] and runner.batch.batches.list() == []


def test_a_judge_outside_its_choices_or_down_is_an_evaluator_error_and_the_rest_is_reported(bench, openai_server,
                                                                                            workspace):
    extra = "".join(f"""\
  - name: judged by {judge}
    llm:
      modelId: {judge}
      prompt: 'Verdict on: {{{{completion}}}}'
      choices: [{{choice: good, score: 1}}, {{choice: bad, score: 0}}]
""" for judge in ("judge-maybe", "judge-down", "judge-gone"))
    workspace.create(REL, prompt_with(extra=extra))
    runner = bench.runner()
    report = finish(runner, runner.start(REL, models=bench.models("good"), test_cases=[0]))
    (cell,) = report["cells"]
    by_name = {r["name"]: r for r in cell["evaluators"]}
    assert all(by_name[n]["passed"] is True for n in [*CHECKS, "judged"])
    # changed with gh-models compatibility: a reply naming no choice fails with score 0 (not an error)
    maybe = by_name["judged by judge-maybe"]
    assert maybe["passed"] is False and maybe["score"] == 0.0 and maybe["error"] is None
    assert "judge answered 'maybe', which names none of 'good', 'bad'" in maybe["reason"]
    assert by_name["judged by judge-down"]["passed"] is None and "(server)" in by_name["judged by judge-down"]["error"]
    assert by_name["judged by judge-gone"]["passed"] is None
    assert "(connection)" in by_name["judged by judge-gone"]["error"]
    assert (report["summary"]["passed"], report["summary"]["failed"], report["summary"]["errors"]) == (4, 1, 2)
    assert report["columns"][0]["errors"] == 2 and report["summary"]["run_errors"] == 0
    failed = bench.runs.list_runs(prompt_path="judge:judged by judge-down", kinds=["judge"])
    assert [r["error_class"] for r in failed] == ["server"]  # the failed judge run is stored too


def test_the_settings_judge_overrides_every_model_id_and_start_overrides_the_settings(bench, openai_server, workspace):
    workspace.create(REL, prompt_with("judge-down").replace("""evaluators:
""", """evaluators:
  - name: similar
    uses: github/similarity
"""))
    openai_server.set_scenario("judge", chunks=["5"])  # a rubric judge answers 1-5: "5" is the only thing said
    runner = bench.runner(eval_judge_model="judge")
    report = finish(runner, runner.start(REL, models=bench.models("good"), test_cases=[0]))
    by_name = {r["name"]: r for r in report["cells"][0]["evaluators"]}
    assert by_name["similar"]["judge_model"] == "judge" and by_name["similar"]["score"] == 1.0
    # "5" is no choice: changed with gh-models compatibility, a failed result with score 0 (was an error)
    assert by_name["judged"]["judge_model"] == "judge" and by_name["judged"]["passed"] is False
    assert by_name["judged"]["score"] == 0.0
    assert requests_for(openai_server, "judge-down") == [] and len(requests_for(openai_server, "judge")) == 2

    before = openai_server.log()[-1]["id"]
    report = finish(runner, runner.start(REL, models=bench.models("good"), test_cases=[0], judge_model="judge-maybe"))
    assert {r["judge_model"] for r in report["cells"][0]["evaluators"]} == {None, "judge-maybe"}
    assert {r["model"] for r in openai_server.log(before)} == {"good", "judge-maybe"}
    assert runner.get(report["eval_id"])["config"]["eval"]["judge_model"] == "judge-maybe"


# --- cancel and resume ---------------------------------------------------------------------


def test_cancel_then_resume_reruns_nothing_that_finished_and_evaluates_everything(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    runner = bench.runner()
    ms = bench.models("a", "b", first_token_delay_s=0.3)
    eval_id = runner.start(REL, models=ms, concurrency=1)
    # cancel once a cell finished and the next one is on the wire
    while runner.batch.get(eval_id)["cells"]["finished"] < 1 or len(cell_requests(openai_server)) < 2 \
            or not requests_for(openai_server, "judge"):
        assert not runner.wait(eval_id, 0.02), "the eval ended before it could be cancelled"
    runner.cancel(eval_id)
    assert runner.wait(eval_id, 10)
    report = runner.report(eval_id)
    finished = {(c["model"], c["test_case"]) for c in report["cells"] if c["status"] == "finished"}
    kept = {c["run_id"] for c in report["cells"] if c["status"] == "finished"}
    assert 1 <= len(finished) < 4 and report["status"] == "cancelled"
    assert report["summary"]["not_run"] == 4 - len(finished)
    judged = sum(1 for c in report["cells"] if c["evaluated"])  # a judge call cut by the cancel judged nothing
    before = openai_server.log()[-1]["id"]

    # a new process: the file changed meanwhile, the eval still judges as planned
    workspace.save(REL, prompt_with().replace("contains: hello", "contains: HOWDY"))
    runner = bench.runner()
    runner.mark_interrupted()
    assert runner.resume(eval_id) == eval_id
    report = finish(runner, eval_id)
    again = cell_requests(openai_server, before)
    assert len(again) == 4 - len(finished) and not finished & set(again)  # nothing that finished ran again
    assert all(c["status"] == "finished" and c["evaluated"] for c in report["cells"])
    assert kept <= {c["run_id"] for c in report["cells"]}  # finished cells kept their runs
    assert report["summary"]["passed"] == 16 and report["status"] == "finished"
    assert len(runner.evals.results(eval_id)) == 16  # each cell evaluated once
    assert len(requests_for(openai_server, "judge", before)) == 4 - judged  # only cells not judged yet


def test_cells_that_finished_unevaluated_are_evaluated_on_resume_without_running_again(bench, openai_server, workspace):
    workspace.create(REL, prompt_with("judge-slow"))
    openai_server.set_scenario("judge-slow", chunks=["good"], first_token_delay_s=30)
    runner = bench.runner()
    eval_id = runner.start(REL, models=bench.models("a", "b"))
    while runner.batch.get(eval_id)["cells"]["finished"] < 4 or len(requests_for(openai_server, "judge-slow")) < 4:
        assert not runner.wait(eval_id, 0.02)
    runner.cancel(eval_id)  # every run is done; every judge is still thinking
    assert runner.wait(eval_id, 10)
    report = runner.report(eval_id)
    assert all(c["status"] == "finished" and not c["evaluated"] for c in report["cells"])
    assert report["summary"]["not_evaluated"] == 4 and runner.evals.results(eval_id) == []
    assert "--resume " + eval_id in report["cells"][0]["evaluators"][0]["error"]
    before = openai_server.log()[-1]["id"]

    openai_server.set_scenario("judge-slow", chunks=["good"])
    runner.resume(eval_id)
    report = finish(runner, eval_id)
    assert [r["model"] for r in openai_server.log(before)] == ["judge-slow"] * 4  # no cell ran again
    assert all(c["evaluated"] for c in report["cells"]) and report["summary"]["passed"] == 16


def test_a_process_that_died_between_a_run_and_its_evaluation_is_caught_up_on_resume(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    runner = bench.runner()
    eval_id = runner.start(REL, models=bench.models("a"))
    report = finish(runner, eval_id)
    lost = report["cells"][1]["run_id"]

    def die(db):  # as a killed process leaves it: the run is recorded, its evaluation is not
        db.execute("DELETE FROM eval_results WHERE run_id = ?", [lost])
        db.execute("UPDATE batches SET status = 'running', owner = ? WHERE id = ?", [dead_owner(), eval_id])

    bench.runs.db.write("simulate a crash", die, wait=True)
    before = openai_server.log()[-1]["id"]
    runner = bench.runner()
    assert runner.mark_interrupted() == 1 and runner.batch.get(eval_id)["status"] == "interrupted"
    runner.resume(eval_id)
    report = finish(runner, eval_id)
    assert [r["model"] for r in openai_server.log(before)] == ["judge"]
    assert all(c["evaluated"] for c in report["cells"]) and len(runner.evals.results(eval_id)) == 8
    assert runner.resume(eval_id) and finish(runner, eval_id)["summary"]["passed"] == 8  # nothing left: no-op
    assert [r["model"] for r in openai_server.log(before)] == ["judge"]


def test_resume_refuses_what_is_not_an_eval_or_still_running(bench, openai_server, workspace):
    workspace.create(REL, prompt_with("judge-slow"))
    openai_server.set_scenario("judge-slow", chunks=["good"], first_token_delay_s=30)
    runner = bench.runner()
    with pytest.raises(PromptbenchError, match="no eval 'nope'"):
        runner.resume("nope")
    plain = runner.batch.start(runner.batch.plan(REL, models=bench.models("a")))
    assert runner.batch.wait(plain, 10)
    with pytest.raises(PromptbenchError, match="not an eval"):
        runner.resume(plain)
    eval_id = runner.start(REL, models=bench.models("a"))
    with pytest.raises(PromptbenchError, match="still running"):
        runner.resume(eval_id)
    while len(requests_for(openai_server, "judge-slow")) < 2:  # cancel judges on the wire, not starting
        assert not runner.wait(eval_id, 0.02)
    runner.cancel(eval_id)
    assert runner.wait(eval_id, 10)
    assert [e["id"] for e in runner.list_evals()] == [eval_id]


# --- reports -------------------------------------------------------------------------------


def test_baseline_lists_regressions_and_improvements(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    runner = bench.runner()
    before = finish(runner, runner.start(REL, models=bench.models("a", "b")))["eval_id"]
    ms = bench.models("a", chunks=['{"answer": "hi"}']) + bench.models("b")  # a loses hello and 42
    after = finish(runner, runner.start(REL, models=ms))["eval_id"]

    report = runner.report(after, baseline=before)
    base = report["baseline"]
    assert base["eval_id"] == before and base["prompt"] == REL and base["improvements"] == []
    lost = {(r["test_case"], r["model"], r["evaluator"]) for r in base["regressions"]}
    assert lost == {(tc, "a", name) for tc in (0, 1) for name in ("says hello", "has a number")}
    r = base["regressions"][0]
    assert r["before"]["pass_rate"] == 1.0 and r["after"]["pass_rate"] == 0.0 and r["after"]["n"] == 1

    back = runner.report(before, baseline=after)["baseline"]
    assert back["regressions"] == [] and {(r["test_case"], r["model"], r["evaluator"]) for r in back["improvements"]} == lost
    assert runner.report(after)["baseline"] is None


def test_repeats_collapse_per_test_case_and_column_with_their_spread(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    runner = bench.runner()
    ms = bench.models("a", first_token_delay_s=0.3)
    eval_id = runner.start(REL, models=ms, test_cases=[0], repeats=3, concurrency=1)
    while runner.batch.get(eval_id)["cells"]["finished"] < 1 or len(cell_requests(openai_server)) < 2 \
            or not requests_for(openai_server, "judge"):
        assert not runner.wait(eval_id, 0.02)
    runner.cancel(eval_id)
    assert runner.wait(eval_id, 10)
    assert runner.batch.get(eval_id)["cells"]["finished"] == 1
    bench.models("a", chunks=BAD)  # the repeats still to run answer badly
    runner.resume(eval_id)
    report = finish(runner, eval_id)

    assert [c["repeat"] for c in report["cells"]] == [0, 1, 2]
    (row,) = report["rows"]
    assert (row["test_case"], row["model"], row["repeats"]) == (0, "a", 3)
    hello = next(e for e in row["evaluators"] if e["name"] == "says hello")
    assert (hello["n"], hello["passed"], hello["failed"], hello["errors"]) == (3, 1, 2, 0)
    assert hello["pass_rate"] == pytest.approx(1 / 3)
    assert hello["score_mean"] == pytest.approx(1 / 3) and hello["score_sd"] == pytest.approx(0.57735, abs=1e-4)
    assert any("does not contain" in reason for reason in hello["reasons"])
    judged = next(e for e in row["evaluators"] if e["name"] == "judged")
    assert (judged["passed"], judged["score_mean"], judged["score_sd"]) == (3, 1.0, 0.0)


def test_judge_agreement_with_recorded_votes(bench, openai_server, workspace):
    workspace.create(REL, prompt_with("judge-echo"))  # the judge repeats the output: "good ..." or "bad ..."
    runner = bench.runner()
    ms = bench.models("a", chunks=["good job"]) + bench.models("b", chunks=["bad job"]) + bench.models("c", chunks=["good one"])
    report = finish(runner, runner.start(REL, models=ms))
    run = {(c["model"], c["test_case"]): c["run_id"] for c in report["cells"]}
    version = report["versions"][0]["version"]
    votes = VoteStore(bench.runs, voter="tester")

    def vote(a, b, winner):
        (ma, ta), (mb, tb) = a, b
        votes.record_vote(a=Contestant(REL, version, ma), b=Contestant(REL, version, mb), winner=winner,
                          a_run_id=run[a], b_run_id=run[b], test_case=ta)

    vote(("a", 0), ("b", 0), "a")          # judge: a (1 vs 0)  person: a
    vote(("a", 1), ("b", 1), "a")          # judge: a           person: a
    vote(("b", 0), ("a", 0), "b")          # judge: b           person: b
    vote(("a", 0), ("c", 0), "both_bad")   # judge: tie (1, 1)  person: tie
    vote(("a", 1), ("b", 1), "b")          # judge: a           person: b
    votes.record_vote(a=Contestant(REL, version, "a"), b=Contestant(REL, version, "b"), winner="a",
                      a_run_id=run[("a", 0)], b_run_id="not-evaluated")  # no judge score for b: left out

    (row,) = runner.judge_agreement()
    assert (row["evaluator"], row["judge_model"], row["n"]) == ("judged", "judge-echo", 5)
    assert row["percent"] == pytest.approx(80.0)
    # po = 4/5; judge labels a3 b1 tie1, people a2 b2 tie1: pe = (3*2 + 1*2 + 1*1)/25 = 0.36
    assert row["kappa"] == pytest.approx((0.8 - 0.36) / (1 - 0.36))
    assert runner.judge_agreement(REL) == [row] and runner.judge_agreement("other.prompt.yml") == []


def test_progress_ends_final_once_everything_is_evaluated(bench, openai_server, workspace):
    workspace.create(REL, prompt_with())
    openai_server.set_scenario("judge", chunks=["good"], first_token_delay_s=0.2)
    runner = bench.runner()
    progress = []
    eval_id = runner.start(REL, models=bench.models("a"), on_progress=progress.append)
    assert runner.wait(eval_id, 30)
    assert progress[-1].final and progress[-1].evaluated == 2 and progress[-1].evaluating == 0
    assert [p for p in progress if p.final] == [progress[-1]]
    assert any(p.done == 2 and p.evaluated < 2 for p in progress)  # runs end before their judges do
    assert progress[-1].eval_id == eval_id and progress[-1].elapsed_s >= 0
    deadline = time.monotonic() + 5
    while runner.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.running() == []


def test_local_judges_get_a_grammar_that_allows_exactly_their_choices():
    choices = ["1", "good answer", 'say "yes"', "back\\slash", "two\nlines"]
    grammar = choice_grammar(choices)
    assert grammar == 'root ::= "1" | "good answer" | "say \\"yes\\"" | "back\\\\slash" | "two\\nlines"'


@pytest.mark.local_model
def test_llama_server_accepts_a_judge_grammar_and_answers_one_choice(tmp_path):
    import httpx

    from promptbench.core.local.programs import missing_reason
    from promptbench.core.local.servers import SMOLLM2_ID, LocalServerManager

    if missing_reason():
        pytest.skip(missing_reason())
    choices = ["1", "good answer", 'say "yes"', "back\\slash", "two\nlines"]
    with LocalServerManager(tmp_path / "logs", slots=1) as manager:
        base = manager.ensure(SMOLLM2_ID).removesuffix("/v1")
        reply = httpx.post(base + "/completion", trust_env=False, timeout=60, json={
            "prompt": "Pick one answer:", "grammar": choice_grammar(choices), "n_predict": 16, "temperature": 0})
    assert reply.status_code == 200, reply.text
    assert reply.json()["content"] in choices


def test_eval_settings_parse_with_errors_that_name_the_line_and_field():
    from promptbench.core.settings.config import ConfigError, parse_settings
    from promptbench.core.store.workspace import DEFAULT_SETTINGS

    s = parse_settings('[eval]\njudge_model = "judge"\nembedding_model = "openai/emb"\nconcurrency = 2\n')
    assert (s.eval_judge_model, s.eval_embedding_model, s.eval_concurrency) == ("judge", "openai/emb", 2)
    s = parse_settings("")
    assert (s.eval_judge_model, s.eval_embedding_model, s.eval_concurrency) == (None, None, 4)
    assert parse_settings('[eval]\njudge_model = ""\n').eval_judge_model is None
    new = parse_settings(DEFAULT_SETTINGS)  # a new workspace judges offline, and says how to undo it
    assert new.eval_judge_model == "local/smollm2-135m-instruct" and "delete this line" in DEFAULT_SETTINGS
    with pytest.raises(ConfigError, match=r"promptbench.toml:3: eval.concurrency: must be > 0, got 0"):
        parse_settings('[eval]\njudge_model = "judge"\nconcurrency = 0\n')
    with pytest.raises(ConfigError, match=r"eval.judge: unknown field; known: concurrency, embedding_model, judge_model"):
        parse_settings('[eval]\njudge = "x"\n')
