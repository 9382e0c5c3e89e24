"""The dashboard's background work (run in tasks, never on the GUI thread): read the
aggregates through core/dashboard/reads.py and turn them into plot-ready series."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from promptbench.core.dashboard import series as S
from promptbench.core.dashboard.queries import DashboardData
from promptbench.core.dashboard.reads import read_all, read_run_ids, read_update
from promptbench.core.dashboard.sql import Filters

DEFAULT_OPTIONS = {"cost": {"by": "model", "mode": "daily"}, "length": {"field": "chars"}}


def series_for(chart: str, data: DashboardData, options: dict | None = None):
    """The series one chart draws, for its current options."""
    opts = {**DEFAULT_OPTIONS.get(chart, {}), **(options or {})}
    if chart in ("ttft", "tps"):
        return S.boxes(data, chart)
    if chart == "latency":
        return S.latency(data)
    if chart == "cost":
        return S.cost(data, by=opts["by"], cumulative=opts["mode"] == "cumulative")
    if chart == "errors":
        return S.errors(data)
    if chart == "tokens":
        return S.tokens(data)
    if chart in ("thumbs", "evals"):
        return S.rates(data, chart)
    if chart == "length":
        return S.output_length(data)
    raise KeyError(chart)


@dataclass
class Result:
    data: DashboardData
    series: dict  # chart id -> series
    full: bool  # a full reload (filters changed, first load, or too much changed)
    seen: set = field(default_factory=set)  # run ids now stored as ended (for pending live events)
    job_ms: float = 0.0


def _series(data: DashboardData, options: dict) -> dict:
    charts = ("ttft", "tps", "latency", "cost", "errors", "tokens", "thumbs", "evals", "length")
    return {c: series_for(c, data, options.get(c)) for c in charts}


def full_job(services, filters: Filters, options: dict, pending: frozenset = frozenset()) -> Result:
    t = time.perf_counter()
    services.runs()  # the database exists and is migrated before a read-only open
    data, seen = read_all(services.db_path, filters, pending)
    return Result(data, _series(data, options), True, seen, (time.perf_counter() - t) * 1000)


def update_job(services, data: DashboardData, options: dict, pending: frozenset = frozenset()) -> Result:
    t = time.perf_counter()
    new, full, seen = read_update(services.db_path, data, pending)
    return Result(new, _series(new, options), full, seen, (time.perf_counter() - t) * 1000)


def run_ids_job(db_path: Path, point: dict, limit: int = 200) -> list[tuple]:
    keys = {"prompt_path", "prompt_version", "model_name", "provider", "since", "until", "kinds"}  # no kinds: the default
    filters = Filters(**{k: v for k, v in point.items() if k in keys})
    return read_run_ids(db_path, filters, status=point.get("status"), error_class=point.get("error_class"), limit=limit)
