"""The dashboard's charts: id, title, what they show, their options, and what an empty
chart says instead of empty axes (no pyqtgraph here)."""

from __future__ import annotations

from dataclasses import dataclass

COMPARE = "run a prompt in the Compare tab"
# chart id -> (what there is none of, how to get some)
MISSING = {
    "ttft": ("No finished runs", COMPARE),
    "tps": ("No finished runs", COMPARE),
    "latency": ("No finished runs", COMPARE),
    "cost": ("No runs", COMPARE),
    "errors": ("No runs", COMPARE),
    "tokens": ("No runs", COMPARE),
    "thumbs": ("No thumbs yet", "give an output a thumb up or down in the Compare or Rank tab"),
    "evals": ("No eval results yet", "run an eval in the Eval tab"),
    "length": ("No finished runs", COMPARE),
}


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    tip: str
    time_axis: bool = False
    options: tuple = ()  # ((option name, tooltip, ((label, value), ...)), ...)


SPECS = (
    ChartSpec("ttft", "Time to first token", "Finished runs per model: box p25–p75, line at the median, "
              "whiskers p5–p95"),
    ChartSpec("tps", "Tokens per second", "Finished runs per model: box p25–p75, line at the median, whiskers p5–p95"),
    ChartSpec("latency", "Latency over time", "Request sent to stream end of finished runs: median and p95 per "
              "bucket, log scale; triangles mark spikes (median or p95 above 1.25x that of the week around it)", time_axis=True),
    ChartSpec("cost", "Cost", "Cost of ended runs per bucket, or the running total", time_axis=True, options=(
        ("by", "One line per model or per provider", (("per model", "model"), ("per provider", "provider"))),
        ("mode", "Cost in each bucket, or the total so far", (("daily", "daily"), ("cumulative", "cumulative"))),
    )),
    ChartSpec("errors", "Error rate by provider", "Runs that ended in an error, by error class, as a share of all "
              "the provider's ended runs"),
    ChartSpec("tokens", "Token usage", "Input and output tokens of ended runs per bucket (stacked)", time_axis=True),
    ChartSpec("thumbs", "Thumbs-up rate by version", "Share of thumbs up among thumbs given, per version and "
              "bucket (when the thumb was given)", time_axis=True),
    ChartSpec("evals", "Eval pass rate by version", "Share of evaluator checks passed, per version and "
              "bucket; checks that errored are not counted", time_axis=True),
    ChartSpec("length", "Output length by version", "Mean output length of finished runs per prompt version, "
              "oldest version first", options=(
        ("field", "Characters or tokens", (("characters", "chars"), ("tokens", "tokens"))),
    )),
)  # fmt: skip
SPEC_BY_ID = {s.id: s for s in SPECS}


def empty_reason(chart_id: str, filters, series=None) -> str:
    """What an empty chart says: "No finished runs yet: run a prompt in the Compare tab",
    "No finished runs in this period" (only dates chosen), "No finished runs match these
    filters"; the error chart with runs but no errors says so."""
    if chart_id == "errors" and series is not None and int(sum(series.totals)) > 0:
        n = int(sum(series.totals))
        return "No errors in the 1 run" if n == 1 else f"No errors among these {n:,} runs"
    missing, how = MISSING.get(chart_id, ("Nothing to show", ""))
    narrowed = {k for k in ("prompt_path", "prompt_version", "model_name", "provider", "since", "until")
                if getattr(filters, k, None) is not None}  # fmt: skip
    if missing.endswith(" yet"):  # thumbs and eval results: none in the whole history, or none here
        if not narrowed:
            return f"{missing}: {how}"
        missing = missing.removesuffix(" yet")
    if not narrowed:
        return f"{missing} yet: {how}"
    if narrowed <= {"since", "until"}:
        return f"{missing} in this period"
    return f"{missing} match these filters"
