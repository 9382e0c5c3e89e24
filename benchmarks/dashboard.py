"""Dashboard at 100,000 runs: time spent in queries, and the GUI thread while it refreshes.

Run: .venv/bin/python benchmarks/dashboard.py [--runs 100000] [--no-indexes]
1. Generates a realistic history with ``populate`` (below): 8 models on 4 providers,
   6 prompts with 3-6 versions each, 90 days, ~3 % errors, latency spikes, thumbs,
   votes and evaluation results, written through RunStore.insert_many_runs.
2. Query time of a full dashboard refresh: the sum over every dashboard query
   (core.dashboard_queries.load), p50 of 5, and of an incremental update after 20
   more runs end.
3. The real DashboardView (offscreen) with a 10 ms heartbeat QTimer on the GUI thread:
   the longest stall (gap beyond 10 ms) during each of 5 full refreshes, during a live
   update (runs inserted + RunFinished on the bridge), and when the tab is first shown.
Targets (dashboard issue): queries <= 150 ms, GUI stall <= 50 ms. Exit 1 if missed.
The indexes the queries are written for (core.dashboard_sql.PROPOSED_INDEXES) are
created in the benchmark database when its schema does not have them yet.

``populate(runs, n=100_000, days=90, seed=7)`` is also what scripts/screenshots.py
uses to put realistic data on screen.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

# name, litellm model, provider, median TTFT ms, tokens/s, $ per M input, $ per M output, quality
MODELS = [
    ("gpt-4o-mini", "openai/gpt-4o-mini", "openai", 380, 95, 0.15, 0.60, 0.62),
    ("gpt-4o", "openai/gpt-4o", "openai", 520, 70, 2.50, 10.0, 0.74),
    ("claude-haiku", "anthropic/claude-3-5-haiku", "anthropic", 450, 85, 0.80, 4.00, 0.66),
    ("claude-sonnet", "anthropic/claude-3-5-sonnet", "anthropic", 700, 60, 3.00, 15.0, 0.80),
    ("gemini-flash", "gemini/gemini-1.5-flash", "google", 330, 140, 0.075, 0.30, 0.58),
    ("gemini-pro", "gemini/gemini-1.5-pro", "google", 610, 65, 1.25, 5.00, 0.72),
    ("smollm2-135m", "local/smollm2-135m-instruct", "local", 120, 12, 0.0, 0.0, 0.25),
    ("gemma3-270m", "local/gemma3-270m", "local", 160, 9, 0.0, 0.0, 0.30),
]
MODEL_WEIGHTS = [24, 10, 14, 9, 16, 8, 11, 8]
PROMPTS = ["summarize.prompt.yml", "classify-ticket.prompt.yml", "extract-invoice.prompt.yml",
           "translate.prompt.yml", "support/reply.prompt.yml", "sql-helper.prompt.yml"]  # fmt: skip
ERRORS = {  # provider -> (error class, weight), message
    "openai": [("rate_limit", 6, "Rate limit reached for gpt-4o-mini in organization org-demo on tokens per min"),
               ("server", 2, "The server had an error while processing your request"),
               ("timeout", 1, "Request timed out after 60 s")],
    "anthropic": [("server", 5, "Overloaded"), ("rate_limit", 2, "rate_limit_error: Number of requests exceeded"),
                  ("connection", 1, "Connection reset by peer")],
    "google": [("rate_limit", 3, "Resource has been exhausted (e.g. check quota)"),
               ("content_filter", 2, "Response blocked by safety settings"), ("server", 1, "Internal error")],
    "local": [("timeout", 4, "local server did not answer within 120 s"), ("connection", 3, "connection refused")],
}  # fmt: skip
WORDS = ("the model answers with a short and clear summary of each point in the request while keeping "
         "names dates and amounts exactly as given and it avoids adding facts").split()  # fmt: skip


def _sha(*parts) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


def _versions(rng: random.Random, days: int) -> dict[str, list[tuple[float, str, float]]]:
    """prompt -> [(release day, version sha, output length factor)], oldest first."""
    out = {}
    for i, prompt in enumerate(PROMPTS):
        k = rng.randint(3, 6)
        starts = sorted([0.0] + [rng.uniform(0.04 * days, 0.97 * days) for _ in range(k - 1)])
        factor, items = 1.0, []
        for j, start in enumerate(starts):
            items.append((start, _sha(prompt, j), factor))
            factor *= rng.uniform(0.75, 1.35)  # each version drifts the output length
        out[prompt] = items
    return out


def _text(rng: random.Random, n_chars: int) -> str:
    words, size = [], 0
    while size < n_chars:
        w = rng.choice(WORDS)
        words.append(w)
        size += len(w) + 1
    return " ".join(words)[:n_chars]


def generate(n: int = 100_000, days: int = 90, seed: int = 7, end: datetime | None = None,
             text_chars: int = 160):  # fmt: skip
    """Yield ``n`` run rows for ``RunStore.insert_many_runs`` (oldest first)."""
    rng = random.Random(seed)
    end = end or datetime.now(timezone.utc).replace(microsecond=0)
    start = end - timedelta(days=days)
    versions = _versions(rng, days)
    spikes = {rng.randrange(max(1, int(days))): rng.choice(["openai", "anthropic", "google"]) for _ in range(4)}
    offsets = sorted(rng.random() * days for _ in range(n))
    for i, day_f in enumerate(offsets):
        name, model, provider, ttft_med, tps_mean, p_in, p_out, _q = rng.choices(MODELS, MODEL_WEIGHTS)[0]
        prompt = rng.choice(PROMPTS)
        live = [v for v in versions[prompt] if v[0] <= day_f]
        _, version, factor = live[-1] if rng.random() < 0.85 or len(live) == 1 else rng.choice(live[:-1])
        started = start + timedelta(days=day_f)
        spike = 3.0 if spikes.get(int(day_f)) == provider else 1.0
        ttft = rng.lognormvariate(math.log(ttft_med * spike), 0.35)
        tps = max(1.0, rng.gauss(tps_mean, tps_mean * 0.12)) / (spike * 0.8 if spike > 1 else 1.0)
        out_tokens = max(1, int(rng.lognormvariate(math.log(180 * factor), 0.45)))
        in_tokens = 150 + PROMPTS.index(prompt) * 170 + rng.randint(0, 120)
        row = {"id": f"run{i:06d}-{_sha(seed, i)[:8]}", "prompt_path": prompt, "prompt_version": version,
               "test_case": rng.randrange(6), "model_name": name, "model": model, "provider": provider,
               "params": {"temperature": 0.2}, "started_at": started}  # fmt: skip
        roll = rng.random()
        if roll < 0.03 * (2.5 if spike > 1 else 1.0):
            cls, _w, message = rng.choices(ERRORS[provider], [e[1] for e in ERRORS[provider]])[0]
            total = ttft * rng.uniform(0.5, 3)
            row.update(status="error", error_class=cls, error=message, ttft_ms=None, tokens_per_s=None,
                       total_ms=total, input_tokens=in_tokens, output_tokens=0, cost_usd=0.0 if p_in == 0 else None,
                       output="", output_chars=0, ended_at=started + timedelta(milliseconds=total))  # fmt: skip
        else:
            total = ttft + out_tokens / tps * 1000
            cost = (in_tokens * p_in + out_tokens * p_out) / 1e6
            status = "cancelled" if roll > 0.996 else "finished"
            row.update(status=status, ttft_ms=round(ttft, 2), tokens_per_s=round(tps, 2),
                       itl_p50_ms=round(1000 / tps, 2), itl_p95_ms=round(1600 / tps, 2), total_ms=round(total, 2),
                       input_tokens=in_tokens, input_tokens_reported=True, output_tokens=out_tokens,
                       tokens_reported=True, cost_usd=cost, finish_reason="stop",
                       output=_text(rng, min(text_chars, int(out_tokens * 4.3))),
                       output_chars=int(out_tokens * 4.3), ended_at=started + timedelta(milliseconds=total))  # fmt: skip
        row["messages"] = [{"role": "user", "content": f"{prompt} case {row['test_case']}"}]
        yield row


def _quality(model_name: str) -> float:
    return next(m[7] for m in MODELS if m[0] == model_name)


def populate(runs, n: int = 100_000, days: int = 90, seed: int = 7, judgements: bool = True,
             end: datetime | None = None) -> int:  # fmt: skip
    """Fill ``runs`` (a RunStore) with ``n`` runs and, with ``judgements``, thumbs on ~3 % of
    them, pairwise votes on ~1 % and evaluation results on ~10 % (when the schema has them).
    Blocks until everything is written. Returns the number of runs."""
    from promptbench.core.db.database import to_utc_iso

    rng = random.Random(seed + 1)
    rows = list(generate(n, days, seed, end))
    runs.insert_many_runs(rows)
    if judgements:
        thumbs, votes, evals = [], [], []
        by_key: dict[tuple, dict] = {}
        for r in rows:
            if r["status"] != "finished":
                continue
            q = _quality(r["model_name"])
            created = to_utc_iso(r["ended_at"] + timedelta(minutes=rng.randint(1, 600)))
            if rng.random() < 0.03:
                thumbs.append({"id": f"th-{r['id']}", "created_at": created, "run_id": r["id"], "prompt": r["prompt_path"],
                               "version": r["prompt_version"], "model": r["model_name"], "test_case": str(r["test_case"]),
                               "value": 1 if rng.random() < q else -1, "voter": "demo"})  # fmt: skip
            if rng.random() < 0.10:
                evals.append({"id": f"ev-{r['id']}", "batch_id": f"demo-{PROMPTS.index(r['prompt_path'])}",
                              "run_id": r["id"], "prompt_path": r["prompt_path"],
                              "prompt_version": r["prompt_version"], "model_name": r["model_name"],
                              "test_case": r["test_case"], "evaluator": "contains keywords", "kind": "string",
                              "passed": int(rng.random() < q + 0.15), "score": None, "reason": None, "error": None,
                              "created_at": created})  # fmt: skip
            key = (r["prompt_path"], r["prompt_version"], r["test_case"])
            other = by_key.get(key)
            if other is not None and other["model_name"] != r["model_name"] and rng.random() < 0.08:
                qa, qb = _quality(other["model_name"]), _quality(r["model_name"])
                roll = rng.random()
                winner = "tie" if roll < 0.1 else "both_bad" if roll < 0.13 else ("a" if rng.random() < qa / (qa + qb) else "b")
                votes.append({"id": f"vote-{r['id']}", "created_at": created, "voter": "demo", "blind": 1,
                              "kind": "pairwise", "test_case": str(r["test_case"]), "prompt_path": r["prompt_path"],
                              "source": "app", "a_prompt": key[0], "a_version": key[1], "a_model": other["model_name"],
                              "b_prompt": key[0], "b_version": key[1], "b_model": r["model_name"],
                              "a_run_id": other["id"], "b_run_id": r["id"], "winner": winner,
                              "left_side": rng.choice("ab")})  # fmt: skip
                by_key.pop(key)
            else:
                by_key[key] = r

        def write(db):  # bulk demo data straight through the store's one writer thread
            with db.atomic():
                db.table("thumbs").insert_all(thumbs, batch_size=500)
                db.table("votes").insert_all(votes, batch_size=500)
                if "eval_results" in db.table_names():  # migration m004_eval
                    now = to_utc_iso(datetime.now(timezone.utc))
                    db.table("batches").insert_all([
                        {"id": f"demo-{i}", "created_at": now, "updated_at": now, "prompt_path": p,
                         "config": json.dumps({"kind": "eval"}), "status": "finished"}
                        for i, p in enumerate(PROMPTS)])  # fmt: skip
                    db.table("eval_results").insert_all(evals, batch_size=500)

        runs.db.write("demo judgements", write)
    runs.flush(timeout=600)
    return len(rows)


# --- the benchmark --------------------------------------------------------------------

QUERY_TARGET_MS = 150.0
STALL_TARGET_MS = 50.0


def ensure_indexes(path) -> list[str]:
    """Create the proposed dashboard indexes the schema lacks; returns their names."""
    import sqlite3

    from promptbench.core.dashboard.sql import PROPOSED_INDEXES, create_index_sql

    conn = sqlite3.connect(path)
    try:
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        missing = [name for name, _t, _c in PROPOSED_INDEXES if name not in have]
        for sql in create_index_sql():
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    return missing


def query_times(path, rounds: int = 5) -> dict:
    from promptbench.core.dashboard import series as S  # noqa: F401  (imported outside the timing)
    from promptbench.core.dashboard.queries import load
    from promptbench.core.db.access import Database
    from promptbench.gui.dashboard.jobs import _series

    conn = Database.readonly(path)
    query, wall, series = [], [], []
    for _ in range(rounds):
        t = time.perf_counter()
        data = load(conn)
        wall.append((time.perf_counter() - t) * 1000)
        query.append(data.query_ms)
        t = time.perf_counter()
        _series(data, {})
        series.append((time.perf_counter() - t) * 1000)
    conn.close()
    return {"query": query, "wall": wall, "series": series, "data": data}


def incremental_time(store, path, data, rounds: int = 5) -> list[float]:
    from promptbench.core.dashboard.queries import update
    from promptbench.core.db.access import Database

    conn = Database.readonly(path)
    out = []
    for k in range(rounds):
        rows = list(generate(20, days=0.001, seed=100 + k, end=datetime.now(timezone.utc)))
        for r in rows:
            r["id"] = f"inc{k}-{r['id']}"
            r["ended_at"] = datetime.now(timezone.utc) + timedelta(milliseconds=10)
        store.insert_many_runs(rows)
        store.flush()
        new = update(conn, data)
        assert new is not None and new.new_runs == 20, new and new.new_runs
        out.append(new.query_ms)
        data = new
    conn.close()
    return out


def gui_stalls(store_root, refreshes: int = 5) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from promptbench.core.engine.events import RunFinished, RunMetrics
    from promptbench.core.store.promptstore import PromptStore
    from promptbench.gui.dashboard import DashboardView
    from promptbench.gui.services import Services

    app = QApplication.instance() or QApplication(sys.argv)
    services = Services(PromptStore(store_root))
    view = DashboardView(services)
    view.resize(1500, 1000)
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(heartbeat.timerType().PreciseTimer)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))

    def spin(predicate, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        poll = QTimer()
        poll.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
        poll.start(5)
        loop.exec()
        poll.stop()
        return predicate()

    def measured(action, done) -> float:
        beats.clear()
        heartbeat.start(10)
        spin(lambda: len(beats) > 5, 5)  # the heartbeat is running before the action
        action()
        ok = spin(done, 120)
        spin(lambda: False, 0.05)
        heartbeat.stop()
        if not ok:
            raise SystemExit("the dashboard did not finish refreshing")
        gaps = [(b - a) * 1000 for a, b in zip(beats, beats[1:])]
        return max((g - 10.0 for g in gaps), default=0.0)

    first = measured(view.show, view.is_idle)
    full = []
    for _ in range(refreshes):
        updated = []
        view.charts_updated.connect(lambda: updated.append(1))
        full.append(measured(view.refresh, lambda: bool(updated) and view.is_idle()))
        view.charts_updated.disconnect()
    runs = services.runs()
    rows = list(generate(20, days=0.001, seed=999, end=datetime.now(timezone.utc)))
    for r in rows:
        r["id"] = f"live-{r['id']}"
        r["ended_at"] = datetime.now(timezone.utc) + timedelta(milliseconds=10)
    before = view.data.total_runs()
    runs.insert_many_runs(rows)  # the engine's writer thread does this; not the GUI thread's time
    runs.flush()

    def finish_runs():
        services.bridge.events_arrived.emit([RunFinished(r["id"], "", RunMetrics()) for r in rows])

    live = measured(finish_runs, lambda: view.data.total_runs() == before + len(rows) and view.is_idle())
    result = {"first": first, "full": full, "live": live, "live_full": view.last_result.full,
              "live_query_ms": view.data.query_ms}  # fmt: skip
    view.close()
    services.close()
    return result


def main() -> int:
    import argparse
    import os
    import shutil
    import sys as _sys
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--no-indexes", action="store_true", help="measure the schema as it is")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-dash-"))
    try:
        return run_benchmark(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # ~160 MB of database


def run_benchmark(args, tmp) -> int:
    import sys as _sys

    from _common import isolated_git_env, p50, print_table

    from promptbench.core.db.runs import RunStore
    from promptbench.core.store.workspace import init_workspace

    isolated_git_env(str(tmp))
    ws = init_workspace(tmp / "ws")
    ws.data_dir.mkdir(exist_ok=True)
    path = ws.data_dir / "promptbench.db"
    ws.close()
    store = RunStore(path)
    print(f"generating {args.runs:,} runs ...", file=_sys.stderr)
    t = time.perf_counter()
    populate(store, n=args.runs)
    print(f"  written in {time.perf_counter() - t:.1f} s", file=_sys.stderr)
    if args.no_indexes:
        note = "schema as it is (--no-indexes)"
    else:
        t = time.perf_counter()
        missing = ensure_indexes(path)
        note = (f"{len(missing)} proposed indexes created by the benchmark in {time.perf_counter() - t:.1f} s"
                if missing else "proposed indexes present in the schema")  # fmt: skip
    q = query_times(path)
    inc = incremental_time(store, path, q["data"])
    store.close()
    g = gui_stalls(tmp / "ws")
    query_p50 = p50(q["query"])
    stall = max(g["full"])
    rows = [
        ["full refresh: time in queries (p50 of 5)", f"{query_p50:.1f} ms", f"<= {QUERY_TARGET_MS:.0f} ms",
         "ok" if query_p50 <= QUERY_TARGET_MS else "MISSED"],
        ["full refresh: load() wall time (p50)", f"{p50(q['wall']):.1f} ms", "", ""],
        ["series from aggregates, in the task (p50)", f"{p50(q['series']):.1f} ms", "", ""],
        ["incremental update, 20 new runs (p50)", f"{p50(inc):.1f} ms", "", ""],
        ["GUI stall during a full refresh (max of 5)", f"{stall:.1f} ms", f"<= {STALL_TARGET_MS:.0f} ms",
         "ok" if stall <= STALL_TARGET_MS else "MISSED"],
        ["GUI stall during a full refresh (p50 of 5)", f"{p50(g['full']):.1f} ms", "", ""],
        ["GUI stall during a live update (20 runs)", f"{g['live']:.1f} ms", f"<= {STALL_TARGET_MS:.0f} ms",
         "ok" if g["live"] <= STALL_TARGET_MS else "MISSED"],
        ["GUI stall when the tab is first shown", f"{g['first']:.1f} ms", "(one-off: builds 9 plots)", ""],
    ]  # fmt: skip
    print_table(f"Dashboard, {q['data'].total_runs():,} runs ({note})", ["figure", "measured", "target", ""], rows)
    print(f"\nlive update was {'a full read' if g['live_full'] else 'incremental'}; "
          f"{len(q['data'].time):,} time cells, {len(q['data'].latency)} latency buckets")
    return 0 if query_p50 <= QUERY_TARGET_MS and stall <= STALL_TARGET_MS and g["live"] <= STALL_TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
