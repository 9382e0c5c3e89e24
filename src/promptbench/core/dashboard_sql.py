"""SQL pieces shared by the dashboard queries and exports: filters, buckets, exact quantiles.

``PROPOSED_INDEXES``: the indexes the dashboard queries are written for. Each is
covering for its query (filters included), so a refresh never touches the wide rows:

- ``idx_runs_ended_at``: the live update reads only runs that ended since the last read;
- ``idx_runs_dash_time``: per UTC day x model x provider sums, streamed in index order
  (``substr(started_at, 1, 10)`` is the same expression the queries group by);
- ``idx_runs_dash_version``: output length per prompt version;
- ``idx_runs_dash_ttft`` / ``_tps`` / ``_latency``: each metric in order within its
  group, so a quantile is a ``LIMIT 2 OFFSET k`` walk, not a sort of 100k rows.

Until a migration creates them the queries still answer (the planner picks other
indexes), only slower; ``INDEXED BY`` is used only when the index exists.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np

from promptbench.core import db as dbmod

PROPOSED_INDEXES = (
    ("idx_runs_ended_at", "runs", "ended_at"),
    ("idx_runs_dash_time", "runs", "substr(started_at, 1, 10), model_name, provider, status, cost_usd, input_tokens,"
     " output_tokens, ttft_ms, tokens_per_s, total_ms, prompt_path, prompt_version, started_at"),
    ("idx_runs_dash_version", "runs", "status, prompt_path, prompt_version, output_chars, output_tokens, model_name,"
     " provider, started_at"),
    ("idx_runs_dash_ttft", "runs", "model_name, status, ttft_ms, provider, prompt_path, prompt_version, started_at"),
    ("idx_runs_dash_tps", "runs", "model_name, status, tokens_per_s, provider, prompt_path, prompt_version, started_at"),
    ("idx_runs_dash_latency", "runs", "substr(started_at, 1, 10), status, total_ms, model_name, provider, prompt_path,"
     " prompt_version, started_at"),
)  # fmt: skip
BUCKETS = {"day": "substr(started_at, 1, 10)", "hour": "substr(started_at, 1, 13)"}
BUCKET_SECONDS = {"day": 86400, "hour": 3600}


def create_index_sql() -> list[str]:
    """The ``CREATE INDEX`` statements for a migration."""
    return [f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({cols})" for name, table, cols in PROPOSED_INDEXES]


def _iso(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return dbmod.to_utc_iso(value)


@dataclass(frozen=True)
class Filters:
    """What every chart is restricted to. ``since`` inclusive, ``until`` exclusive (run
    ``started_at``; thumbs and evaluation results by when they were recorded). A date
    means midnight UTC; datetimes must be aware; strings are ISO 8601."""

    prompt_path: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None
    provider: str | None = None
    since: str | None = None
    until: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "since", _iso(self.since))
        object.__setattr__(self, "until", _iso(self.until))

    def to_json(self) -> dict:
        """Only the filters that are set, with RunStore.list_runs' argument names."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def narrowed(self, **changes) -> Filters:
        """These filters and ``changes``; a time window is intersected, not replaced."""
        d = dict(self.__dict__)
        for key in ("since", "until"):
            if key in changes:
                new, old = _iso(changes.pop(key)), d[key]
                d[key] = new if old is None else old if new is None else (max if key == "since" else min)(old, new)
        d.update(changes)
        return Filters(**d)


def run_filter(f: Filters, *, day_index: bool = False) -> tuple[str, list]:
    """`` AND ...`` conditions on runs, and their parameters."""
    conds, params = [], []
    for col in ("prompt_path", "prompt_version", "model_name", "provider"):
        value = getattr(f, col)
        if value is not None:
            conds.append(f"{col} = ?")
            params.append(value)
    if f.since:
        conds.append("started_at >= ?")
        params.append(f.since)
        if day_index:  # implied by the line above; lets the day-keyed indexes seek
            conds.append("substr(started_at, 1, 10) >= ?")
            params.append(f.since[:10])
    if f.until:
        conds.append("started_at < ?")
        params.append(f.until)
        if day_index:
            conds.append("substr(started_at, 1, 10) <= ?")
            params.append(f.until[:10])
    return "".join(f" AND {c}" for c in conds), params


def vote_filter(f: Filters, prompt_col: str, version_col: str, model_col: str) -> tuple[str, list]:
    """Filters for thumbs / eval_results rows (provider through their run)."""
    conds, params = [], []
    for col, value in ((prompt_col, f.prompt_path), (version_col, f.prompt_version), (model_col, f.model_name)):
        if value is not None:
            conds.append(f"{col} = ?")
            params.append(value)
    if f.provider is not None:
        conds.append("run_id IN (SELECT id FROM runs WHERE provider = ?)")
        params.append(f.provider)
    if f.since:
        conds.append("created_at >= ?")
        params.append(f.since)
    if f.until:
        conds.append("created_at < ?")
        params.append(f.until)
    return "".join(f" AND {c}" for c in conds), params


def has_index(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name]).fetchone() is not None


def table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchone() is not None


def bucket_start(key: str, bucket: str) -> datetime:
    fmt = "%Y-%m-%d" if bucket == "day" else "%Y-%m-%dT%H"
    return datetime.strptime(key, fmt).replace(tzinfo=timezone.utc)


def bucket_bounds(key: str, bucket: str) -> tuple[str, str]:
    """The ``started_at`` range [lo, hi) of one bucket, as stored text."""
    lo = bucket_start(key, bucket)
    return dbmod.to_utc_iso(lo), dbmod.to_utc_iso(lo + timedelta(seconds=BUCKET_SECONDS[bucket]))


def quantiles(conn, q, col: str, index: str | None, group: tuple[str, list], f: Filters, qs, n: int | None):
    """Exact quantiles (linear interpolation between order statistics, as numpy's default)
    of ``col`` over finished runs in ``group`` matching ``f``: (n, (value per q)) or None.

    ``n`` is the number of such values when already known from the same snapshot. Each
    quantile reads at most two values with ``LIMIT 2 OFFSET k``, walking the index from
    the nearer end (ascending below the median, descending above)."""
    cond, gparams = group
    where, params = run_filter(f, day_index=index == "idx_runs_dash_latency")
    hint = f"INDEXED BY {index}" if index and has_index(conn, index) else ""
    base = f"SELECT {col} FROM runs {hint} WHERE {cond} AND status = 'finished' AND {col} IS NOT NULL {where}"
    args = [*gparams, *params]
    if n is None:
        n = q.rows(conn, f"SELECT count(*) FROM ({base})", args)[0][0]
    if not n:
        return None
    out = []
    for p in qs:
        h = (n - 1) * p
        lo = math.floor(h)
        frac = h - lo
        need = 2 if frac > 0 and lo + 1 < n else 1
        if p <= 0.5:
            vals = [r[0] for r in q.rows(conn, f"{base} ORDER BY {col} LIMIT ? OFFSET ?", [*args, need, lo])]
        else:
            offset = n - 1 - lo - (need - 1)
            vals = [r[0] for r in q.rows(conn, f"{base} ORDER BY {col} DESC LIMIT ? OFFSET ?", [*args, need, offset])]
            vals.reverse()
        if not vals:  # the data changed under a count from another snapshot
            return None
        out.append(vals[0] + (vals[1] - vals[0]) * frac if len(vals) == 2 else vals[0])
    return n, tuple(out)


def bulk_quantiles(conn, q, col: str, key_expr: str, f: Filters, qs, keys=None) -> dict:
    """The same quantiles as :func:`quantiles` for many groups at once, from one scan that
    fetches every value: {group key: (n, values)}. For when no index orders ``col``."""
    where, params = run_filter(f)
    if keys is not None:
        keys = sorted(keys, key=str)
        if not keys:
            return {}
        where += f" AND {key_expr} IN ({', '.join('?' * len(keys))})"
        params += keys
    rows = q.rows(conn, f"SELECT {key_expr}, {col} FROM runs WHERE status = 'finished' AND {col} IS NOT NULL {where}",
                  params)  # fmt: skip
    groups: dict = {}
    for key, value in rows:
        groups.setdefault(key, []).append(value)
    return {k: (len(v), tuple(float(x) for x in np.quantile(np.asarray(v, dtype=float), qs))) for k, v in groups.items()}
