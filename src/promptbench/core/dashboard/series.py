"""Plot-ready numpy arrays from :class:`DashboardData`, and the table behind each chart.

Pure functions over the small aggregates (a few thousand entries at most), so they are
cheap to recompute after every live update. Every series has ``table()`` -> (header,
rows): what the chart's CSV export writes. The runs behind them are those of the
filters' kinds (comparisons and eval cells unless asked); the totals (cost, tokens) say
so in their note when some kinds are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from datetime import timedelta

import numpy as np

from promptbench.core.dashboard.queries import BAND_QS, BOX_QS, DashboardData
from promptbench.core.dashboard.sql import BUCKET_SECONDS, bucket_start
from promptbench.core.engine.run_kinds import kinds_label
from promptbench.core.figures import short_version

SPIKE_FACTOR = 1.25  # latency spike: p50 or p95 above 1.25x its median over the buckets around it
SPIKE_WINDOW = 7
SPIKE_MIN_RUNS = 20
MAX_LINES = 8  # rate charts: more versions than this are merged into "other versions"
WEEKLY_AFTER = 60  # rate charts: more daily buckets than this are shown per week ...
SPARSE_CELL = 5  # ... and so are more than two weeks when a version gets fewer judgements a day


JUDGE_PREFIX = "judge:"  # core/eval_judge.JUDGE_PREFIX: the prompt_path of judge calls


def version_label(prompt: str | None, version: str | None, with_prompt: bool = True) -> str:
    if prompt and prompt.startswith(JUDGE_PREFIX) and not version:
        return f"judge {prompt.removeprefix(JUDGE_PREFIX)}"  # judge calls have no prompt version
    v = short_version(version) if version else "?"
    if not with_prompt:
        return v
    stem = (prompt or "(ad hoc)").rsplit("/", 1)[-1].removesuffix(".prompt.yml").removesuffix(".yml")
    return f"{stem}@{v}"


def _fmt(value) -> object:
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


@dataclass
class BoxSeries:
    """One box per model: ``q[i]`` are the BOX_QS quantiles (p5, p25, p50, p75, p95)."""

    metric: str
    unit: str
    names: list
    n: np.ndarray
    q: np.ndarray  # shape (len(names), 5)

    def table(self):
        header = ["model", "runs", *(f"p{round(p * 100)}_{self.unit}" for p in BOX_QS)]
        return header, [[name, int(n), *map(_fmt, row)] for name, n, row in zip(self.names, self.n, self.q)]


@dataclass
class TimeSeries:
    """Lines (or stacked bars) over time buckets: ``x`` = bucket start, epoch seconds (UTC)."""

    bucket: str
    keys: list  # bucket keys, aligned with x
    x: np.ndarray
    lines: dict  # name -> np.ndarray aligned with x (NaN: no data)
    counts: dict = field(default_factory=dict)  # name -> runs/judgements behind each point
    unit: str = ""
    note: str = ""
    group: str = ""  # what a line is: "model", "provider", "version", ...
    line_keys: dict = field(default_factory=dict)  # name -> the filter value(s) behind the line

    @property
    def width(self) -> float:
        return float({"week": 7 * 86400}.get(self.bucket) or BUCKET_SECONDS.get(self.bucket, 86400))

    def table(self):
        names = list(self.lines)
        header = ["bucket_start_utc", *names, *(f"{n} (count)" for n in names if n in self.counts)]
        rows = []
        for i, key in enumerate(self.keys):
            row = [key, *(_fmt(self.lines[n][i]) for n in names)]
            row += [int(self.counts[n][i]) for n in names if n in self.counts]
            rows.append(row)
        return header, rows


@dataclass
class LatencySeries:
    bucket: str
    keys: list
    x: np.ndarray
    n: np.ndarray
    p50: np.ndarray
    p95: np.ndarray
    spikes: np.ndarray  # bool per bucket

    @property
    def width(self) -> float:
        """A bucket's length in seconds."""
        return float(BUCKET_SECONDS.get(self.bucket, 86400))

    def table(self):
        header = ["bucket_start_utc", "finished_runs", "p50_ms", "p95_ms", "spike"]
        rows = [[k, int(n), float(a), float(b), bool(s)]
                for k, n, a, b, s in zip(self.keys, self.n, self.p50, self.p95, self.spikes)]  # fmt: skip
        return header, rows


@dataclass
class ErrorSeries:
    providers: list
    classes: list
    counts: np.ndarray  # (providers, classes)
    totals: np.ndarray  # runs per provider
    rates: np.ndarray  # counts / totals, in percent

    def table(self):
        header = ["provider", "runs", *(f"{c} (runs)" for c in self.classes), *(f"{c} (%)" for c in self.classes)]
        rows = [[p, int(t), *map(int, c), *map(float, r)]
                for p, t, c, r in zip(self.providers, self.totals, self.counts, self.rates)]  # fmt: skip
        return header, rows


@dataclass
class VersionSeries:
    labels: list
    keys: list  # (prompt, version)
    n: np.ndarray
    chars: np.ndarray  # mean output characters (NaN: none recorded)
    tokens: np.ndarray  # mean output tokens
    first: list  # first started_at of each version

    def table(self):
        header = ["prompt", "version", "finished_runs", "mean_output_chars", "mean_output_tokens", "first_run"]
        rows = [[k[0], k[1], int(n), _fmt(c), _fmt(t), f]
                for k, n, c, t, f in zip(self.keys, self.n, self.chars, self.tokens, self.first)]  # fmt: skip
        return header, rows


def _axis(keys, bucket: str) -> list:
    """Every bucket key from the first to the last of ``keys`` (empty buckets included)."""
    if not keys:
        return []
    lo, hi = min(keys), max(keys)
    step = timedelta(seconds=BUCKET_SECONDS[bucket])
    fmt = "%Y-%m-%d" if bucket == "day" else "%Y-%m-%dT%H"
    out, t, end = [], bucket_start(lo, bucket), bucket_start(hi, bucket)
    while t <= end:
        out.append(t.strftime(fmt))
        t += step
    return out


def kinds_note(data: DashboardData) -> str:
    """ "comparisons and eval cells only" when the filters leave some kinds of runs out."""
    return "" if data.filters.kinds is None else f"{kinds_label(data.filters.kinds)} only"


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _epochs(keys, bucket: str) -> np.ndarray:
    return np.array([bucket_start(k, bucket).timestamp() for k in keys], dtype=float)


def boxes(data: DashboardData, metric: str) -> BoxSeries:
    source, unit = (data.ttft, "ms") if metric == "ttft" else (data.tps, "tok/s")
    names = sorted(source, key=str)
    q = np.array([source[m].values for m in names], dtype=float).reshape(len(names), len(BOX_QS))
    return BoxSeries(metric, unit, names, np.array([source[m].n for m in names], dtype=int), q)


def cost(data: DashboardData, by: str = "model", cumulative: bool = False) -> TimeSeries:
    slot = 1 if by == "model" else 2
    keys = _axis({k[0] for k in data.time}, data.bucket)
    index = {k: i for i, k in enumerate(keys)}
    lines, counts, raw = {}, {}, {}
    unknown = 0
    for k, v in data.time.items():
        name = k[slot] or "(none)"
        raw[name] = k[slot]
        lines.setdefault(name, np.zeros(len(keys)))[index[k[0]]] += v[1]
        counts.setdefault(name, np.zeros(len(keys), dtype=int))[index[k[0]]] += v[0]
        unknown += v[0] - v[2]
    order = sorted(lines, key=lambda n: -lines[n].sum())
    lines = {n: (np.cumsum(lines[n]) if cumulative else lines[n]) for n in order}
    counts = {n: (np.cumsum(counts[n]) if cumulative else counts[n]) for n in order}
    note = _join(kinds_note(data), f"{unknown} run{'s' if unknown != 1 else ''} without a known cost (not counted)"
                 if unknown else "")  # fmt: skip
    return TimeSeries(data.bucket, keys, _epochs(keys, data.bucket), lines, counts, unit="USD", note=note, group=by,
                      line_keys={n: raw[n] for n in order})  # fmt: skip


def tokens(data: DashboardData) -> TimeSeries:
    keys = _axis({k[0] for k in data.time}, data.bucket)
    index = {k: i for i, k in enumerate(keys)}
    tin, tout, runs = np.zeros(len(keys)), np.zeros(len(keys)), np.zeros(len(keys), dtype=int)
    for k, v in data.time.items():
        i = index[k[0]]
        tin[i] += v[3]
        tout[i] += v[4]
        runs[i] += v[0]
    return TimeSeries(data.bucket, keys, _epochs(keys, data.bucket), {"input": tin, "output": tout},
                      {"input": runs, "output": runs}, unit="tokens", note=kinds_note(data), group="direction")  # fmt: skip


def latency(data: DashboardData) -> LatencySeries:
    keys = sorted(data.latency)
    vals = np.array([data.latency[k].values for k in keys], dtype=float).reshape(len(keys), len(BAND_QS))
    n = np.array([data.latency[k].n for k in keys], dtype=int)
    p50, p95 = vals[:, 0], vals[:, 1]
    return LatencySeries(data.bucket, keys, _epochs(keys, data.bucket), n, p50, p95, spikes(p50, p95, n))


def spikes(p50: np.ndarray, p95: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Buckets whose median or p95 latency is above SPIKE_FACTOR times the median of the
    same figure over the SPIKE_WINDOW buckets around it (a local baseline follows trends).
    Buckets with fewer than SPIKE_MIN_RUNS finished runs are never spikes."""
    out = np.zeros(len(p50), dtype=bool)
    if len(p50) < 3:
        return out
    half = SPIKE_WINDOW // 2
    for i in range(len(p50)):
        lo, hi = max(0, i - half), min(len(p50), i + half + 1)
        around = [j for j in range(lo, hi) if j != i]
        out[i] = n[i] >= SPIKE_MIN_RUNS and (p50[i] > SPIKE_FACTOR * np.median(p50[around])
                                             or p95[i] > SPIKE_FACTOR * np.median(p95[around]))
    return out


def errors(data: DashboardData) -> ErrorSeries:
    totals: dict = {}
    for (_b, _m, provider, _s), v in data.time.items():
        totals[provider] = totals.get(provider, 0) + v[0]
    by_class: dict = {}
    for (_p, cls), n in data.errors.items():
        by_class[cls] = by_class.get(cls, 0) + n
    providers = sorted(totals, key=str)
    classes = sorted(by_class, key=lambda c: (-by_class[c], str(c)))
    counts = np.zeros((len(providers), len(classes)), dtype=int)
    for (p, cls), n in data.errors.items():
        if p in totals:
            counts[providers.index(p), classes.index(cls)] = n
    tot = np.array([totals[p] for p in providers], dtype=int)
    rates = counts / np.maximum(tot, 1)[:, None] * 100.0
    return ErrorSeries([p or "(none)" for p in providers], [c or "unknown" for c in classes], counts, tot, rates)


@lru_cache(maxsize=4096)
def _week(key: str) -> str:
    day = bucket_start(key[:10], "day")
    return (day - timedelta(days=day.weekday())).strftime("%Y-%m-%d")


def rates(data: DashboardData, which: str, max_lines: int = MAX_LINES) -> TimeSeries:
    """Thumbs-up rate (``which="thumbs"``) or evaluation pass rate (``"evals"``) per prompt
    version over time, in percent; weekly buckets (Monday, UTC) when there are many days."""
    source = data.thumbs if which == "thumbs" else data.evals
    days = {k[2] for k in source}
    span = len(_axis(days, "day")) if data.bucket == "day" else 0
    sparse = bool(source) and float(np.median([n for _good, n in source.values()])) < SPARSE_CELL
    weekly = span > WEEKLY_AFTER or (span > 14 and sparse)
    regroup = _week if weekly else (lambda key: key)
    per_version: dict = {}
    first: dict = {}
    for (p, v, b), (good, n) in source.items():
        cell = per_version.setdefault((p, v), {}).setdefault(regroup(b), [0, 0])
        cell[0] += good
        cell[1] += n
        first[(p, v)] = min(first.get((p, v), b), b)
    ranked = sorted(per_version, key=lambda k: -sum(c[1] for c in per_version[k].values()))
    shown = sorted(ranked[:max_lines], key=lambda k: (first[k], str(k)))
    if len(ranked) > max_lines:
        other: dict = {}
        for k in ranked[max_lines:]:
            for b, (good, n) in per_version[k].items():
                cell = other.setdefault(b, [0, 0])
                cell[0] += good
                cell[1] += n
        per_version[("", "other versions")] = other
        shown.append(("", "other versions"))
    keys = sorted({b for k in shown for b in per_version[k]})
    index = {b: i for i, b in enumerate(keys)}
    lines, counts, line_keys = {}, {}, {}
    one_prompt = data.filters.prompt_path is not None
    for k in shown:
        y, c = np.full(len(keys), np.nan), np.zeros(len(keys), dtype=int)
        for b, (good, n) in per_version[k].items():
            y[index[b]] = good / n * 100.0 if n else np.nan
            c[index[b]] = n
        name = "other versions" if k == ("", "other versions") else version_label(k[0], k[1], not one_prompt)
        lines[name], counts[name], line_keys[name] = y, c, (None if k[0] == "" else k)
    bucket = "day" if weekly else data.bucket
    what = "thumbs" if which == "thumbs" else "results"
    ts = TimeSeries(bucket, keys, _epochs(keys, bucket), lines, counts, unit="%", group="version", line_keys=line_keys,
                    note=f"weekly; {len(ranked)} versions with {what}" if weekly else "")  # fmt: skip
    if weekly:
        ts.bucket = "week"
    return ts


def output_length(data: DashboardData) -> VersionSeries:
    keys = sorted(data.versions, key=lambda k: (str(k[0]), data.versions[k][5] or "", str(k[1])))
    one_prompt = data.filters.prompt_path is not None
    v = [data.versions[k] for k in keys]
    n = np.array([r[0] for r in v], dtype=int)
    chars = np.array([r[1] / r[2] if r[2] else np.nan for r in v], dtype=float)
    toks = np.array([r[3] / r[4] if r[4] else np.nan for r in v], dtype=float)
    labels = [version_label(p, ver, not one_prompt) for p, ver in keys]
    return VersionSeries(labels, keys, n, chars, toks, [r[5] for r in v])
