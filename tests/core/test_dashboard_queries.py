"""Dashboard aggregates on real SQLite files with known synthetic runs: every figure is
checked against an independent computation in plain Python/numpy over the same rows;
quantiles equal numpy.quantile; the index-walking and bulk paths agree; an incremental
update equals a full reload."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from promptbench.core.db.access import Database
from promptbench.core.dashboard import series as S
from promptbench.core.db import database as dbmod
from promptbench.core.db import migrations
from promptbench.core.dashboard.queries import BAND_QS, BOX_QS, load, run_ids, update
from promptbench.core.dashboard.sql import Filters, create_index_sql
from promptbench.core.engine.events import RunMetrics
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore

START = datetime(2026, 1, 1, 6, tzinfo=timezone.utc)
MODELS = {"alpha": "p1", "beta": "p2", "gamma": "p1"}
PROMPTS = {"a.prompt.yml": ["va1", "va2"], "b.prompt.yml": ["vb1"]}
ERRORS = ("rate_limit", "timeout", "server")


def make_runs(n: int = 240, seed: int = 3, start: datetime = START, days: float = 6.0, prefix: str = "r") -> list[dict]:
    """Known runs: dyadic costs (sums are exact), every status, NULL metrics here and there."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        model = rng.choice(sorted(MODELS))
        prompt = rng.choice(sorted(PROMPTS))
        started = start + timedelta(seconds=rng.uniform(0, days * 86400))
        roll = rng.random()
        status = "error" if roll < 0.12 else "cancelled" if roll < 0.16 else "finished"
        total = round(rng.uniform(200, 5000), 3)
        row = {
            "id": f"{prefix}{i:04d}", "prompt_path": prompt, "prompt_version": rng.choice(PROMPTS[prompt]),
            "test_case": rng.randrange(3), "model_name": model, "model": f"openai/{model}",
            "provider": MODELS[model], "status": status, "started_at": started,
            "ended_at": started + timedelta(milliseconds=total),
            "ttft_ms": round(rng.uniform(50, 900), 3) if rng.random() > 0.05 else None,
            "tokens_per_s": round(rng.uniform(5, 150), 3) if rng.random() > 0.05 else None,
            "total_ms": total if rng.random() > 0.03 else None,
            "input_tokens": rng.randrange(10, 500), "output_tokens": rng.randrange(0, 400),
            "cost_usd": rng.randrange(0, 64) / 1024 if rng.random() > 0.1 else None,
            "output": "x" * rng.randrange(0, 300),
            "messages": [{"role": "user", "content": f"case {i}"}],
        }  # fmt: skip
        if status == "error":
            row.update(error_class=rng.choice(ERRORS), error="provider said no", ttft_ms=None, tokens_per_s=None)
        rows.append(row)
    rows.append({"id": f"{prefix}-running", "prompt_path": "a.prompt.yml", "prompt_version": "va1", "model_name": "alpha",
                 "provider": "p1", "status": "running", "started_at": start + timedelta(hours=1)})  # fmt: skip
    rows.append({"id": f"{prefix}-interrupted", "prompt_path": "b.prompt.yml", "prompt_version": "vb1",
                 "model_name": "beta", "provider": "p2", "status": "interrupted", "started_at": start + timedelta(hours=2),
                 "input_tokens": 7, "cost_usd": 0.5})  # fmt: skip
    return rows


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / ".promptbench" / "promptbench.db"


@pytest.fixture
def store(db_path):
    runs = RunStore(db_path)
    yield runs
    runs.close()


def add_judgements(store: RunStore, rows: list[dict], db_path: Path, seed: int = 5) -> None:
    rng = random.Random(seed)
    votes = VoteStore(store, voter="ada")
    for r in rows[:: 9]:
        if r["status"] == "finished":
            votes.record_thumb(value=rng.choice([1, 1, -1]), run_id=r["id"])
    conn = sqlite3.connect(db_path)  # evaluation results as the eval engine writes them
    with conn:
        for i, r in enumerate(rows[::5]):
            if r["status"] != "finished":
                continue
            created = dbmod.to_utc_iso(r["ended_at"] + timedelta(minutes=1))
            passed = None if i % 7 == 0 else int(rng.random() < 0.6)
            conn.execute(
                "INSERT INTO eval_results (id, batch_id, run_id, prompt_path, prompt_version, model_name, test_case,"
                " evaluator, kind, passed, created_at) VALUES (?, 'b1', ?, ?, ?, ?, ?, 'contains', 'string', ?, ?)",
                [f"e{r['id']}", r["id"], r["prompt_path"], r["prompt_version"], r["model_name"], r["test_case"], passed,
                 created],
            )  # fmt: skip
    conn.close()


@pytest.fixture
def filled(store, db_path):
    rows = make_runs()
    store.insert_many_runs(rows)
    store.flush()
    add_judgements(store, rows, db_path)
    return rows


def iso(value) -> str:
    return dbmod.to_utc_iso(value)


def matches(r: dict, f: Filters) -> bool:
    for col in ("prompt_path", "prompt_version", "model_name", "provider"):
        if getattr(f, col) is not None and r.get(col) != getattr(f, col):
            return False
    start = iso(r["started_at"])
    return (f.since is None or start >= f.since) and (f.until is None or start < f.until)


def expected(rows: list[dict], f: Filters, width: int = 10) -> dict:
    """Every aggregate computed independently from the rows."""
    ended = [r for r in rows if r["status"] != "running" and matches(r, f)]
    time, errors, versions, values = {}, {}, {}, {"ttft_ms": {}, "tokens_per_s": {}, "total_ms": {}}
    for r in ended:
        key = (iso(r["started_at"])[:width], r["model_name"], r["provider"], r["status"])
        v = time.setdefault(key, [0, 0.0, 0, 0, 0, 0, 0, 0])
        cost = r.get("cost_usd")
        v[0] += 1
        v[1] += cost or 0.0
        v[2] += cost is not None
        v[3] += r.get("input_tokens") or 0
        v[4] += r.get("output_tokens") or 0
        for slot, col in ((5, "ttft_ms"), (6, "tokens_per_s"), (7, "total_ms")):
            v[slot] += r.get(col) is not None
        if r["status"] == "error":
            errors[(r["provider"], r["error_class"])] = errors.get((r["provider"], r["error_class"]), 0) + 1
        if r["status"] == "finished":
            chars = len(r.get("output") or "")
            s = versions.setdefault((r["prompt_path"], r["prompt_version"]), [0, 0, 0, 0, 0, iso(r["started_at"])])
            s[0] += 1
            s[1] += chars
            s[2] += 1
            s[3] += r["output_tokens"]
            s[4] += 1
            s[5] = min(s[5], iso(r["started_at"]))
            for col in values:
                if r.get(col) is not None:
                    group = iso(r["started_at"])[:width] if col == "total_ms" else r["model_name"]
                    values[col].setdefault(group, []).append(r[col])
    return {"time": time, "errors": errors, "versions": versions, "values": values}


def check_against(data, rows: list[dict], width: int = 10) -> None:
    exp = expected(rows, data.filters, width)
    assert data.time == exp["time"]
    assert data.errors == exp["errors"]
    assert data.versions == exp["versions"]
    for attr, col, qs in (("ttft", "ttft_ms", BOX_QS), ("tps", "tokens_per_s", BOX_QS), ("latency", "total_ms", BAND_QS)):
        got = getattr(data, attr)
        assert set(got) == set(exp["values"][col])
        for key, vals in exp["values"][col].items():
            assert got[key].n == len(vals)
            assert got[key].values == pytest.approx(tuple(np.quantile(vals, qs)), rel=1e-12, abs=1e-9)


def test_aggregates_equal_an_independent_computation(filled, db_path):
    conn = Database.readonly(db_path)
    data = load(conn)
    assert data.bucket == "day"
    check_against(data, filled)
    assert data.total_runs() == len(filled) - 1  # the running run is not counted
    # spot checks with literal numbers
    assert sum(v[0] for k, v in data.time.items() if k[3] == "error") == sum(r["status"] == "error" for r in filled)
    assert ("p2", "interrupted") not in data.errors and any(k[3] == "interrupted" for k in data.time)
    assert data.evals_available and data.thumbs and data.evals


def test_thumbs_and_eval_pass_counts(filled, db_path):
    data = load(Database.readonly(db_path))
    raw = sqlite3.connect(db_path)
    thumbs = {}
    for p, v, created, value in raw.execute("SELECT prompt, version, created_at, value FROM thumbs"):
        cell = thumbs.setdefault((p, v, created[:10]), [0, 0])
        cell[0] += value > 0
        cell[1] += 1
    evals = {}
    for p, v, created, passed in raw.execute("SELECT prompt_path, prompt_version, created_at, passed FROM eval_results"):
        if passed is not None:
            cell = evals.setdefault((p, v, created[:10]), [0, 0])
            cell[0] += passed
            cell[1] += 1
    assert data.thumbs == thumbs and data.evals == evals
    rates = S.rates(data, "evals")
    for name, y in rates.lines.items():
        key = rates.line_keys[name]
        for i, bucket in enumerate(rates.keys):
            cell = evals.get((*key, bucket))
            assert (np.isnan(y[i]) and cell is None) or y[i] == pytest.approx(cell[0] / cell[1] * 100)


@pytest.mark.parametrize("f", [
    Filters(prompt_path="a.prompt.yml"),
    Filters(prompt_path="a.prompt.yml", prompt_version="va2"),
    Filters(model_name="beta"),
    Filters(provider="p1"),
    Filters(since=START + timedelta(days=1), until=START + timedelta(days=4, hours=3)),
    Filters(provider="p1", since=START + timedelta(days=2)),
    Filters(model_name="nobody"),
])  # fmt: skip
def test_filters_apply_to_every_aggregate(filled, db_path, f):
    data = load(Database.readonly(db_path), f)
    check_against(data, filled)
    if f.model_name == "nobody":
        assert data.total_runs() == 0 and not data.ttft and not data.latency and not data.thumbs


def test_index_walks_and_bulk_reads_agree(filled, db_path, tmp_path):
    bare = load(Database.readonly(db_path))
    indexed_path = tmp_path / "indexed.db"
    conn = sqlite3.connect(indexed_path)
    with sqlite3.connect(db_path) as src:
        src.backup(conn)  # the WAL included
    for sql in create_index_sql():
        conn.execute(sql)
    conn.commit()
    conn.close()
    for f in (Filters(), Filters(prompt_path="b.prompt.yml", provider="p2")):
        with_index = load(Database.readonly(indexed_path), f)
        check_against(with_index, filled)
        plain = bare if f == Filters() else load(Database.readonly(db_path), f)
        assert with_index.time == plain.time and with_index.versions == plain.versions
        for attr in ("ttft", "tps", "latency"):
            a, b = getattr(with_index, attr), getattr(plain, attr)
            assert a.keys() == b.keys()
            for key in a:
                assert a[key].n == b[key].n and a[key].values == pytest.approx(b[key].values, rel=1e-12)


def finish(store: RunStore, run_id: str, model: str, started: datetime, ended: datetime, **metrics) -> None:
    store.run_started(id=run_id, comparison_id=None, prompt_path="a.prompt.yml", prompt_version="va2", test_case=0,
                      model_name=model, model=f"openai/{model}", provider=MODELS[model], params={}, messages=[],
                      started_at=started)  # fmt: skip
    store.run_ended(run_id, status="finished", output="hello world", metrics=RunMetrics(**metrics), ended_at=ended)


@pytest.mark.parametrize("indexed", [False, True])
def test_incremental_update_equals_a_full_reload(store, db_path, indexed):
    rows = make_runs(120)
    store.insert_many_runs(rows)
    store.flush()
    add_judgements(store, rows, db_path)
    if indexed:
        conn = sqlite3.connect(db_path)
        for sql in create_index_sql():
            conn.execute(sql)
        conn.commit()
        conn.close()
    conn = Database.readonly(db_path)
    for f in (Filters(), Filters(provider="p1")):
        before = load(conn, f)
        watermark = datetime.fromisoformat(before.watermark.replace("Z", "+00:00"))
        # a run that ends later; one ending at the very same millisecond as the watermark;
        # one started long ago (old bucket); new runs in a new day; more thumbs and results
        tag = "x" if f == Filters() else "y"
        new_rows = make_runs(30, seed=11, start=watermark + timedelta(minutes=5), days=1.5, prefix=f"n{tag}")
        new_rows = [r for r in new_rows if r.get("ended_at")]  # live runs end; "interrupted" is set at start-up
        store.insert_many_runs(new_rows)
        finish(store, f"same-ms-{tag}", "alpha", START, watermark, ttft_ms=123.0, tokens_per_s=50.0, total_ms=999.0,
               output_tokens=3, cost_usd=0.25)  # fmt: skip
        store.flush()
        add_judgements(store, new_rows, db_path, seed=9)
        after = update(conn, before)
        assert after is not None and after is not before
        assert after.new_runs == sum(1 for r in new_rows if matches(r, f)) + (
            1 if matches({"model_name": "alpha", "provider": "p1", "prompt_path": "a.prompt.yml", "started_at": START,
                          "prompt_version": "va2"}, f) else 0)  # fmt: skip
        fresh = load(conn, f)
        for attr in ("time", "errors", "versions", "thumbs", "evals", "watermark"):
            assert getattr(after, attr) == getattr(fresh, attr), attr
        for attr in ("ttft", "tps", "latency"):
            a, b = getattr(after, attr), getattr(fresh, attr)
            assert a.keys() == b.keys()
            for key in a:
                assert a[key].n == b[key].n and a[key].values == pytest.approx(b[key].values, rel=1e-12)
        assert before.total_runs() < after.total_runs()
        again = update(conn, after)
        assert again.new_runs == 0 and again.time == after.time


def test_hourly_buckets_when_runs_span_a_day(store, db_path):
    rows = make_runs(80, start=START, days=0.9)
    store.insert_many_runs(rows)
    store.flush()
    data = load(Database.readonly(db_path))
    assert data.bucket == "hour"
    assert all(len(k[0]) == 13 for k in data.time) and all(len(k) == 13 for k in data.latency)
    check_against(data, rows, width=13)
    one_day = Filters(since=START.date(), until=START.date() + timedelta(days=2))
    assert load(Database.readonly(db_path), one_day).bucket == "hour"


def old_database(path):
    """An m001 + m002 database (before evals and kinds) with one finished run of alpha."""
    conn = sqlite3.connect(path)
    dbmod.migrate(sqlite_utils.Database(conn), [migrations.m001_initial, migrations.m002_votes])
    conn.execute("INSERT INTO runs (id, model_name, provider, status, started_at, ended_at, total_ms, ttft_ms)"
                 " VALUES ('r1', 'alpha', 'p1', 'finished', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z',"
                 " 1000, 100)")  # fmt: skip
    conn.commit()
    conn.close()
    return path


def test_no_eval_table_yet_answers_without_pass_rates(tmp_path):
    path = old_database(tmp_path / "old.db")
    data = load(Database.readonly(path))
    assert not data.evals_available and data.evals == {} and data.total_runs() == 1
    assert S.rates(data, "evals").lines == {}
    assert update(Database.readonly(path), data).new_runs == 0


def test_series_and_the_runs_behind_a_point(filled, db_path):
    conn = Database.readonly(db_path)
    data = load(conn)
    daily = S.cost(data, by="provider")
    total = S.cost(data, by="provider", cumulative=True)
    for name in daily.lines:
        assert np.allclose(np.cumsum(daily.lines[name]), total.lines[name])
        assert total.lines[name][-1] == sum(r.get("cost_usd") or 0 for r in filled
                                             if r["status"] != "running" and r["provider"] == name)  # fmt: skip
    assert len(daily.keys) == len(set(daily.keys)) and daily.keys == sorted(daily.keys)
    errs = S.errors(data)
    for i, p in enumerate(errs.providers):
        ended = [r for r in filled if r["provider"] == p and r["status"] != "running"]
        assert errs.totals[i] == len(ended)
        for j, cls in enumerate(errs.classes):
            n = sum(r["status"] == "error" and r.get("error_class") == cls for r in ended)
            assert errs.counts[i, j] == n and errs.rates[i, j] == pytest.approx(100 * n / len(ended))
    lat = S.latency(data)
    assert list(lat.keys) == sorted(data.latency) and lat.table()[1][0][1] == data.latency[lat.keys[0]].n
    day = lat.keys[1]
    point = Filters(model_name="beta", since=f"{day}T00:00:00Z", until=f"{day}T23:59:59.999Z")
    got = run_ids(conn, point, status="finished")
    want = sorted((r for r in filled if r["model_name"] == "beta" and r["status"] == "finished"
                   and iso(r["started_at"])[:10] == day), key=lambda r: iso(r["started_at"]), reverse=True)  # fmt: skip
    assert [g[0] for g in got] == [r["id"] for r in want]
    header, table = S.output_length(data).table()
    assert header[0] == "prompt" and len(table) == len(data.versions)


def test_spikes_are_buckets_well_above_their_neighbours():
    p50 = np.array([100, 102, 98, 101, 400, 99, 100, 103.0])
    p95 = np.array([300, 310, 290, 305, 320, 900, 300, 310.0])
    n = np.array([50, 50, 50, 50, 50, 50, 50, 3])
    assert S.spikes(p50, p95, n).tolist() == [False, False, False, False, True, True, False, False]


def test_filters_normalise_and_narrow():
    f = Filters(since=datetime(2026, 1, 2, tzinfo=timezone.utc).date(), until="2026-01-05T00:00:00+00:00")
    assert f.since == "2026-01-02T00:00:00.000Z" and f.until == "2026-01-05T00:00:00.000Z"
    n = f.narrowed(since="2026-01-01T00:00:00Z", until="2026-01-03T00:00:00Z", model_name="alpha")
    assert (n.since, n.until, n.model_name) == ("2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z", "alpha")
    assert n.to_json() == {"model_name": "alpha", "since": n.since, "until": n.until}


def test_filters_carry_their_kinds_through_narrowing_and_json():
    from promptbench.core.errors import PromptbenchError

    assert Filters().kinds == ("comparison", "eval_cell") and "kinds" not in Filters().to_json()  # the default
    every = Filters(kinds="all")
    assert every.kinds is None and every.to_json() == {"kinds": "all"}
    n = Filters(kinds=["judge", "comparison"]).narrowed(model_name="alpha")
    assert n.kinds == ("comparison", "judge") and n.to_json() == {"model_name": "alpha", "kinds": ["comparison", "judge"]}
    assert Filters(**n.to_json()) == n and Filters(**every.to_json()) == every
    with pytest.raises(PromptbenchError, match="unknown run kind 'judges'"):
        Filters(kinds=["judges"])
