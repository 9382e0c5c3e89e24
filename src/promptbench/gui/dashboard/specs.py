"""The dashboard's charts: id, title, what they show, their options (no pyqtgraph here)."""

from __future__ import annotations

from dataclasses import dataclass


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
    ChartSpec("thumbs", "Thumbs-up rate by prompt version", "Share of thumbs up among thumbs given, per version and "
              "bucket (when the thumb was given)", time_axis=True),
    ChartSpec("evals", "Evaluation pass rate by prompt version", "Share of evaluator checks passed, per version and "
              "bucket; checks that errored are not counted", time_axis=True),
    ChartSpec("length", "Output length by prompt version", "Mean output length of finished runs per prompt version, "
              "oldest version first", options=(
        ("field", "Characters or tokens", (("characters", "chars"), ("tokens", "tokens"))),
    )),
)  # fmt: skip
SPEC_BY_ID = {s.id: s for s in SPECS}
