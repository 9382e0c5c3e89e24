"""VoteStore on real SQLite files: migration, every kind of judgement, durability, N-way
expansion, JSONL import (good and malformed lines) and the export -> import round trip."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from promptbench.core.db import database as dbmod
from promptbench.core.db import migrations
from promptbench.core.errors import PromptbenchError
from promptbench.core.ranking.leaderboard import Battle, Contestant
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votedata import rank_numbers
from promptbench.core.ranking.votes import VoteStore

P = "greet.prompt.yml"
A, B, C, D = (Contestant(P, v, m) for v, m in [("v1", "gpt"), ("v2", "gpt"), ("v1", "claude"), ("v2", "claude")])
VOTE_TABLES = {"votes", "rubric_scores", "thumbs", "ranking_sessions"}


@pytest.fixture(autouse=True)
def _voter(monkeypatch):
    monkeypatch.setenv("PROMPTBENCH_VOTER", "ada")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".promptbench" / "promptbench.db"


@pytest.fixture
def runs(db_path):
    store = RunStore(db_path)
    yield store
    store.close()


@pytest.fixture
def votes(runs) -> VoteStore:
    return VoteStore(runs)


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def count(path: Path, table: str) -> int:
    conn = raw(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


# --- migration ----------------------------------------------------------------------------------


def test_m002_applies_on_an_existing_m001_database_and_is_idempotent(db_path, monkeypatch):
    with monkeypatch.context() as m:  # a database made by a promptbench that knew only m001
        m.setattr(dbmod, "MIGRATIONS", [migrations.m001_initial])
        with RunStore(db_path):
            pass
    conn = raw(db_path)  # a run as that version wrote it (its columns only)
    conn.execute("INSERT INTO runs (id, prompt_path, prompt_version, test_case, model_name, status, started_at)"
                 " VALUES ('r1', ?, 'v1', 0, 'gpt', 'running', ?)", [P, datetime(2024, 5, 1, tzinfo=timezone.utc).isoformat()])
    conn.commit()
    assert [r[0] for r in conn.execute("SELECT name FROM _migrations")] == ["m001_initial"]
    assert not VOTE_TABLES & {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()

    for _ in range(2):  # opening again applies m002 once, keeps the run
        with RunStore(db_path) as store:
            VoteStore(store).record_vote(a=A, b=B, winner="a")
    conn = raw(db_path)
    applied = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied[:2] == ["m001_initial", "m002_votes"] and applied == [fn.__name__ for fn in dbmod.MIGRATIONS]
    assert VOTE_TABLES <= {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='votes'")}
    assert {"idx_votes_prompt_created", "idx_votes_created_at"} <= indexes
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 2
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    db = dbmod.sqlite_utils.Database(db_path)
    assert dbmod.migrate(db) == []
    db.close()


def test_schema_checks_hold_even_for_raw_writes(runs, db_path):
    runs.flush()
    conn = raw(db_path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO rubric_scores (id, created_at, prompt, version, model, criterion, score, voter)"
                     " VALUES ('x', 't', 'p', 'v', 'm', 'c', 6, 'ada')")  # fmt: skip
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO votes (id, created_at, voter, kind) VALUES ('x', 't', 'ada', 'pairwise')")
    conn.close()


# --- recording and reading every kind --------------------------------------------------------------


def test_pairwise_vote_round_trip(votes):
    vid = votes.record_vote(a=A, b=C, winner="both_bad", left="b", test_case=3, blind=False, voter="bo",
                            a_run_id="ra", b_run_id="rb", note="both refused ✓")  # fmt: skip
    v = votes.get_vote(vid)
    assert v["kind"] == "pairwise" and v["source"] == "app"
    assert (v["a_prompt"], v["a_version"], v["a_model"]) == (P, "v1", "gpt")
    assert (v["b_prompt"], v["b_version"], v["b_model"]) == (P, "v1", "claude")
    assert (v["winner"], v["left_side"], v["test_case"], v["blind"], v["voter"]) == ("both_bad", "b", "3", False, "bo")
    assert (v["a_run_id"], v["b_run_id"], v["note"], v["prompt_path"]) == ("ra", "rb", "both refused ✓", P)
    assert len(v["created_at"]) == len("2024-05-01T12:00:00.000Z") and v["created_at"].endswith("Z")
    assert votes.battles() == [Battle(a=A, b=C, winner="both_bad", test_case="3", left="b")]
    assert votes.get_vote(votes.record_vote(a=A, b=B, winner="tie"))["voter"] == "ada"  # $PROMPTBENCH_VOTER


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(a=A, b=A, winner="a"), "same contestant"),
        (dict(a=A, b=B, winner="A"), "winner must be one of"),
        (dict(a=A, b=B, winner="a", left="right"), "left must be"),
        (dict(a=A, b=Contestant(P, "", "gpt"), winner="a"), r"b\.version must be a non-empty string"),
        (dict(a=("p", "v", "m"), b=B, winner="a"), "a must be a Contestant"),
        (dict(a=A, b=B, winner="a", test_case=1.5), "test_case must be"),
    ],
)
def test_bad_votes_are_refused_in_the_caller(votes, db_path, kwargs, match):
    with pytest.raises(PromptbenchError, match=match):
        votes.record_vote(**kwargs)
    assert count(db_path, "votes") == 0


def test_rubric_scores_and_means(votes, runs):
    vid = votes.record_vote(a=A, b=B, winner="a")
    votes.record_rubric(contestant=A, criterion="accuracy", score=4, vote_id=vid)
    votes.record_rubric(contestant=A, criterion="accuracy", score=5, voter="bo")
    votes.record_rubric(contestant=B, criterion="tone", score=2, test_case=0)
    runs.run_started(id="run1", comparison_id=None, prompt_path=P, prompt_version="v2", test_case=0, model_name="claude",
                     model=None, provider=None, params={}, messages=[], started_at=datetime.now(timezone.utc))  # fmt: skip
    votes.record_rubric(run_id="run1", criterion="tone", score=3)  # contestant taken from the run
    assert votes.rubric_means() == {A: {"accuracy": (4.5, 2)}, B: {"tone": (2.0, 1)}, D: {"tone": (3.0, 1)}}
    assert votes.rubric_means(prompt="other.prompt.yml") == {}
    rows = votes.rubric_scores(vote_id=vid)
    assert [(r["criterion"], r["score"], r["voter"], r["prompt"]) for r in rows] == [("accuracy", 4, "ada", P)]
    for kwargs, match in [(dict(score=6), "1 to 5"), (dict(score=3.0), "1 to 5"), (dict(score=True), "1 to 5"),
                          (dict(score=3, criterion=" "), "criterion"), (dict(score=3, vote_id="nope"), "no such vote")]:  # fmt: skip
        with pytest.raises(PromptbenchError, match=match):
            votes.record_rubric(**{"contestant": A, "criterion": "accuracy", **kwargs})
    with pytest.raises(PromptbenchError, match="no such run"):
        votes.record_rubric(run_id="missing", criterion="tone", score=3)
    assert len(votes.rubric_scores()) == 4


def test_thumbs(votes, runs):
    runs.run_started(id="run1", comparison_id=None, prompt_path=P, prompt_version="v1", test_case=2, model_name="gpt",
                     model=None, provider=None, params={}, messages=[], started_at=datetime.now(timezone.utc))  # fmt: skip
    votes.record_thumb(value=1, run_id="run1")
    votes.record_thumb(value=-1, contestant=B, note="rambles", voter="bo")
    up, down = votes.thumbs()
    assert (up["value"], up["run_id"], up["prompt"], up["version"], up["model"], up["voter"]) == (1, "run1", P, "v1", "gpt", "ada")
    assert (down["value"], down["run_id"], down["version"], down["note"], down["voter"]) == (-1, None, "v2", "rambles", "bo")
    assert votes.thumbs(run_id="run1") == [up]
    for kwargs in [dict(value=0, contestant=A), dict(value=True, contestant=A), dict(value=1)]:
        with pytest.raises(PromptbenchError):
            votes.record_thumb(**kwargs)


def test_sessions(votes, db_path):
    config = {"test_cases": [0, 1], "versions": ["v1", "v2"], "models": ["gpt", "claude"], "blind": True, "criteria": ["accuracy"]}
    sid = votes.create_session(name="Friday review", config=config, prompt_path=P)
    votes.record_vote(a=A, b=B, winner="a", session_id=sid)
    votes.record_ranking(order=[A, B, C], shown=[C, B, A], session_id=sid)
    votes.record_vote(a=A, b=B, winner="b")
    s = votes.get_session(sid)
    assert (s["name"], s["config"], s["status"], s["prompt_path"], s["vote_count"]) == ("Friday review", config, "open", P, 2)
    votes.set_session_status(sid, "finished")
    assert [x["id"] for x in votes.list_sessions(status="finished")] == [sid]
    assert votes.list_sessions(prompt="other") == [] and votes.get_session("nope") is None
    assert len(votes.battles(tag=sid)) == 1 + 3 and len(votes.battles(session_id=sid)) == 4
    with pytest.raises(PromptbenchError, match="no such ranking session"):
        votes.record_vote(a=A, b=B, winner="a", session_id="nope")
    with pytest.raises(PromptbenchError, match="status must be"):
        votes.set_session_status(sid, "done")
    with pytest.raises(PromptbenchError, match="'blind' must be"):
        votes.create_session(name="x", config={"blind": "yes"})
    assert count(db_path, "votes") == 3


def test_battles_filters(votes, runs):
    other = Contestant("other.prompt.yml", "v1", "gpt")
    votes.record_vote(a=A, b=B, winner="a")
    votes.record_vote(a=A, b=other, winner="b")  # across prompts: no common prompt_path
    votes.record_ranking(order=[other, C], shown=[other, C])
    assert len(votes.battles()) == 3
    assert [b.b for b in votes.battles(prompt="other.prompt.yml")] == [other, C]
    assert len(votes.battles(prompt=P)) == 3
    assert votes.battles(since="2999-01-01T00:00:00+00:00") == []
    assert len(votes.battles(until="2999-01-01T00:00:00+00:00", voter="ada")) == 3


def test_votes_from_many_threads_all_land(votes, db_path):
    def work(t):
        for i in range(25):
            votes.record_vote(a=A, b=B, winner="ab"[i % 2], test_case=f"{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert count(db_path, "votes") == 200


# --- durability -----------------------------------------------------------------------------------

CHILD_VOTER = """
import sys, time
from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore
store = RunStore({path!r})
votes = VoteStore(store)
vid = votes.record_vote(a=Contestant("p", "v1", "m"), b=Contestant("p", "v2", "m"), winner="b", note="human work")
print(vid, flush=True)
time.sleep(60)
"""


def test_a_vote_is_on_disk_when_record_vote_returns(db_path):
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHILD_VOTER.format(path=str(db_path)))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        vid = child.stdout.readline().strip()
        assert vid, child.stderr.read() if child.poll() is not None else "no vote id"
        os.kill(child.pid, signal.SIGKILL)  # no close, no flush, no atexit
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    conn = raw(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    row = conn.execute("SELECT winner, note FROM votes WHERE id = ?", [vid]).fetchone()
    conn.close()
    assert tuple(row) == ("b", "human work")


def test_the_writer_goes_back_to_synchronous_normal_after_a_vote(votes, runs):
    votes.record_vote(a=A, b=B, winner="a")
    with pytest.raises(PromptbenchError):
        votes.record_vote(a=A, b=B, winner="a", session_id="missing")  # a failed vote restores it too
    level = runs.db.write("check", lambda db: db.execute("PRAGMA synchronous").fetchone()[0], wait=True)
    assert level == 1  # NORMAL: run writes keep their cheap commits


# --- N-way rankings -------------------------------------------------------------------------------


def test_ranking_is_stored_once_and_expands_into_pairs_with_ties(votes, db_path):
    # chosen: A best, then B and C tied, then D; shown left to right: D, B, A, C
    rid = votes.record_ranking(order=[A, B, C, D], shown=[D, B, A, C], ties=[[1, 2]], test_case="t1",
                               run_ids=["ra", "rb", None, "rd"], note="close call")  # fmt: skip
    assert count(db_path, "votes") == 1
    v = votes.get_vote(rid)
    assert v["kind"] == "ranking" and v["winner"] is None and v["note"] == "close call"
    assert [(c["version"], c["model"], c["rank"], c["run_id"]) for c in v["contestants"]] == [
        ("v1", "gpt", 1, "ra"), ("v2", "gpt", 2, "rb"), ("v1", "claude", 2, None), ("v2", "claude", 4, "rd")]  # fmt: skip
    assert v["positions"] == {"shown": [3, 1, 0, 2]}
    assert votes.battles() == [
        Battle(A, B, "a", "t1", left="b"),  # B was shown left of A
        Battle(A, C, "a", "t1", left="a"),
        Battle(A, D, "a", "t1", left="b"),
        Battle(B, C, "tie", "t1", left="a"),
        Battle(B, D, "a", "t1", left="b"),
        Battle(C, D, "a", "t1", left="b"),
    ]
    votes.record_ranking(order=[C, A], shown=[C, A], run_ids={C: "rc"})
    assert votes.battles()[-1] == Battle(C, A, "a", None, left="a")


def test_rank_numbers():
    assert rank_numbers(4, None) == [1, 2, 3, 4]
    assert rank_numbers(4, [[0, 1], [2, 3]]) == [1, 1, 3, 3]
    assert rank_numbers(3, [[2, 1, 0]]) == [1, 1, 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(order=[A], shown=[A]), "at least two"),
        (dict(order=[A, A], shown=[A, A]), "each once"),
        (dict(order=[A, B], shown=[A, C]), "exactly the contestants"),
        (dict(order=[A, B, C], shown=[A, B, C], ties=[[0, 2]]), "not adjacent"),
        (dict(order=[A, B, C], shown=[A, B, C], ties=[[0, 1], [1, 2]]), "repeated"),
        (dict(order=[A, B], shown=[A, B], ties=[[1, 2]]), "outside"),
        (dict(order=[A, B], shown=[A, B], ties=[[1]]), "at least two"),
        (dict(order=[A, B], shown=[A, B], run_ids=["x"]), "aligned"),
    ],
)
def test_bad_rankings_are_refused(votes, db_path, kwargs, match):
    with pytest.raises(PromptbenchError, match=match):
        votes.record_ranking(**kwargs)
    assert count(db_path, "votes") == 0


# --- JSONL import and export ----------------------------------------------------------------------


def side(c: Contestant) -> dict:
    return {"prompt": c.prompt, "version": c.version, "model": c.model}


def line(**kw) -> str:
    obj = {"a": side(A), "b": side(B), "winner": "a", "test_case": "0"}
    obj.update(kw)
    return json.dumps({k: v for k, v in obj.items() if v is not ...})


MIXED = [
    (line(test_case="good-1"), None),
    ('{"a": {"prompt": "p"', "invalid JSON: Expecting ',' delimiter at column 21"),
    ("[1, 2]", "not a JSON object (got array)"),
    (line(winner=..., test_case="bad-4"), 'missing field "winner"'),
    (line(b={"prompt": P, "version": "v2"}, test_case="bad-5"), 'missing field "b.model"'),
    (line(a={**side(A), "version": 1}, test_case="bad-6"), 'wrong type: "a.version" must be a string, not number'),
    (line(winner="c", test_case="bad-7"), 'unknown winner "c" (expected a, b, tie or both_bad)'),
    (line(b=side(A), test_case="bad-8"), "a and b are the same contestant"),
    ("   ", None),  # blank: ignored
    (line(test_case="good-10", left="b", voter="bo", created_at="2024-05-01T14:00:00+02:00", note="ok ✓", winner="tie"), None),
    (line(created_at="2024-05-01T12:00:00", test_case="bad-11"),
     'bad "created_at": 2024-05-01T12:00:00 has no time zone; pass an aware (UTC) date-time'),
    (line(a="gpt", test_case="bad-12"), 'wrong type: "a" must be an object with prompt, version and model, not string'),
    (line(test_case=["x"]), 'wrong type: "test_case" must be a string or a number, not array'),
    (line(winner="both_bad", test_case=7, id="given-id"), None),
    (line(test_case="bad-15", id="given-id"), 'duplicate id "given-id" (first on line 14)'),
    (line(winner=None, left="c", test_case="bad-16"),
     'wrong type: "winner" must be a string, not null; unknown left "c" (expected a or b: the contestant shown on the left)'),
]


def test_import_skips_each_malformed_line_and_reports_it_exactly(votes, db_path):
    text = "\n".join(t for t, _ in MIXED) + "\n"
    report = votes.import_jsonl(io.StringIO(text), source_name="mixed.jsonl")
    expected = [(n, reason) for n, (_, reason) in enumerate(MIXED, start=1) if reason]
    assert report.skipped == expected
    assert report.imported == 3
    rows = votes.votes()
    assert sorted(r["test_case"] for r in rows) == ["7", "good-1", "good-10"]
    assert not any(r["test_case"].startswith("bad") for r in rows)
    good10 = next(r for r in rows if r["test_case"] == "good-10")
    assert (good10["winner"], good10["left_side"], good10["voter"], good10["note"]) == ("tie", "b", "bo", "ok ✓")
    assert good10["created_at"] == "2024-05-01T12:00:00.000Z" and good10["source"] == "import"
    assert good10["source_name"] == "mixed.jsonl" and good10["blind"] is False and good10["a_run_id"] is None
    assert next(r for r in rows if r["test_case"] == "7")["id"] == "given-id"
    assert {r["voter"] for r in rows} == {"ada", "bo"}

    again = votes.import_jsonl(io.StringIO(text), source_name="mixed.jsonl")  # same file twice: nothing new
    assert again.imported == 0 and count(db_path, "votes") == 3
    ids = {r["test_case"]: r["id"] for r in rows}
    assert [r for n, r in again.skipped if n in (1, 10, 14)] == [
        f"duplicate: vote {ids[t]} is already in the database" for t in ("good-1", "good-10", "7")
    ]


def test_import_of_a_file_with_no_valid_line_writes_nothing(votes, db_path):
    report = votes.import_jsonl(["{", "", "null"], source_name="bad.jsonl")
    assert report.imported == 0 and [n for n, _ in report.skipped] == [1, 3]
    assert count(db_path, "votes") == 0


def test_export_import_round_trip(votes, tmp_path, monkeypatch):
    votes.record_vote(a=A, b=B, winner="a", test_case=0, note="first")
    votes.record_vote(a=C, b=B, winner="both_bad", left="b", blind=False, voter="bo")
    votes.record_ranking(order=[D, A, C], shown=[A, C, D], ties=[[1, 2]], test_case="t9")
    votes.import_jsonl([line(test_case="imported", winner="b")], source_name="old.jsonl")
    first = io.StringIO()
    assert votes.export_jsonl(first) == 1 + 1 + 3 + 1
    exported = [json.loads(x) for x in first.getvalue().splitlines()]
    assert [x.get("from_ranking") is not None for x in exported] == [False, False, True, True, True, False]

    with RunStore(tmp_path / "other" / "promptbench.db") as other_runs:
        other = VoteStore(other_runs, voter="someone-else")
        report = other.import_jsonl(io.StringIO(first.getvalue()), source_name="export.jsonl")
        assert (report.imported, report.skipped) == (6, [])
        second = io.StringIO()
        other.export_jsonl(second)
        assert second.getvalue() == first.getvalue()
        assert other.battles() == votes.battles()
        assert other.import_jsonl(io.StringIO(first.getvalue()), source_name="export.jsonl").imported == 0
    # the export read back into the database it came from adds nothing either (rankings too)
    again = votes.import_jsonl(io.StringIO(first.getvalue()), source_name="export.jsonl")
    assert again.imported == 0 and len(again.skipped) == 6
    assert sum("duplicate: ranking" in r for _, r in again.skipped) == 3  # the ranking row is here, not its pairs
    assert all("already in the database" in r for _, r in again.skipped)
