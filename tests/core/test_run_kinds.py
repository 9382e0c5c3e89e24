"""Kinds of runs kept apart (issue 12, item 3) on real SQLite files and the real CLI:
Runs, the Dashboard and ``promptbench export runs`` count comparisons and eval cells
unless asked (``--kind K`` / ``--kind all``, ``kinds=``); judge calls are reported with
the eval they belong to."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from promptbench.core.db.access import Database
from promptbench import cli
from promptbench.commands.export import KIND_CHOICES
from promptbench.core.dashboard.queries import BOX_QS, load, run_ids, update
from promptbench.core.dashboard.sql import PROPOSED_INDEXES, Filters
from promptbench.core.errors import PromptbenchError
from promptbench.core.eval.report import judge_calls
from promptbench.core.engine.events import RunMetrics
from promptbench.core.engine.run_kinds import DEFAULT_KINDS, RUN_KINDS, count_text, kind_condition, kinds_label, resolve_kinds
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore
from tests.core.test_eval_cli import eval_registered, ws  # noqa: F401  (fixtures: eval on the CLI; a loopback workspace)
from tests.core.test_eval_cli import run as run_eval

T0 = datetime(2026, 2, 1, 9, tzinfo=timezone.utc)
# run id -> (kind, prompt path, model, cost): dyadic costs, so every subset has its own exact sum
MIXED = {
    "c1": ("comparison", "a.prompt.yml", "alpha", 0.25),
    "c2": ("comparison", "a.prompt.yml", "beta", 0.5),
    "e1": ("eval_cell", "a.prompt.yml", "alpha", 0.125),
    "j1": ("judge", "judge:mentions it", "judge-model", 1.0),
    "w1": ("warmup", None, "local-model", 2.0),
    "t1": ("connection_test", None, "beta", 4.0),
    "g1": ("ranking_generation", "a.prompt.yml", "alpha", 8.0),
}
SHOWN = {"c1", "c2", "e1"}  # comparisons and eval cells


def store_run(store: RunStore, run_id: str, kind: str, prompt_path: str | None, model: str, cost: float | None, *,
              minutes: float = 0, status: str = "finished", variables: dict | None = None) -> None:
    """A run as the engine stores it: its comparison row, its start, its end."""
    comparison_id = f"cmp-{run_id}"
    version = None if kind in ("judge", "warmup", "connection_test") else "v1"
    store.create_comparison(id=comparison_id, prompt_path=prompt_path, prompt_version=version, test_case=0,
                            variables=variables or {}, local_mode=None, models=[model], kind=kind)  # fmt: skip
    started = T0 + timedelta(minutes=minutes)
    store.run_started(id=run_id, comparison_id=comparison_id, prompt_path=prompt_path, prompt_version=version,
                      test_case=0, model_name=model, model=f"openai/{model}", provider="p9" if kind == "judge" else "p1",
                      params={}, messages=[{"role": "user", "content": "hi"}], started_at=started, kind=kind)  # fmt: skip
    error = ("server", "the provider said no") if status == "error" else (None, None)
    store.run_ended(run_id, status=status, output="an answer", error_class=error[0], error=error[1],
                    metrics=RunMetrics(ttft_ms=100.0 + minutes, tokens_per_s=20.0, total_ms=500.0, input_tokens=10,
                                       output_tokens=5, cost_usd=cost),
                    ended_at=started + timedelta(seconds=1))  # fmt: skip


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "ws").mkdir()
    return tmp_path / "ws"


@pytest.fixture
def store(folder):
    runs = RunStore(folder / ".promptbench" / "promptbench.db")
    yield runs
    runs.close()


@pytest.fixture
def mixed(store):
    """A comparison of two models, an eval cell, its judge call, a warm-up, a connection
    test and a ranking session's generation, plus a thumb on the eval cell and one on the generation."""
    for i, (run_id, (kind, prompt, model, cost)) in enumerate(MIXED.items()):
        variables = {"eval_id": "evalA", "run_id": "e1", "evaluator": "mentions it"} if kind == "judge" else None
        store_run(store, run_id, kind, prompt, model, cost, minutes=10 * i, variables=variables)
    store.flush()
    votes = VoteStore(store, voter="ada")
    votes.record_thumb(value=1, run_id="e1")
    votes.record_thumb(value=-1, run_id="g1")
    store.flush()
    return MIXED


def cost_of(ids) -> float:
    return sum(MIXED[i][3] for i in ids)


# --- the filter itself -------------------------------------------------------------------------


def test_kinds_resolve_to_run_kinds_order_and_errors_name_the_kinds():
    assert resolve_kinds(DEFAULT_KINDS) == ("comparison", "eval_cell")
    assert resolve_kinds(None) is resolve_kinds("all") is resolve_kinds(["judge", "all"]) is None
    assert resolve_kinds(RUN_KINDS) is None  # nothing left out: no condition at all
    assert resolve_kinds(["judge", "comparison", "judge"]) == ("comparison", "judge")
    assert resolve_kinds("warmup") == ("warmup",)
    with pytest.raises(PromptbenchError, match="unknown run kind 'judges': expected one of comparison, eval_cell"):
        resolve_kinds(["judges"])
    with pytest.raises(PromptbenchError, match="no run kinds chosen"):
        resolve_kinds([])
    assert kind_condition(DEFAULT_KINDS) == "kind IN ('comparison', 'eval_cell')"
    assert kind_condition(["judge"], "r.kind") == "r.kind = 'judge'" and kind_condition("all") == ""
    assert kinds_label(DEFAULT_KINDS) == "comparisons and eval cells" and kinds_label(None) == "all kinds of runs"
    assert kinds_label(["judge", "warmup", "comparison"]) == "comparisons, judge calls and warm-ups"
    assert count_text({"eval_cell": 2, "comparison": 1, "judge": 0}) == "1 comparison, 2 eval cells"
    assert KIND_CHOICES == (*RUN_KINDS, "all")  # the CLI spells them out so that parsing stays light


def test_run_store_lists_comparisons_and_eval_cells_by_default(store, mixed):
    assert {r["id"] for r in store.list_runs()} == SHOWN
    assert {r["id"] for r in store.list_runs(kinds=None)} == set(MIXED) == {r["id"] for r in store.list_runs(kinds="all")}
    assert [r["id"] for r in store.list_runs(kinds=["judge"])] == ["j1"]
    assert {r["id"] for r in store.list_runs(kinds=["warmup", "connection_test"], status="finished")} == {"w1", "t1"}
    assert {c["id"] for c in store.list_comparisons()} == {f"cmp-{i}" for i in SHOWN}
    assert [c["kind"] for c in store.list_comparisons(kinds=["judge"])] == ["judge"]
    assert len(store.list_comparisons(kinds="all")) == len(MIXED)
    assert store.list_comparisons(prompt_path="judge:mentions it") == []  # a judge call is not a comparison
    with pytest.raises(PromptbenchError, match="unknown run kind"):
        store.list_runs(kinds=["comparisons"])


# --- the Dashboard -----------------------------------------------------------------------------


def test_dashboard_totals_count_only_comparisons_and_eval_cells_by_default(store, mixed):
    conn = Database.readonly(store.path)
    data = load(conn)
    assert data.filters.kinds == DEFAULT_KINDS
    assert data.total_runs() == len(SHOWN)
    assert sum(v[1] for v in data.time.values()) == cost_of(SHOWN)
    assert set(data.ttft) == {"alpha", "beta"} and sum(b.n for b in data.ttft.values()) == len(SHOWN)
    assert {k[1] for k in data.time} == {"alpha", "beta"} and {k[2] for k in data.time} == {"p1"}
    assert set(data.versions) == {("a.prompt.yml", "v1")} and data.versions[("a.prompt.yml", "v1")][0] == 3
    assert sum(n for _up, n in data.thumbs.values()) == 1  # the thumb on the ranking generation is left out
    assert {r[0] for r in run_ids(conn, Filters())} == SHOWN

    everything = load(conn, Filters(kinds="all"))
    assert everything.total_runs() == len(MIXED) and sum(v[1] for v in everything.time.values()) == cost_of(MIXED)
    assert sum(n for _up, n in everything.thumbs.values()) == 2 and "judge-model" in everything.ttft
    judges = load(conn, Filters(kinds=["judge"]))
    assert judges.total_runs() == 1 and sum(v[1] for v in judges.time.values()) == 1.0
    assert {k[1] for k in judges.time} == {"judge-model"} and set(judges.ttft) == {"judge-model"}
    assert {r[0] for r in run_ids(conn, Filters(kinds=["warmup", "connection_test"]))} == {"w1", "t1"}
    # the time range (and so hourly buckets) is that of the kinds shown
    assert load(conn, Filters(kinds=["judge"])).bucket == "hour"


def test_a_live_update_folds_in_only_the_kinds_shown(store, mixed):
    conn = Database.readonly(store.path)
    shown, everything = load(conn), load(conn, Filters(kinds="all"))
    store_run(store, "j2", "judge", "judge:mentions it", "judge-model", 16.0, minutes=120,
              variables={"eval_id": "evalA", "run_id": "e1", "evaluator": "mentions it"})  # fmt: skip
    store_run(store, "c3", "comparison", "a.prompt.yml", "beta", 32.0, minutes=121)
    store.flush()
    after = update(conn, shown)
    assert after.new_runs == 1 and after.total_runs() == len(SHOWN) + 1
    assert sum(v[1] for v in after.time.values()) == cost_of(SHOWN) + 32.0
    assert after.time == load(conn).time and after.ttft == load(conn).ttft
    assert update(conn, everything).total_runs() == len(MIXED) + 2


def test_the_first_judge_call_is_left_out_of_a_dashboard_read_before_any_existed(store):
    # with nothing of a kind left out stored, the queries check no kind; the first judge call changes that
    for i, run_id in enumerate(("c1", "c2", "e1")):
        kind, prompt, model, cost = MIXED[run_id]
        store_run(store, run_id, kind, prompt, model, cost, minutes=i)
    store.flush()
    conn = Database.readonly(store.path)
    before = load(conn)
    assert before.total_runs() == 3 and before.time == load(conn, Filters(kinds="all")).time
    store_run(store, "j1", "judge", "judge:mentions it", "alpha", 1.0, minutes=5,
              variables={"eval_id": "evalA", "run_id": "e1", "evaluator": "mentions it"})  # fmt: skip
    store.flush()
    after = update(conn, before)
    assert after.new_runs == 0 and after.time == before.time and after.ttft == load(conn).ttft
    assert load(conn).total_runs() == 3 and load(conn, Filters(kinds="all")).total_runs() == 4
    alpha = load(conn).ttft["alpha"]  # c1 and e1 (TTFT 100 and 102 ms), not the judge call's 105 ms
    assert alpha.n == 2 and alpha.values == pytest.approx(tuple(np.quantile([100.0, 102.0], BOX_QS)))


def test_the_dashboard_reads_a_database_from_before_kinds(tmp_path):
    from tests.core.test_dashboard_queries import old_database

    ro = Database.readonly(old_database(tmp_path / "old.db"))  # no kind column: every run was a comparison
    assert load(ro).total_runs() == 1 == load(ro, Filters(kinds="all")).total_runs()
    nothing = load(ro, Filters(kinds=["judge"]))
    assert nothing.total_runs() == 0 and nothing.ttft == {} and run_ids(ro, Filters(kinds=["judge"])) == []


def test_m008_puts_kind_in_the_dashboard_indexes_and_finds_judge_calls_by_eval(store, mixed):
    conn = Database.readonly(store.path)
    schema = {name: " ".join(sql.split()) for name, sql in
              conn.read().execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}  # fmt: skip
    for name, table, cols in PROPOSED_INDEXES:  # what the queries are written for is what the schema has
        assert f"ON {table} ({' '.join(cols.split())})" in schema[name], name
    plan = " ".join(r[3] for r in conn.read().execute(
        "EXPLAIN QUERY PLAN SELECT substr(started_at, 1, 10), model_name, provider, status, count(*), sum(cost_usd)"
        " FROM runs INDEXED BY idx_runs_dash_time WHERE status != 'running' AND kind IN ('comparison', 'eval_cell')"
        " GROUP BY 1, 2, 3, 4"))  # fmt: skip
    assert "COVERING INDEX idx_runs_dash_time" in plan  # the kind filter does not read the table
    from promptbench.core.eval.report import _JUDGE_CALLS

    plan = " ".join(r[3] for r in conn.read().execute("EXPLAIN QUERY PLAN " + _JUDGE_CALLS, ["evalA"]))
    assert "idx_comparisons_judged_eval" in plan


# --- judge calls next to their eval --------------------------------------------------------------


def test_judge_calls_are_counted_with_the_eval_they_belong_to(store, mixed):
    def judge(run_id, eval_id, evaluator, cost, status="finished", model="judge-model"):
        store_run(store, run_id, "judge", f"judge:{evaluator}", model, cost, status=status, minutes=200,
                  variables={"eval_id": eval_id, "run_id": "e1", "evaluator": evaluator})  # fmt: skip

    judge("j2", "evalA", "mentions it", 0.5, status="error")  # a failed call costs what it cost
    judge("j3", "evalA", "polite", None)  # no known price
    judge("j4", "evalA", "polite", 0.25, model="other-judge")
    judge("j5", "evalB", "mentions it", 64.0)  # another eval's
    store.flush()
    got = judge_calls(store, "evalA")
    assert (got["calls"], got["errors"], got["unknown_cost"], got["cost_usd"]) == (4, 1, 1, 1.75)
    assert got["by_evaluator"] == [
        {"evaluator": "mentions it", "judge_model": "judge-model", "calls": 2, "errors": 1, "unknown_cost": 0,
         "cost_usd": 1.5},
        {"evaluator": "polite", "judge_model": "judge-model", "calls": 1, "errors": 0, "unknown_cost": 1,
         "cost_usd": 0.0},
        {"evaluator": "polite", "judge_model": "other-judge", "calls": 1, "errors": 0, "unknown_cost": 0,
         "cost_usd": 0.25},
    ]  # fmt: skip
    assert judge_calls(store, "evalB")["cost_usd"] == 64.0
    assert judge_calls(store, "no-such-eval") == {"calls": 0, "errors": 0, "unknown_cost": 0, "cost_usd": 0.0,
                                                  "by_evaluator": []}  # fmt: skip
    assert {r["id"] for r in store.list_runs()} == SHOWN  # and none of them is listed by default


# --- the CLI -------------------------------------------------------------------------------------


def export(capsys, ws: Path, *argv: str) -> tuple[int, list[dict], str]:
    code = cli.main(["--workspace", str(ws), "export", "runs", "--format", "jsonl", *argv])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_export_runs_leaves_out_judge_calls_connection_tests_and_warm_ups_unless_asked(capsys, folder, store, mixed):
    ws = folder
    code, rows, _ = export(capsys, ws)
    assert code == 0 and {r["id"] for r in rows} == SHOWN
    assert {r["kind"] for r in rows} == {"comparison", "eval_cell"}
    assert {r["id"] for r in export(capsys, ws, "--kind", "all")[1]} == set(MIXED)
    assert [r["id"] for r in export(capsys, ws, "--kind", "judge")[1]] == ["j1"]
    assert {r["id"] for r in export(capsys, ws, "--kind", "judge", "--kind", "warmup", "--kind", "connection_test")[1]} \
        == {"j1", "w1", "t1"}  # fmt: skip
    assert {r["id"] for r in export(capsys, ws, "--kind", "comparison", "--model", "beta")[1]} == {"c2"}
    assert {r["id"] for r in export(capsys, ws, "--kind", "ranking_generation", "--kind", "all")[1]} == set(MIXED)

    out = ws.parent / "runs.csv"
    assert cli.main(["--workspace", str(ws), "export", "runs", "-o", str(out)]) == 0
    assert "exported 3 runs" in capsys.readouterr().err
    header, *lines = out.read_text(encoding="utf-8").splitlines()
    assert header.endswith(",kind") and len(lines) == len(SHOWN)

    with pytest.raises(SystemExit) as exc:
        cli.main(["--workspace", str(ws), "export", "runs", "--kind", "judges"])
    assert exc.value.code == 2 and "invalid choice: 'judges'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["export", "runs", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--kind K" in help_text and "default: comparison and eval_cell" in help_text
    assert all(kind in help_text for kind in RUN_KINDS) and "'all'" in help_text


# --- end to end: an eval's judges, then the export --------------------------------------------------

def test_eval_reports_its_judge_calls_and_exports_leave_them_out(capsys, ws, openai_server):  # noqa: F811
    code, out, err = run_eval(capsys, ws, "gate", "--json")
    first = json.loads(out)
    assert code == 0, err
    judge_requests = [r for r in openai_server.log() if r["model"] == "judge"]
    assert len(judge_requests) == 2  # one per cell
    judges, summary = first["judges"], first["summary"]
    assert judges["calls"] == summary["judge_calls"] == 2 and judges["errors"] == 0
    assert judges["cost_usd"] == summary["judge_cost_usd"] > 0
    assert summary["total_cost_usd"] == pytest.approx(summary["cost_usd"] + summary["judge_cost_usd"])
    assert [(j["evaluator"], j["judge_model"], j["calls"]) for j in judges["by_evaluator"]] == [("judged", "gw-judge", 2)]

    code, out, _ = run_eval(capsys, ws, "gate")  # a second eval: its own judges only
    assert code == 0 and "(+ 2 judge calls, $" in out

    root = ws.root
    code, rows, _ = export(capsys, root)
    assert code == 0 and len(rows) == 4 and {r["kind"] for r in rows} == {"eval_cell"}
    judged = export(capsys, root, "--kind", "judge")[1]
    assert len(judged) == 4 and {r["prompt_path"] for r in judged} == {"judge:judged"}
    assert sum(r["cost_usd"] for r in judged if r["id"] in {j for j in _judge_run_ids(root, first["eval_id"])}) \
        == pytest.approx(judges["cost_usd"])  # fmt: skip
    assert len(export(capsys, root, "--kind", "all")[1]) == 8


def _judge_run_ids(root: Path, eval_id: str) -> set[str]:
    with RunStore(root / ".promptbench" / "promptbench.db") as runs:
        return {r["id"] for r in runs.list_runs(kinds=["judge"])
                if runs.get_comparison(r["comparison_id"])["variables"]["eval_id"] == eval_id}  # fmt: skip
