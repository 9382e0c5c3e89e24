"""Exports on a real run store: runs as CSV/JSONL load back with the same rows, filters
work, errors are redacted, files are replaced atomically; preference pairs carry the
winner's output as chosen and the loser's as rejected; the CLI writes both."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from promptbench.core.db.access import Database
from promptbench.commands import export as export_cmd
from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.events import RunMetrics
from promptbench.core.db.exports import iter_runs, parse_when, write_preferences, write_runs, write_table_csv
from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.db.runs import RUN_COLUMNS, RunStore
from promptbench.core.ranking.votes import VoteStore
from tests.core.test_dashboard_queries import START, make_runs

KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def store(ws):
    ws.mkdir()
    runs = RunStore(ws / ".promptbench" / "promptbench.db")
    yield runs
    runs.close()


@pytest.fixture
def filled(store):
    rows = make_runs(150)
    rows[3].update(status="error", error_class="auth", error=f"Incorrect API key provided: {KEY}", ttft_ms=None,
                   tokens_per_s=None)  # fmt: skip
    rows[4]["output"] = 'quotes " and, commas\nand a second line — ünïcode'
    store.insert_many_runs(rows)
    store.flush()
    return rows


def conn_of(store: RunStore) -> Database:
    return Database.readonly(store.path)


def stored(store: RunStore) -> dict:
    """Every ended run as RunStore reads it, by id."""
    out = {}
    for run in store.list_runs(limit=100000):
        if run["status"] != "running":
            out[run["id"]] = store.get_run(run["id"])
    return out


def test_runs_csv_loads_back_with_the_same_rows(store, filled, tmp_path):
    path = tmp_path / "out" / "runs.csv"
    n = write_runs(conn_of(store), path, "csv")
    want = stored(store)
    assert n == len(want) == len(filled) - 1
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == sorted(want, key=lambda i: (want[i]["started_at"], i))
    for row in rows:
        run = want[row["id"]]
        assert list(row) == list(RUN_COLUMNS)
        for col in RUN_COLUMNS:
            value = run[col]
            if col == "params":
                assert json.loads(row[col]) == value
            elif col == "error" and value:
                assert row[col] == value.replace(KEY, "[REDACTED]")
            elif isinstance(value, bool):
                assert row[col] == str(int(value))
            elif isinstance(value, float):
                assert float(row[col]) == value
            else:
                assert row[col] == ("" if value is None else str(value)), col
    assert KEY not in path.read_text() and "[REDACTED]" in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_runs_jsonl_with_text_loads_back(store, filled, tmp_path):
    path = tmp_path / "runs.jsonl"
    n = write_runs(conn_of(store), path, "jsonl", with_text=True)
    want = stored(store)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert n == len(lines) == len(want)
    for line in lines:
        row = json.loads(line)
        run = dict(want[row["id"]])
        if run["error"]:
            run["error"] = run["error"].replace(KEY, "[REDACTED]")
        assert row == {k: run[k] for k in (*RUN_COLUMNS, "messages", "output")}
    assert any("second line — ünïcode" in (json.loads(line)["output"] or "") for line in lines)


def test_run_filters(store, filled):
    conn = conn_of(store)
    since, until = parse_when("2026-01-02"), parse_when("2026-01-03", end=True)
    got = [r["id"] for r in iter_runs(conn.read(), prompt="a.prompt.yml", model="beta", since=since, until=until)]
    want = [r for r in filled if r["prompt_path"] == "a.prompt.yml" and r["model_name"] == "beta"
            and r["status"] != "running" and datetime(2026, 1, 2, tzinfo=timezone.utc) <= r["started_at"]
            < datetime(2026, 1, 4, tzinfo=timezone.utc)]  # fmt: skip
    assert sorted(got) == sorted(r["id"] for r in want) and got
    assert parse_when("2026-01-02T10:00") == "2026-01-02T10:00:00.000Z"
    with pytest.raises(PromptbenchError, match="not a date"):
        parse_when("yesterday")


def test_stream_output_and_atomic_replace(store, filled, tmp_path):
    buffer = io.StringIO()
    assert write_runs(conn_of(store), buffer, "jsonl", model="alpha") == sum(
        r["model_name"] == "alpha" and r["status"] != "running" for r in filled)
    path = tmp_path / "runs.csv"
    path.write_text("old content\n")

    def failing_rows(*_a, **_k):
        yield from []
        raise RuntimeError("disk on fire")

    import promptbench.core.db.exports as exports

    real = exports.iter_runs
    exports.iter_runs = failing_rows
    try:
        with pytest.raises(RuntimeError):
            write_runs(conn_of(store), path, "csv")
    finally:
        exports.iter_runs = real
    assert path.read_text() == "old content\n"
    assert sorted(os.listdir(tmp_path)) == ["runs.csv", "ws"]  # no temp file left behind
    write_table_csv(tmp_path / "t.csv", ["a", "b"], [[1, 2.5], ["x", ""]])
    assert list(csv.reader(open(tmp_path / "t.csv"))) == [["a", "b"], ["1", "2.5"], ["x", ""]]


def run(store: RunStore, run_id: str, model: str, output: str, *, version: str = "v1", status: str = "finished",
        content: str = "Say hi") -> Contestant:  # fmt: skip
    store.run_started(id=run_id, comparison_id=None, prompt_path="p.prompt.yml", prompt_version=version, test_case=0,
                      model_name=model, model=model, provider="x", params={},
                      messages=[{"role": "user", "content": content}], started_at=START)  # fmt: skip
    store.run_ended(run_id, status=status, output=output, metrics=RunMetrics(), error_class=None,
                    ended_at=START + timedelta(seconds=1))  # fmt: skip
    return Contestant("p.prompt.yml", version, model)


def test_preference_pairs(store, tmp_path):
    a = run(store, "ra", "alpha", "Hello from alpha")
    b = run(store, "rb", "beta", "Hello from beta")
    c = run(store, "rc", "gamma", "Hi from gamma, v2", version="v2", content="Say hi nicely")
    d = run(store, "rd", "delta", "", status="finished")
    e = run(store, "re", "eps", "partial", status="error")
    store.flush()
    votes = VoteStore(store, voter="ada")
    votes.record_vote(a=a, b=b, winner="a", a_run_id="ra", b_run_id="rb", test_case=0)
    votes.record_vote(a=a, b=c, winner="b", a_run_id="ra", b_run_id="rc", test_case=0)
    votes.record_vote(a=a, b=b, winner="tie", a_run_id="ra", b_run_id="rb")
    votes.record_vote(a=a, b=b, winner="both_bad", a_run_id="ra", b_run_id="rb")
    votes.record_vote(a=a, b=b, winner="a")  # imported-style: no run ids
    votes.record_vote(a=a, b=d, winner="a", a_run_id="ra", b_run_id="rd")  # empty output
    votes.record_vote(a=e, b=b, winner="a", a_run_id="re", b_run_id="rb")  # the winner failed
    votes.record_vote(a=a, b=b, winner="b", a_run_id="ra", b_run_id="gone")
    votes.record_ranking(order=[c, a, b], shown=[a, b, c], ties=[[1, 2]], run_ids=["rc", "ra", "rb"], test_case=1)
    path = tmp_path / "prefs.jsonl"
    report = write_preferences(Database.readonly(store.path), path)
    items = [json.loads(line) for line in path.read_text().splitlines()]
    got = [(i["chosen"], i["rejected"], i.get("from_ranking", False)) for i in items]
    assert got == [
        ("Hello from alpha", "Hello from beta", False),
        ("Hi from gamma, v2", "Hello from alpha", False),
        ("Hi from gamma, v2", "Hello from alpha", True),
        ("Hi from gamma, v2", "Hello from beta", True),
    ]
    first, second = items[0], items[1]
    assert first["prompt"] == [{"role": "user", "content": "Say hi"}] and "rejected_prompt" not in first
    assert first["a"] == {"prompt": "p.prompt.yml", "version": "v1", "model": "alpha", "run_id": "ra"}
    assert first["winner"] == "a" and first["test_case"] == "0" and first["voter"] == "ada"
    assert second["prompt"] == [{"role": "user", "content": "Say hi nicely"}]
    assert second["rejected_prompt"] == [{"role": "user", "content": "Say hi"}] and second["winner"] == "b"
    assert report.written == 4
    assert dict(report.skipped) == {"tie": 2, "both bad": 1, "no run id": 1, "empty output": 1, "run not finished": 1,
                                    "run missing": 1}  # fmt: skip
    only = io.StringIO()
    assert write_preferences(Database.readonly(store.path), only, prompt="other.prompt.yml").written == 0


def cli(ws: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workspace")
    export_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["--workspace", str(ws), *argv])
    return args.handler(args)


def test_cli_exports(store, filled, ws, tmp_path, capsys):
    store.flush()
    out = tmp_path / "r.jsonl"
    assert cli(ws, "export", "runs", "--format", "jsonl", "--model", "gamma", "--since", "2026-01-03", "-o", str(out)) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    want = [r for r in filled if r["model_name"] == "gamma" and r["status"] != "running"
            and r["started_at"] >= datetime(2026, 1, 3, tzinfo=timezone.utc)]  # fmt: skip
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in want)
    assert "output" not in rows[0] and f"exported {len(want)} runs" in capsys.readouterr().err
    assert cli(ws, "export", "runs") == 0
    printed = capsys.readouterr().out
    assert printed.startswith("id,comparison_id,") and len(printed.splitlines()) == len(filled)
    assert cli(ws, "export", "preferences", "-o", str(tmp_path / "p.jsonl")) == 0
    assert (tmp_path / "p.jsonl").read_text() == "" and "0 preference pairs" in capsys.readouterr().err
    with pytest.raises(PromptbenchError, match="no run history yet"):
        cli(tmp_path, "export", "runs")
