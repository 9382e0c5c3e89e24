"""SQL pieces shared by the dashboard queries and exports: filters, buckets, exact quantiles.

``PROPOSED_INDEXES``: the indexes the dashboard queries are written for. Each covers
its query and the prompt, model, provider and date filters, so a refresh never reads
the runs table itself (a version filter reads the rows of that prompt only):

- ``idx_runs_ended_at``: the live update reads only runs that ended since the last read;
- ``idx_runs_dash_time``: per UTC day x model x provider sums, streamed in index order
  (``substr(started_at, 1, 10)`` is the same expression the queries group by);
- ``idx_runs_dash_version``: output length per prompt version;
- ``idx_runs_dash_ttft`` / ``_tps`` / ``_latency``: each metric in order within its
  group, so a quantile is a ``LIMIT 2 OFFSET k`` walk, not a sort of 100k rows.

Every covering index ends with ``kind`` (migration m008): the kinds filter (by default
comparisons and eval cells, core/run_kinds.py) is checked in the index too.

Until a migration creates them the queries still answer (the planner picks other
indexes), only slower; ``INDEXED BY`` is used only when the index exists.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timezone

import numpy as np

from promptbench.core.db import database as dbmod
from promptbench.core.engine.run_kinds import DEFAULT_KINDS, RUN_KINDS, kind_condition, resolve_kinds

PROPOSED_INDEXES = (
    ("idx_runs_ended_at", "runs", "ended_at"),
    ("idx_runs_dash_time", "runs", "substr(started_at, 1, 10), model_name, provider, status, cost_usd, input_tokens,"
     " output_tokens, ttft_ms, tokens_per_s, total_ms, prompt_path, started_at, kind"),
    ("idx_runs_dash_version", "runs", "status, prompt_path, prompt_version, output_chars, output_tokens, model_name,"
     " provider, started_at, kind"),
    ("idx_runs_dash_ttft", "runs", "model_name, status, ttft_ms, provider, prompt_path, started_at, kind"),
    ("idx_runs_dash_tps", "runs", "model_name, status, tokens_per_s, provider, prompt_path, started_at, kind"),
    ("idx_runs_dash_latency", "runs", "substr(started_at, 1, 10), status, total_ms, model_name, provider, prompt_path,"
     " started_at, kind"),
)  # fmt: skip
BUCKETS = {"day": "substr(started_at, 1, 10)", "hour": "substr(started_at, 1, 13)"}
BUCKET_SECONDS = {"day": 86400, "hour": 3600}
FROM_FILTERS = object()  # run_filter / vote_filter: write the filters' own kinds


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
    means midnight UTC; datetimes must be aware; strings are ISO 8601. ``kinds``: the
    kinds of runs counted (RUN_KINDS; None or "all": every kind), by default comparisons
    and eval cells; thumbs and evaluation results count when the run they judge does."""

    prompt_path: str | None = None
    prompt_version: str | None = None
    model_name: str | None = None
    provider: str | None = None
    since: str | None = None
    until: str | None = None
    kinds: tuple[str, ...] | None = DEFAULT_KINDS

    def __post_init__(self):
        object.__setattr__(self, "since", _iso(self.since))
        object.__setattr__(self, "until", _iso(self.until))
        object.__setattr__(self, "kinds", resolve_kinds(self.kinds))

    def to_json(self) -> dict:
        """Only the filters that are set, with RunStore.list_runs' argument names; ``kinds``
        only when not the default (a list, or "all")."""
        out = {k: v for k, v in self.__dict__.items() if v is not None and k != "kinds"}
        if self.kinds != DEFAULT_KINDS:
            out["kinds"] = "all" if self.kinds is None else list(self.kinds)
        return out

    def narrowed(self, **changes) -> Filters:
        """These filters and ``changes``; a time window is intersected, not replaced."""
        d = dict(self.__dict__)
        for key in ("since", "until"):
            if key in changes:
                new, old = _iso(changes.pop(key)), d[key]
                d[key] = new if old is None else old if new is None else (max if key == "since" else min)(old, new)
        d.update(changes)
        return Filters(**d)


def run_filter(f: Filters, *, day_index: bool = False, kinds=FROM_FILTERS) -> tuple[str, list]:
    """`` AND ...`` conditions on runs, and their parameters. ``kinds``: the kinds
    condition to write, from :func:`stored_kinds` (default: the filters' own kinds)."""
    # "+kind": the kind is checked in the covering index of each query; without the unary
    # plus the planner (no ANALYZE statistics) would walk idx_runs_kind for `kind = ?`
    kind = _kind_sql(f.kinds if kinds is FROM_FILTERS else kinds, "+kind")
    conds, params = [kind] if kind else [], []
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


def vote_filter(f: Filters, prompt_col: str, version_col: str, model_col: str, *, kinds=FROM_FILTERS,
                judged_kind: str | None = None) -> tuple[str, list]:  # fmt: skip
    """Filters for thumbs / eval_results rows (provider and kind through their run).

    A row counts when the run it judges is of a kind shown; one without a stored run
    counts as a comparison's. ``kinds`` as for :func:`run_filter`. ``judged_kind``: the
    kind of every run judged (evaluation results judge eval cells, core/eval_run.py),
    which spares a look-up per row."""
    conds, params = [], []
    for col, value in ((prompt_col, f.prompt_path), (version_col, f.prompt_version), (model_col, f.model_name)):
        if value is not None:
            conds.append(f"{col} = ?")
            params.append(value)
    sql_kinds = f.kinds if kinds is FROM_FILTERS else kinds
    if judged_kind is not None:
        if f.kinds is not None and judged_kind not in f.kinds:
            conds.append("0")
    elif sql_kinds is not None:
        kind = _kind_sql(sql_kinds, "r.kind")
        if "comparison" in f.kinds:  # NOT EXISTS: rows without a run (or whose run is gone) count
            conds.append(f"NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = run_id AND NOT ({kind}))")
        else:
            conds.append(f"EXISTS (SELECT 1 FROM runs r WHERE r.id = run_id AND {kind})")
    if f.provider is not None:
        conds.append("EXISTS (SELECT 1 FROM runs r WHERE r.id = run_id AND r.provider = ?)")
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


def stored_kinds(conn: sqlite3.Connection, kinds) -> tuple[str, ...] | None:
    """The kinds condition the queries need for ``kinds``, given what is stored: None when
    no stored run is of a kind left out (then no row needs checking), else the kinds
    wanted among those stored (``()``: none). One seek per kind along m007's
    ``idx_runs_kind``; before m007 (no ``kind`` column) every run is a comparison."""
    wanted = resolve_kinds(kinds)
    if wanted is None:
        return None
    if any(row[1] == "kind" for row in conn.execute("PRAGMA table_info(runs)")):
        seek = "SELECT 1 FROM runs WHERE kind = ? LIMIT 1"
        present = tuple(k for k in RUN_KINDS if conn.execute(seek, [k]).fetchone())
    else:
        present = ("comparison",)
    shown = tuple(k for k in present if k in wanted)
    return None if shown == present else shown


def _kind_sql(kinds, column: str) -> str:
    if kinds is None:
        return ""
    return kind_condition(kinds, column) if kinds else "0"


@lru_cache(maxsize=8192)
def bucket_start(key: str, bucket: str) -> datetime:
    fmt = "%Y-%m-%d" if bucket == "day" else "%Y-%m-%dT%H"
    return datetime.strptime(key, fmt).replace(tzinfo=timezone.utc)


COMPOUND_LIMIT = 200  # sub-selects per statement (SQLite allows 500 by default)


def quantiles(conn, q, col: str, index: str, key_expr: str, keys, f: Filters, qs, counts: dict | None = None) -> dict:
    """Exact quantiles (linear interpolation between order statistics, as numpy's default)
    of ``col`` over finished runs matching ``f``, per group ``key_expr = key``:
    {key: (n, (value per q))}; groups without values are left out.

    ``counts`` (key -> n) when already known from the same snapshot; else counted in one
    statement. Each quantile reads at most two values with ``LIMIT 2 OFFSET k`` along
    ``index`` (which orders ``col`` within a group), from the nearer end (ascending below
    the median, descending above); all of them go in a few UNION ALL statements."""
    where, params = run_filter(f, day_index=key_expr.startswith("substr(started_at, 1, 10)"),
                               kinds=stored_kinds(conn, f.kinds))  # fmt: skip
    hint = f"INDEXED BY {index}" if has_index(conn, index) else ""
    keys = sorted(keys, key=str)
    base = f"FROM runs {hint} WHERE {key_expr} = ? AND status = 'finished' AND {col} IS NOT NULL {where}"
    if counts is None:
        counts = {}
        for at in range(0, len(keys), COMPOUND_LIMIT):
            part = keys[at : at + COMPOUND_LIMIT]
            sql = " UNION ALL ".join(f"SELECT {i}, count(*) {base}" for i in range(len(part)))
            for i, n in q.rows(conn, sql, [a for key in part for a in (key, *params)]):
                counts[part[i]] = n
    plan, subs, args = [], [], []
    for key in keys:
        n = counts.get(key, 0)
        for p in qs if n else ():
            h = (n - 1) * p
            lo = math.floor(h)
            frac = h - lo
            need = 2 if frac > 0 and lo + 1 < n else 1
            order, offset = ("", lo) if p <= 0.5 else (" DESC", n - lo - need)
            subs.append(f"SELECT {len(plan)}, v FROM (SELECT {col} AS v {base} ORDER BY {col}{order}"
                        f" LIMIT {need} OFFSET {offset})")  # fmt: skip
            args.append([key, *params])
            plan.append((key, frac))
    found: dict = {}
    for at in range(0, len(subs), COMPOUND_LIMIT):
        sql = " UNION ALL ".join(subs[at : at + COMPOUND_LIMIT])
        for i, v in q.rows(conn, sql, [a for group in args[at : at + COMPOUND_LIMIT] for a in group]):
            found.setdefault(i, []).append(v)
    out: dict = {}
    for i, (key, frac) in enumerate(plan):
        vals = sorted(found.get(i, ()))
        if not vals:  # the data changed under counts from another snapshot
            out.pop(key, None)
            continue
        value = vals[0] + (vals[1] - vals[0]) * frac if len(vals) == 2 else vals[0]
        out.setdefault(key, [counts[key], []])[1].append(value)
    return {k: (n, tuple(v)) for k, (n, v) in out.items() if len(v) == len(qs)}


def bulk_quantiles(conn, q, col: str, key_expr: str, f: Filters, qs, keys=None) -> dict:
    """The same quantiles as :func:`quantiles` for many groups at once, from one scan that
    fetches every value: {group key: (n, values)}. For when no index orders ``col``."""
    where, params = run_filter(f, kinds=stored_kinds(conn, f.kinds))
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
