"""Fault soak: many comparisons against the loopback server, every fault kind, short timeouts.

    .venv/bin/python benchmarks/soak.py              # 1,000 runs
    .venv/bin/python benchmarks/soak.py --runs 200 --seed 7

Each comparison has ``--models`` runs whose faults are drawn (seeded) from every fault
the fake server knows, plus slow drip at 1 byte/s and close mid-header; ``--concurrent``
comparisons stream at once. Printed: runs per fault and outcome, whether every run
ended with the expected status and error class, the longest run against its applicable
timeout (+ slack), the RunStore's statuses (a real SQLite file; none may stay
"running"), and this process's RSS after a warm-up round and at the end.

tests/core/test_soak.py runs :func:`soak` with fewer runs and asserts behaviour only.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from promptbench.core.engine import events as ev  # noqa: E402
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402
from promptbench.core.engine.engine import ComparisonRequest, Engine  # noqa: E402
from promptbench.core.db.runs import RunStore  # noqa: E402

WORDS = [f" w{i}" for i in range(12)]
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


@dataclass(frozen=True)
class Kind:
    """One fault as the soak uses it: scenario fields, the expected end, the limit that applies."""

    fields: dict
    status: str                 # finished | error
    error_class: str | None
    limit: str = "fast"         # fast | first_token | idle (what bounds the run's duration)


KINDS: dict[str, Kind] = {
    "ok": Kind(dict(chunks=WORDS), "finished", None),
    "status_401": Kind(dict(fault="status", status_code=401), "error", "auth"),
    "status_400": Kind(dict(fault="status", status_code=400), "error", "bad_request"),
    "status_500": Kind(dict(fault="status", status_code=500), "error", "server"),
    "status_429": Kind(dict(fault="status", status_code=429, retry_after="0"), "error", "rate_limit"),
    "reset_mid_stream": Kind(dict(fault="reset_mid_stream"), "error", "connection"),
    "close_mid_stream": Kind(dict(fault="close_mid_stream"), "error", "connection"),
    "stall_before_first_token": Kind(dict(fault="stall_before_first_token", stall_s=60.0), "error", "timeout", "first_token"),
    "stall_mid_stream": Kind(dict(fault="stall_mid_stream", stall_s=60.0), "error", "timeout", "idle"),
    "malformed_chunk": Kind(dict(fault="malformed_chunk"), "error", "server"),
    "no_done": Kind(dict(fault="no_done"), "finished", None),
    "empty_completion": Kind(dict(fault="empty_completion"), "finished", None),
    "content_filter": Kind(dict(fault="content_filter"), "error", "content_filter"),
    "huge": Kind(dict(fault="huge", huge_bytes=200_000, huge_chunk_chars=1000), "finished", None),
    "slow_drip": Kind(dict(fault="slow_drip", drip_interval_s=1.0), "error", "timeout", "first_token"),
    "close_mid_header": Kind(dict(fault="close_mid_header"), "error", "connection"),
}


@dataclass
class Outcome:
    kind: str
    status: str | None = None     # None: no terminal event arrived
    error_class: str | None = None
    total_ms: float | None = None  # the engine's figure: request sent -> stream ended
    wall_ms: float | None = None   # RunStarted -> terminal event, as seen by the subscriber

    @property
    def expected(self) -> bool:
        k = KINDS[self.kind]
        return self.status == k.status and self.error_class == k.error_class


@dataclass
class SoakResult:
    outcomes: list[Outcome] = field(default_factory=list)
    warmup: list[Outcome] = field(default_factory=list)
    hung_comparisons: int = 0
    db_statuses: dict[str, int] = field(default_factory=dict)
    db_rows: int = 0
    rss_after_warmup_kb: int = 0
    rss_end_kb: int = 0
    seconds: float = 0.0
    first_token_s: float = 1.0
    idle_s: float = 1.0

    def limit_s(self, o: Outcome) -> float:
        """How long a run of this kind may take (retries excluded: they are not in total_ms)."""
        k = KINDS[o.kind].limit
        return {"fast": self.first_token_s, "first_token": self.first_token_s, "idle": self.first_token_s + self.idle_s}[k]


def rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class _Sink:
    """Keeps only what the soak checks: no outputs (a 200 kB run must not stay in memory)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.started: dict[str, int] = {}
        self.ended: dict[str, tuple] = {}

    def __call__(self, event) -> None:
        if isinstance(event, ev.RunStarted):
            with self.lock:
                self.started[event.run_id] = event.t_ns
        elif isinstance(event, ev.TERMINAL):
            now = time.perf_counter_ns()
            status = {ev.RunFinished: "finished", ev.RunFailed: "error", ev.RunCancelled: "cancelled"}[type(event)]
            with self.lock:
                t0 = self.started.pop(event.run_id, None)
                self.ended[event.run_id] = (status, getattr(event, "error_class", None), event.metrics.total_ms,
                                            (now - t0) / 1e6 if t0 else None)

    def take(self, run_id: str, kind: str) -> Outcome:
        with self.lock:
            got = self.ended.pop(run_id, None)
        return Outcome(kind, *got) if got else Outcome(kind)


def configure_server(server) -> None:
    for name, kind in KINDS.items():
        server.set_scenario(f"soak-{name}", **kind.fields)


def _models(server, root: Path):
    base = resolve_model(load_settings(root), "openai/soak-ok")
    return {name: dataclasses.replace(base, name=f"soak-{name}", model=f"openai/soak-{name}", api_base=server.base_url,
                                      input_cost_per_mtok=1.0, output_cost_per_mtok=2.0, max_concurrency=256)
            for name in KINDS}


def _wave(engine: Engine, sink: _Sink, models: dict, kinds_per_comparison: list[list[str]], wait_s: float,
          result: SoakResult) -> list[Outcome]:
    started = []
    for kinds in kinds_per_comparison:
        request = ComparisonRequest(messages=MESSAGES, models=[models[k] for k in kinds], prompt_path="soak.prompt.yml",
                                    prompt_version="draft:soak")
        started.append((engine.compare(request), kinds))
    deadline = time.monotonic() + wait_s
    outcomes = []
    for comparison, kinds in started:
        if not comparison.wait(max(0.1, deadline - time.monotonic())):
            result.hung_comparisons += 1
            comparison.cancel()
            comparison.wait(10)
        outcomes += [sink.take(r, k) for r, k in zip(comparison.run_ids, kinds)]
    return outcomes


def soak(server, workdir: Path, *, runs: int = 1000, models_per_comparison: int = 8, concurrent: int = 3,
         seed: int = 1234, first_token_s: float = 1.0, idle_s: float = 1.0, wave_timeout_s: float = 30.0,
         progress=None) -> SoakResult:
    """Run ``runs`` fault-drawn runs (after one warm-up comparison of every kind)."""
    workdir = Path(workdir)
    configure_server(server)
    settings = dataclasses.replace(load_settings(workdir), connect_timeout_s=2.0, first_token_timeout_s=first_token_s,
                                   idle_timeout_s=idle_s, max_retries=1)
    models = _models(server, workdir)
    rng = random.Random(seed)
    names = sorted(KINDS)
    result = SoakResult(first_token_s=first_token_s, idle_s=idle_s)
    db_path = workdir / "soak.db"
    store = RunStore(db_path)
    sink = _Sink()
    engine = Engine(settings, sink, runs=store, key_lookup=lambda m: "sk-soak-test-key-000000")
    t0 = time.monotonic()
    try:
        result.warmup = _wave(engine, sink, models, [names], wave_timeout_s, result)
        gc.collect()
        result.rss_after_warmup_kb = rss_kb()
        done = 0
        while done < runs:
            batch = []
            for _ in range(concurrent):
                n = min(models_per_comparison, runs - done)
                if n <= 0:
                    break
                batch.append([rng.choice(names) for _ in range(n)])
                done += n
            result.outcomes += _wave(engine, sink, models, batch, wave_timeout_s, result)
            if progress:
                progress(done, runs)
    finally:
        engine.shutdown()
        store.close()
    result.seconds = time.monotonic() - t0
    gc.collect()
    result.rss_end_kb = rss_kb()
    with sqlite3.connect(db_path) as conn:
        result.db_statuses = dict(conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall())
        result.db_rows = sum(result.db_statuses.values())
    conn.close()
    return result


def report(result: SoakResult, slack_s: float, max_growth_mb: float) -> bool:
    from _common import print_table

    everything = result.warmup + result.outcomes
    rows = []
    for name in sorted(KINDS):
        of = [o for o in everything if o.kind == name]
        if not of:
            continue
        got = Counter(f"{o.status}/{o.error_class}" if o.error_class else str(o.status) for o in of)
        worst = max((o.total_ms or 0) for o in of) / 1000
        wall = max((o.wall_ms or 0) for o in of) / 1000
        limit = result.limit_s(of[0]) + slack_s
        rows.append([name, len(of), ", ".join(f"{k} x{v}" for k, v in sorted(got.items())),
                     "ok" if all(o.expected for o in of) else "MISSED",
                     f"{worst:.2f}", f"{wall:.2f}", f"{limit:.2f}", "ok" if worst <= limit else "MISSED"])
    print_table(f"Fault soak: {len(result.outcomes)} runs (+{len(result.warmup)} warm-up) in {result.seconds:.1f} s, "
                f"first-token {result.first_token_s:g} s, idle {result.idle_s:g} s",
                ["fault", "runs", "outcomes", "expected", "max total s", "max wall s", "limit s", "in limit"], rows)
    final = sum(1 for o in everything if o.status in ("finished", "error", "cancelled"))
    unexpected = [o for o in everything if not o.expected]
    over = [o for o in everything if (o.total_ms or 0) / 1000 > result.limit_s(o) + slack_s]
    running = result.db_statuses.get("running", 0)
    growth_mb = (result.rss_end_kb - result.rss_after_warmup_kb) / 1024
    ratio = result.rss_end_kb / result.rss_after_warmup_kb if result.rss_after_warmup_kb else float("nan")
    checks = [
        ("runs with a final status", f"{final}/{len(everything)}", final == len(everything)),
        ("runs with the expected status/class", f"{len(everything) - len(unexpected)}/{len(everything)}", not unexpected),
        ("comparisons past the wait timeout", str(result.hung_comparisons), result.hung_comparisons == 0),
        (f"runs over their timeout + {slack_s:g} s", str(len(over)), not over),
        ("RunStore rows / statuses", f"{result.db_rows} {result.db_statuses}", result.db_rows == len(everything) and running == 0),
        ("RSS after warm-up -> end (MB)", f"{result.rss_after_warmup_kb / 1024:.1f} -> {result.rss_end_kb / 1024:.1f} "
                                          f"(x{ratio:.3f}, {growth_mb:+.1f} MB)", growth_mb < max_growth_mb),
    ]
    print_table("Checks", ["check", "figure", "result"], [[c, f, "ok" if good else "MISSED"] for c, f, good in checks])
    for o in unexpected[:10]:
        print(f"  unexpected: {o}")
    return all(good for _, _, good in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--models", type=int, default=8, help="runs per comparison")
    parser.add_argument("--concurrent", type=int, default=3, help="comparisons streaming at once")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--first-token", type=float, default=1.0)
    parser.add_argument("--idle", type=float, default=1.0)
    parser.add_argument("--slack", type=float, default=1.0, help="seconds allowed past a run's timeout")
    parser.add_argument("--max-growth-mb", type=float, default=30.0)
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from promptbench.testing.fakeclient import FakeOpenAIServer

    def progress(done: int, total: int) -> None:
        if done % 200 < args.models * args.concurrent:
            print(f"  {done}/{total} runs, RSS {rss_kb() / 1024:.1f} MB", flush=True)

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        result = soak(server, Path(tmp), runs=args.runs, models_per_comparison=args.models, concurrent=args.concurrent,
                      seed=args.seed, first_token_s=args.first_token, idle_s=args.idle, progress=progress)
    return 0 if report(result, args.slack, args.max_growth_mb) else 1


if __name__ == "__main__":
    sys.exit(main())
