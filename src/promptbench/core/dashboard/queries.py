"""The dashboard's aggregates, read with SQL from the run store (no Qt, read-only).

A full refresh (:func:`load`) reads, in ONE read transaction (one snapshot), small
aggregates and never the runs themselves:

- per time bucket (UTC day, or hour when all runs span <= 3 days), model and provider:
  runs, errors, cost, input/output tokens, and how many finished runs have each metric;
- errors per provider and class; output length per prompt version;
- exact quantiles (linear interpolation, as ``numpy.quantile``) of TTFT and tokens/s per
  model and of latency per bucket, read as ``LIMIT 2 OFFSET k`` walks along an index
  ordered by the metric (from the nearer end), so nothing is sorted or fetched in bulk;
- thumbs-up and evaluation pass counts per prompt version and bucket.

Only ended runs count (status other than "running"), and only runs of the filter's
kinds (by default comparisons and eval cells; judge calls, ranking generations,
warm-ups and connection tests when asked, see core/run_kinds.py); thumbs and
evaluation results count when the run they judge does. Latency, TTFT and tokens/s use
finished runs. :func:`update` then folds in runs that ended since (``ended_at`` at or
after the watermark minus a margin, de-duplicated by id), adds new thumbs and
evaluation rows by rowid, and re-reads the quantiles of the groups those runs touched;
the result equals a full reload. Runs imported with an old ``ended_at`` and runs marked
"interrupted" at start-up (they have no ``ended_at``) appear at the next full read.

``PROPOSED_INDEXES`` are the indexes these queries are written for (see
:mod:`promptbench.core.dashboard.sql`); without them every query still answers, slower.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from promptbench.core.db import database as dbmod
from promptbench.core.db.access import Database
from promptbench.core.dashboard.sql import (
    BUCKETS, Filters, bulk_quantiles, has_index, quantiles, run_filter, stored_kinds, table_exists, vote_filter,
)  # fmt: skip
from promptbench.core.engine.run_kinds import kind_condition

__all__ = ["DashboardData", "Filters", "Box", "load", "update", "run_ids", "BOX_QS"]

BOX_QS = (0.05, 0.25, 0.5, 0.75, 0.95)
BAND_QS = (0.5, 0.95)
HOUR_SPAN = timedelta(days=3)  # runs spanning at most this get hourly buckets
MARGIN = timedelta(minutes=2)  # a run may commit this long after a later-ended one
REQUERY_LIMIT = 5000  # more new runs than this: a full reload is cheaper


@dataclass(frozen=True)
class Box:
    """Distribution of one metric for one group; ``values`` align with ``BOX_QS`` (or BAND_QS)."""

    n: int
    values: tuple[float, ...]


@dataclass
class DashboardData:
    filters: Filters
    bucket: str  # "day" | "hour"
    # (bucket, model, provider, status) -> [runs, cost sum, runs with a cost, input tokens, output tokens,
    #  runs with ttft, with tokens/s, with latency (total_ms)]
    time: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)  # (provider, error class) -> runs
    # (prompt, version) -> [finished runs, chars sum, with chars, tokens sum, with tokens, first started_at]
    versions: dict = field(default_factory=dict)
    ttft: dict = field(default_factory=dict)  # model -> Box (BOX_QS)
    tps: dict = field(default_factory=dict)  # model -> Box (BOX_QS)
    latency: dict = field(default_factory=dict)  # bucket -> Box (BAND_QS)
    thumbs: dict = field(default_factory=dict)  # (prompt, version, bucket) -> [up, total]
    evals: dict = field(default_factory=dict)  # (prompt, version, bucket) -> [passed, judged]
    evals_available: bool = False
    watermark: str | None = None  # the latest ended_at seen
    recent: dict = field(default_factory=dict)  # run id -> ended_at, for runs ended within MARGIN of it
    thumbs_rowid: int = 0
    evals_rowid: int | None = 0  # None: eval_results has no rowid; re-read it whole
    query_ms: float = 0.0  # time spent in SQL by the last load/update
    new_runs: int = 0  # runs folded in by the last update

    def copy(self) -> DashboardData:
        def dup(d):
            return {k: list(v) if isinstance(v, list) else v for k, v in d.items()}

        return DashboardData(
            filters=self.filters, bucket=self.bucket, time=dup(self.time), errors=dict(self.errors),
            versions=dup(self.versions), ttft=dict(self.ttft), tps=dict(self.tps), latency=dict(self.latency),
            thumbs=dup(self.thumbs), evals=dup(self.evals), evals_available=self.evals_available,
            watermark=self.watermark, recent=dict(self.recent), thumbs_rowid=self.thumbs_rowid,
            evals_rowid=self.evals_rowid,
        )  # fmt: skip

    def total_runs(self) -> int:
        return sum(v[0] for v in self.time.values())


class _Timer:
    def __init__(self):
        self.ms = 0.0

    def rows(self, conn, sql, params=()):
        t = time.perf_counter()
        cur = conn.cursor()
        cur.row_factory = None  # plain tuples: the aggregates unpack them, and they are cheaper
        rows = cur.execute(sql, params).fetchall()
        self.ms += (time.perf_counter() - t) * 1000
        return rows


def _choose_bucket(conn, q: _Timer, f: Filters) -> str:
    if f.since and f.until:
        span = _parse(f.until) - _parse(f.since)
        return "hour" if span <= HOUR_SPAN else "day"
    lo, hi = _span(conn, q, stored_kinds(conn, f.kinds))
    if lo is None:
        return "day"
    lo = max(lo, f.since) if f.since else lo
    hi = min(hi, f.until) if f.until else hi
    return "hour" if _parse(hi) - _parse(lo) <= HOUR_SPAN else "day"


def _span(conn, q: _Timer, kinds) -> tuple[str | None, str | None]:
    """The first and last ``started_at`` of runs of ``kinds`` (from stored_kinds): one index
    seek each (per kind along m007's ``idx_runs_kind``: min/max over an IN list would scan it)."""
    if kinds is None:
        lo = q.rows(conn, "SELECT min(started_at) FROM runs")[0][0]  # two queries: each is one index seek
        hi = q.rows(conn, "SELECT max(started_at) FROM runs")[0][0]
        return lo, hi
    if not kinds:
        return None, None
    out = []
    for fn in ("min", "max"):
        per_kind = " UNION ALL ".join(f"SELECT (SELECT {fn}(started_at) FROM runs WHERE {kind_condition((k,))}) AS v"
                                      for k in kinds)  # fmt: skip
        out.append(q.rows(conn, f"SELECT {fn}(v) FROM ({per_kind})")[0][0])
    return out[0], out[1]


def _parse(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def load(db: Database, filters: Filters | None = None) -> DashboardData:
    """Every aggregate for ``filters``, from one snapshot."""
    f = filters or Filters()
    q = _Timer()
    with db.snapshot() as conn:  # every query sees the same committed data
        bucket = _choose_bucket(conn, q, f)
        data = DashboardData(filters=f, bucket=bucket)
        _load_runs(conn, q, data)
        _load_quantiles(conn, q, data, models=None, buckets=None, counts_from_time=True)
        _load_judgements(conn, q, data, incremental=False)
        (data.watermark,) = q.rows(conn, "SELECT max(ended_at) FROM runs")[0]
        if data.watermark:
            since = dbmod.to_utc_iso(_parse(data.watermark) - MARGIN)
            data.recent = dict(q.rows(conn, "SELECT id, ended_at FROM runs WHERE ended_at >= ?", [since]))
    data.query_ms = q.ms
    return data


def _load_runs(conn, q: _Timer, data: DashboardData) -> None:
    f, expr = data.filters, BUCKETS[data.bucket]
    kinds = stored_kinds(conn, f.kinds)
    where, params = run_filter(f, day_index=data.bucket == "day", kinds=kinds)
    hint = "INDEXED BY idx_runs_dash_time" if data.bucket == "day" and has_index(conn, "idx_runs_dash_time") else ""
    for row in q.rows(conn, f"""
            SELECT {expr}, model_name, provider, status, count(*), sum(cost_usd), count(cost_usd), sum(input_tokens),
                   sum(output_tokens), count(ttft_ms), count(tokens_per_s), count(total_ms)
            FROM runs {hint} WHERE status != 'running' {where}
            GROUP BY {expr}, model_name, provider, status""", params):  # fmt: skip
        data.time[row[:4]] = [row[4], row[5] or 0.0, row[6], row[7] or 0, row[8] or 0, *row[9:]]
    for provider, cls, n in q.rows(
        conn, f"SELECT provider, error_class, count(*) FROM runs WHERE status = 'error' {where}"
        " GROUP BY provider, error_class", params,
    ):  # fmt: skip
        data.errors[(provider, cls)] = n
    where, params = run_filter(f, kinds=kinds)
    hint = "INDEXED BY idx_runs_dash_version" if has_index(conn, "idx_runs_dash_version") else ""
    for row in q.rows(conn, f"""
            SELECT prompt_path, prompt_version, count(*), sum(output_chars), count(output_chars), sum(output_tokens),
                   count(output_tokens), min(started_at)
            FROM runs {hint} WHERE status = 'finished' {where} GROUP BY prompt_path, prompt_version""", params):  # fmt: skip
        data.versions[row[:2]] = [row[2], row[3] or 0, row[4], row[5] or 0, row[6], row[7]]


def _counts(data: DashboardData, slot: int, by_model: bool) -> dict:
    out: dict = {}
    for (bucket, model, _provider, status), v in data.time.items():
        if status == "finished":
            key = model if by_model else bucket
            out[key] = out.get(key, 0) + v[slot]
    return out


def _load_quantiles(conn, q: _Timer, data: DashboardData, *, models, buckets, counts_from_time: bool) -> None:
    """Quantiles for ``models``/``buckets`` (None: all). With the index that orders the
    metric: two-value walks per quantile, counts from the time aggregates of the same
    snapshot (or counted again after an incremental fold). Without it: one bulk read."""
    f = data.filters
    day = data.bucket == "day"
    specs = [
        (data.ttft, "ttft_ms", "idx_runs_dash_ttft", "model_name", 5, True, models, BOX_QS),
        (data.tps, "tokens_per_s", "idx_runs_dash_tps", "model_name", 6, True, models, BOX_QS),
        (data.latency, "total_ms", "idx_runs_dash_latency" if day else None, BUCKETS[data.bucket], 7, False, buckets,
         BAND_QS),
    ]  # fmt: skip
    for target, col, index, key_expr, slot, by_model, wanted, qs in specs:
        counts = _counts(data, slot, by_model)
        keys = set(counts) if wanted is None else set(wanted)
        if index and has_index(conn, index):
            found = quantiles(conn, q, col, index, key_expr, keys, f, qs, counts if counts_from_time else None)
        else:
            found = bulk_quantiles(conn, q, col, key_expr, f, qs, None if wanted is None else keys)
        for key in keys:
            target.pop(key, None)
        target.update({k: Box(*v) for k, v in found.items()})


def _load_judgements(conn, q: _Timer, data: DashboardData, *, incremental: bool) -> None:
    f, width = data.filters, 10 if data.bucket == "day" else 13
    kinds = stored_kinds(conn, f.kinds)
    if table_exists(conn, "thumbs"):
        where, params = vote_filter(f, "prompt", "version", "model", kinds=kinds)
        after = data.thumbs_rowid if incremental else 0
        for p, v, b, up, n in q.rows(conn, f"""
                SELECT prompt, version, substr(created_at, 1, {width}), sum(value > 0), count(*) FROM thumbs
                WHERE rowid > ? {where} GROUP BY 1, 2, 3""", [after, *params]):  # fmt: skip
            _add(data.thumbs, (p, v, b), [up, n])
        data.thumbs_rowid = q.rows(conn, "SELECT ifnull(max(rowid), 0) FROM thumbs")[0][0]
    data.evals_available = table_exists(conn, "eval_results")
    if not data.evals_available:
        data.evals.clear()
        return
    if not incremental or data.evals_rowid is None:
        data.evals.clear()
    where, params = vote_filter(f, "prompt_path", "prompt_version", "model_name", kinds=kinds,
                                judged_kind="eval_cell")  # fmt: skip
    try:
        top = q.rows(conn, "SELECT ifnull(max(rowid), 0) FROM eval_results")[0][0]
    except sqlite3.OperationalError:  # a WITHOUT ROWID table: read it whole every time
        top = None
    rowid = "rowid > ? AND" if top is not None and incremental and data.evals_rowid is not None else ""
    params = ([data.evals_rowid] if rowid else []) + params
    for p, v, b, passed, n in q.rows(conn, f"""
            SELECT prompt_path, prompt_version, substr(created_at, 1, {width}), sum(passed), count(passed)
            FROM eval_results WHERE {rowid} passed IS NOT NULL {where} GROUP BY 1, 2, 3""", params):  # fmt: skip
        _add(data.evals, (p, v, b), [passed, n])
    data.evals_rowid = top


def _add(target: dict, key, values: list) -> None:
    have = target.get(key)
    if have is None:
        target[key] = list(values)
    else:
        for i, value in enumerate(values):
            have[i] += value


NEW_RUN_COLUMNS = ("id, ended_at, started_at, model_name, provider, status, error_class, prompt_path, prompt_version,"
                   " cost_usd, input_tokens, output_tokens, output_chars, ttft_ms, tokens_per_s, total_ms")  # fmt: skip


def update(db: Database, data: DashboardData) -> DashboardData | None:
    """``data`` plus what ended since it was read, as a new object (``data`` is not changed).
    Returns None when so much changed that a full :func:`load` is the better answer."""
    if data.watermark is None:
        return None  # nothing had ended then: the first runs may span any time; reload
    out = data.copy()
    q = _Timer()
    f = data.filters
    since = dbmod.to_utc_iso(_parse(data.watermark) - MARGIN)
    with db.snapshot() as conn:
        where, params = run_filter(f, kinds=stored_kinds(conn, f.kinds))
        hint = "INDEXED BY idx_runs_ended_at" if has_index(conn, "idx_runs_ended_at") else ""
        rows = q.rows(conn, f"SELECT {NEW_RUN_COLUMNS} FROM runs {hint} WHERE ended_at >= ? AND status != 'running' {where}"
                            f" LIMIT {REQUERY_LIMIT + 1}", [since, *params])  # fmt: skip
        if len(rows) > REQUERY_LIMIT:
            return None
        models, buckets = set(), set()
        width = 10 if data.bucket == "day" else 13
        for row in rows:
            run_id, ended = row[0], row[1]
            if run_id in out.recent:
                continue
            out.recent[run_id] = ended
            out.new_runs += 1
            _fold(out, row, width, models, buckets)
        top = max([data.watermark, *(r[1] for r in rows)])
        if top != data.watermark:
            out.watermark = top
            cut = dbmod.to_utc_iso(_parse(top) - MARGIN)
            out.recent = {k: v for k, v in out.recent.items() if v >= cut}
        _load_quantiles(conn, q, out, models=models, buckets=buckets, counts_from_time=False)
        _load_judgements(conn, q, out, incremental=True)
    out.query_ms = q.ms
    return out


def _fold(out: DashboardData, row, width: int, models: set, buckets: set) -> None:
    (_id, _ended, started, model, provider, status, cls, prompt, version, cost, tin, tout, chars, ttft, tps,
     total) = row  # fmt: skip
    bucket = started[:width]
    fin = status == "finished"
    _add(out.time, (bucket, model, provider, status), [
        1, cost or 0.0, int(cost is not None), tin or 0, tout or 0,
        int(ttft is not None), int(tps is not None), int(total is not None),
    ])  # fmt: skip
    if status == "error":
        out.errors[(provider, cls)] = out.errors.get((provider, cls), 0) + 1
    if fin:
        have = out.versions.setdefault((prompt, version), [0, 0, 0, 0, 0, started])
        for i, value in enumerate((1, chars or 0, int(chars is not None), tout or 0, int(tout is not None))):
            have[i] += value
        have[5] = min(have[5], started)
        if ttft is not None or tps is not None:
            models.add(model)
        if total is not None:
            buckets.add(bucket)


def run_ids(db: Database, filters: Filters, *, status: str | None = None, error_class: str | None = None,
            limit: int = 200) -> list[tuple]:  # fmt: skip
    """(id, started_at, model_name, status) of the runs behind a point, newest first."""
    with db.snapshot() as conn:
        return _run_ids(conn, filters, status, error_class, limit)


def _run_ids(conn, filters: Filters, status: str | None, error_class: str | None, limit: int) -> list[tuple]:
    where, params = run_filter(filters, kinds=stored_kinds(conn, filters.kinds))
    for col, value in (("status", status), ("error_class", error_class)):
        if value is not None:
            where += f" AND {col} = ?"
            params.append(value)
    return [tuple(row) for row in conn.execute(
        f"SELECT id, started_at, model_name, status FROM runs WHERE status != 'running' {where}"
        " ORDER BY started_at DESC LIMIT ?", [*params, int(limit)],
    )]  # fmt: skip
