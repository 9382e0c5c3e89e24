"""RunStore on real SQLite files: migrations, refusals, lifecycle, threads, durability."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from promptbench.core.db import database as dbmod
from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.events import RunMetrics
from promptbench.core.db.runs import RunStore
from tests.process_helpers import dead_owner, live_process

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
MESSAGES = [{"role": "system", "content": "Be brief. ünïcode ✓"}, {"role": "user", "content": "Hi {{x}}"}]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".promptbench" / "promptbench.db"


@pytest.fixture
def store(db_path: Path):
    s = RunStore(db_path)
    yield s
    s.close()


def start(store: RunStore, run_id: str, *, comparison_id=None, model_name="gpt", started_at=T0, **kw) -> None:
    args = dict(
        id=run_id, comparison_id=comparison_id, prompt_path="a.prompt.yml", prompt_version="abc123",
        test_case=0, model_name=model_name, model="openai/gpt-4o-mini", provider="openai",
        params={"temperature": 0.2}, messages=MESSAGES, started_at=started_at,
    )  # fmt: skip
    args.update(kw)
    store.run_started(**args)


def raw(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def run_child(code: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


# --- opening and migrations -----------------------------------------------------------------


def test_migrations_recorded_once_and_idempotent(db_path):
    RunStore(db_path).close()
    RunStore(db_path).close()
    conn = raw(db_path)
    assert [r["name"] for r in conn.execute("SELECT name FROM _migrations")] == [fn.__name__ for fn in dbmod.MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"comparisons", "runs", "run_texts", "_migrations"} <= tables
    conn.close()

    def m002_add_thing(db):
        db.execute("ALTER TABLE runs ADD COLUMN thing TEXT")

    db = sqlite_utils.Database(db_path)
    assert dbmod.migrate(db, [*dbmod.MIGRATIONS, m002_add_thing]) == ["m002_add_thing"]
    assert dbmod.migrate(db, [*dbmod.MIGRATIONS, m002_add_thing]) == []
    assert dbmod.applied_migrations(db) == [*(fn.__name__ for fn in dbmod.MIGRATIONS), "m002_add_thing"]
    db.close()


def test_database_from_newer_promptbench_is_refused_and_left_alone(db_path):
    RunStore(db_path).close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO _migrations VALUES ('m099_from_the_future', '2030-01-01T00:00:00.000Z')")
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(PromptbenchError, match=r"newer promptbench.*m099_from_the_future.*Upgrade") as e:
        RunStore(db_path)
    assert str(db_path) in str(e.value)
    assert db_path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [b"this is a text file, not a database\n" * 200, b"SQLite format 3\x00" + bytes(range(256)) * 40],
    ids=["not-sqlite", "damaged-sqlite"],
)
def test_corrupt_file_is_refused_and_never_overwritten(db_path, content):
    db_path.parent.mkdir()
    db_path.write_bytes(content)
    with pytest.raises(PromptbenchError, match="move it aside") as e:
        RunStore(db_path)
    assert str(db_path) in str(e.value)
    assert db_path.read_bytes() == content


def test_someone_elses_sqlite_file_is_refused(db_path):
    db_path.parent.mkdir()
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.close()
    with pytest.raises(PromptbenchError, match="not promptbench's.*invoices"):
        RunStore(db_path)


# --- writing and reading -----------------------------------------------------------------------


def test_run_lifecycle_started_then_ended(store):
    store.create_comparison(
        id="c1", prompt_path="a.prompt.yml", prompt_version="draft:0123abcd", test_case=1,
        variables={"x": "ünï"}, local_mode="parallel", models=["gpt", "local"], note="first try",
    )  # fmt: skip
    start(store, "r1", comparison_id="c1")
    store.flush()
    run = store.get_run("r1")
    assert run["status"] == "running" and run["messages"] == MESSAGES and run["output"] is None
    assert run["started_at"] == "2024-05-01T12:00:00.000Z" and run["ended_at"] is None

    metrics = RunMetrics(ttft_ms=120.5, tokens_per_s=42.0, itl_p50_ms=20.0, itl_p95_ms=35.0, total_ms=900.0,
                         input_tokens=12, input_tokens_reported=True, output_tokens=30, tokens_reported=True,
                         cost_usd=0.00012, cost_note="litellm price map", retries=1, finish_reason="stop")  # fmt: skip
    store.run_ended("r1", status="finished", output="Hello ✓", metrics=metrics, ended_at=T0 + timedelta(seconds=1))
    store.flush()
    run = store.get_run("r1")
    assert run["status"] == "finished" and run["output"] == "Hello ✓" and run["output_chars"] == 7
    assert run["ended_at"] == "2024-05-01T12:00:01.000Z"
    assert {k: run[k] for k in metrics.to_json()} == metrics.to_json()

    comparison = store.get_comparison("c1")
    assert comparison["models"] == ["gpt", "local"] and comparison["variables"] == {"x": "ünï"}
    assert comparison["note"] == "first try" and comparison["prompt_version"] == "draft:0123abcd"
    assert [r["id"] for r in comparison["runs"]] == ["r1"] and comparison["runs"][0]["output"] == "Hello ✓"
    assert store.get_comparison("nope") is None and store.get_run("nope") is None
    [listed] = store.list_comparisons()
    assert listed["id"] == "c1" and listed["run_count"] == 1


def test_json_columns_round_trip(store):
    variables = {"name": "Ada", "nested": {"list": [1, 2.5, None, True]}, "emoji": "🙂"}
    params = {"temperature": 0.0, "max_tokens": 64, "stop": ["\n\n"], "response_format": {"type": "json_object"}}
    store.create_comparison(id="c", prompt_path="p.prompt.yml", prompt_version=None, test_case=None,
                            variables=variables, local_mode=None, models=["a", "b"])  # fmt: skip
    start(store, "r", comparison_id="c", params=params, messages=MESSAGES)
    store.flush()
    c = store.get_comparison("c")
    assert c["variables"] == variables and c["models"] == ["a", "b"] and c["test_case"] is None
    assert c["runs"][0]["params"] == params and c["runs"][0]["messages"] == MESSAGES
    assert store.list_runs()[0]["params"] == params


def test_metrics_none_values_are_stored_as_null(store, db_path):
    start(store, "r")
    store.run_ended("r", status="error", output="", metrics=RunMetrics(), error_class="timeout", error="read timed out")
    store.flush()
    row = raw(db_path).execute("SELECT * FROM runs WHERE id = 'r'").fetchone()
    for col in ("ttft_ms", "tokens_per_s", "itl_p50_ms", "itl_p95_ms", "total_ms", "input_tokens", "cost_usd",
                "cost_note", "finish_reason"):  # fmt: skip
        assert row[col] is None, col
    assert (row["output_tokens"], row["retries"], row["tokens_reported"], row["input_tokens_reported"]) == (0, 0, 0, 0)
    assert (row["status"], row["error_class"], row["error"]) == ("error", "timeout", "read timed out")
    types = raw(db_path).execute("SELECT typeof(ttft_ms), typeof(cost_usd) FROM runs").fetchone()
    assert tuple(types) == ("null", "null")


def test_list_runs_filters(store):
    store.create_comparison(id="c1", prompt_path="a.prompt.yml", prompt_version="v1", test_case=None,
                            variables={}, local_mode=None, models=["gpt"])  # fmt: skip
    for i in range(10):
        start(store, f"r{i}", model_name="gpt" if i % 2 else "local", started_at=T0 + timedelta(minutes=i),
              prompt_version="v1" if i < 5 else "v2", prompt_path="a.prompt.yml" if i < 8 else "b.prompt.yml",
              comparison_id="c1" if i < 3 else None)  # fmt: skip
    for i in range(0, 10, 3):
        store.run_ended(f"r{i}", status="finished", output="x" * i, metrics=RunMetrics(output_tokens=i))
    store.flush()

    def ids(**kw):
        return [r["id"] for r in store.list_runs(**kw)]

    assert ids() == [f"r{i}" for i in range(9, -1, -1)]  # newest first
    assert "output" not in store.list_runs()[0] and "messages" not in store.list_runs()[0]
    assert ids(model_name="gpt") == ["r9", "r7", "r5", "r3", "r1"]
    assert ids(prompt_path="b.prompt.yml") == ["r9", "r8"]
    assert ids(prompt_path="a.prompt.yml", prompt_version="v2") == ["r7", "r6", "r5"]
    assert ids(status="finished") == ["r9", "r6", "r3", "r0"]
    assert ids(status="running", model_name="local") == ["r8", "r4", "r2"]
    assert ids(comparison_id="c1") == ["r2", "r1", "r0"]
    assert ids(since=T0 + timedelta(minutes=7)) == ["r9", "r8", "r7"]
    assert ids(until="2024-05-01T14:02:00+02:00") == ["r1", "r0"]  # other offsets are normalised to UTC
    assert ids(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=5), model_name="gpt") == ["r3"]
    assert ids(limit=3, offset=2) == ["r7", "r6", "r5"]
    assert store.list_comparisons(prompt_path="b.prompt.yml") == []


def test_writes_from_many_threads_all_land(store):
    n_threads, per_thread = 8, 150

    def work(t):
        for i in range(per_thread):
            start(store, f"t{t}-{i}", started_at=datetime.now(timezone.utc))
            store.run_ended(f"t{t}-{i}", status="finished", output=f"out {t} {i}", metrics=RunMetrics(output_tokens=i))
            if i % 50 == 0:
                store.list_runs(limit=5)  # readers run beside the writer

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    runs = store.list_runs(limit=10_000)
    assert len(runs) == n_threads * per_thread and {r["status"] for r in runs} == {"finished"}
    assert store.get_run("t3-77")["output"] == "out 3 77"
    assert store.errors == []


def test_failed_write_is_recorded_and_the_writer_keeps_going(store):
    start(store, "dup")
    start(store, "dup")  # primary key clash
    store.run_ended("ghost", status="finished", output="", metrics=RunMetrics())  # never started
    start(store, "after")
    with pytest.raises(PromptbenchError, match="not saved") as e:
        store.flush()
    assert "1 more failed" in str(e.value)
    assert len(store.errors) == 2 and "ghost" in str(store.errors[1])
    assert store.get_run("after")["status"] == "running"
    store.flush()  # already reported: no second raise


def test_bad_arguments_raise_in_the_caller(store):
    with pytest.raises(PromptbenchError, match="status"):
        store.run_ended("r", status="done", output="", metrics=RunMetrics())
    with pytest.raises(PromptbenchError, match="time zone"):
        start(store, "r", started_at=datetime(2024, 1, 1))
    with pytest.raises(PromptbenchError, match="JSON"):
        start(store, "r", params={"x": object()})
    with pytest.raises(PromptbenchError, match="local_mode"):
        store.create_comparison(id="c", prompt_path="p", prompt_version=None, test_case=None, variables={},
                                local_mode="both", models=[])  # fmt: skip


def test_close_is_idempotent_and_later_writes_are_refused(db_path):
    store = RunStore(db_path)
    start(store, "r")
    store.close()  # flushes
    store.close()
    with pytest.raises(PromptbenchError, match="closed"):
        start(store, "r2")
    assert raw(db_path).execute("SELECT count(*) FROM runs").fetchone()[0] == 1


def test_mark_interrupted_only_touches_runs_of_earlier_processes(db_path):
    with RunStore(db_path) as first:
        start(first, "old1")
        start(first, "old2")
        start(first, "done")
        first.run_ended("done", status="finished", output="ok", metrics=RunMetrics())
        first.flush()
    with sqlite3.connect(db_path) as raw:  # "first" was a process that has ended since
        raw.execute("UPDATE runs SET owner = ?", [dead_owner()])
    raw.close()
    with RunStore(db_path) as second:
        start(second, "mine")
        assert second.mark_interrupted() == 2
        assert second.mark_interrupted() == 0
        assert second.get_run("old1")["status"] == "interrupted"
        assert second.get_run("mine")["status"] == "running"
        assert second.get_run("done")["status"] == "finished"


def test_mark_interrupted_leaves_the_runs_of_another_live_instance_alone(db_path):
    """Two promptbench instances on one workspace: the second's start-up must not call the
    first's in-flight runs interrupted; once the first has died, they are."""
    other, tag = live_process()
    try:
        with RunStore(db_path) as store:
            start(store, "theirs")
            start(store, "legacy")
            store.flush()
        with sqlite3.connect(db_path) as raw:
            raw.execute("UPDATE runs SET owner = ? WHERE id = 'theirs'", [tag])
            raw.execute("UPDATE runs SET owner = NULL WHERE id = 'legacy'")  # written before owners existed
        raw.close()
        with RunStore(db_path) as store:
            assert store.mark_interrupted() == 1
            assert store.get_run("theirs")["status"] == "running" and store.get_run("legacy")["status"] == "interrupted"
            other.kill()
            other.wait()
            assert store.mark_interrupted() == 1 and store.get_run("theirs")["status"] == "interrupted"
    finally:
        other.kill()
        other.wait()


def test_insert_many_runs(store):
    rows = [
        dict(id=f"b{i}", model_name="m", prompt_path="p.prompt.yml", status="finished", started_at=T0,
             params={"t": i}, ttft_ms=float(i), tokens_reported=True, messages=MESSAGES, output="o" * i)
        for i in range(1200)
    ]  # fmt: skip
    store.insert_many_runs(rows)
    store.flush()
    assert len(store.list_runs(limit=5000)) == 1200
    run = store.get_run("b42")
    assert run["params"] == {"t": 42} and run["tokens_reported"] is True and run["output_chars"] == 42
    assert run["messages"] == MESSAGES
    with pytest.raises(PromptbenchError, match="api_key"):
        store.insert_many_runs([dict(rows[0], id="x", api_key="sk-nope")])


# --- durability across processes -------------------------------------------------------------

CHILD_WRITER = """
    import sys, time
    from datetime import datetime, timezone
    from promptbench.core.engine.events import RunMetrics
    from promptbench.core.db.runs import RunStore
    store = RunStore({path!r})
    for i in range(50):
        store.run_started(id=f"k{{i}}", comparison_id=None, prompt_path="a.prompt.yml", prompt_version="v",
                          test_case=None, model_name="m", model="x/m", provider="x", params={{}},
                          messages=[{{"role": "user", "content": "hi"}}], started_at=datetime.now(timezone.utc))
        store.run_ended(f"k{{i}}", status="finished", output="out" * 100, metrics=RunMetrics(output_tokens=i))
    store.flush()
    print("ok", flush=True)
    time.sleep(60)
"""


def test_rows_are_visible_to_another_process_after_flush(store, db_path):
    for i in range(20):
        start(store, f"r{i}")
    store.flush()
    code = f"""
        import sqlite3
        conn = sqlite3.connect({str(db_path)!r})
        print(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    """
    child = run_child(code)
    out, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert out.strip() == "20"


def test_sigkill_right_after_flush_keeps_the_rows_and_a_sound_file(db_path):
    child = run_child(CHILD_WRITER.format(path=str(db_path)))
    try:
        line = child.stdout.readline()
        assert line.strip() == "ok", child.stderr.read() if child.poll() is not None else line
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    conn = raw(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 50
    assert conn.execute("SELECT count(*) FROM run_texts WHERE output = ?", ["out" * 100]).fetchone()[0] == 50
    conn.close()
    with RunStore(db_path) as store:  # reopens cleanly after the crash
        assert store.mark_interrupted() == 0
        assert len(store.list_runs()) == 50


def test_a_store_nobody_closed_is_flushed_at_interpreter_exit(db_path):
    code = CHILD_WRITER.format(path=str(db_path)).replace("store.flush()", "").replace("time.sleep(60)", "")
    child = run_child(code)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0 and out.strip() == "ok", err
    conn = raw(db_path)
    assert conn.execute("SELECT count(*) FROM runs WHERE status = 'finished'").fetchone()[0] == 50
    conn.close()


def test_reads_after_close_are_refused(db_path):
    store = RunStore(db_path)
    store.list_runs()
    store.close()
    with pytest.raises(PromptbenchError, match="closed"):
        store.list_runs()
