"""Past comparisons as rows for the runs view (plain Python, no Qt).

The run store lists runs (newest first, without their text); a comparison's row
summarises all of its runs: when, which prompt and version, which models, how they
ended, the best TTFT and what the whole comparison cost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from promptbench.core.ids import draft_sha

STATUS_ORDER = ("finished", "error", "cancelled", "interrupted", "running")


@dataclass
class Filters:
    prompt: str | None = None        # exact prompt path
    version: str | None = None       # prefix of the prompt version (sha, or "draft")
    model: str | None = None         # a run of this model name ...
    status: str | None = None        # ... that ended with this status
    since: object = None             # aware datetime, inclusive
    until: object = None             # aware datetime, exclusive


@dataclass
class ComparisonRow:
    comparison_id: str
    started_at: str
    prompt_path: str | None
    prompt_version: str | None
    models: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    best_ttft_ms: float | None = None
    total_cost_usd: float | None = None
    unknown_cost: int = 0            # runs whose cost is unknown

    def statuses_text(self) -> str:
        order = {s: i for i, s in enumerate(STATUS_ORDER)}
        items = sorted(self.statuses.items(), key=lambda kv: order.get(kv[0], 99))
        return ", ".join(f"{n} {status}" for status, n in items)


def summarize(runs: list[dict], filters: Filters | None = None, limit: int = 500) -> list[ComparisonRow]:
    """Group runs by comparison, keep comparisons matching ``filters``, newest first."""
    f = filters or Filters()
    groups: dict[str, list[dict]] = {}
    for run in runs:
        groups.setdefault(run.get("comparison_id") or run["id"], []).append(run)
    rows = []
    for comparison_id, group in groups.items():
        if not _matches(group, f):
            continue
        group.reverse()  # the store lists newest first; a comparison reads in launch order
        group.sort(key=lambda r: r.get("started_at") or "")
        finished = [r["ttft_ms"] for r in group if r.get("status") == "finished" and r.get("ttft_ms") is not None]
        costs = [r.get("cost_usd") for r in group]
        known = [c for c in costs if c is not None]
        rows.append(ComparisonRow(
            comparison_id=comparison_id, started_at=group[0].get("started_at") or "",
            prompt_path=group[0].get("prompt_path"), prompt_version=group[0].get("prompt_version"),
            models=[r.get("model_name") or r.get("model") or "?" for r in group],
            statuses=Counter(r.get("status") or "?" for r in group),
            best_ttft_ms=min(finished) if finished else None,
            total_cost_usd=sum(known) if known else None, unknown_cost=len(costs) - len(known)))
    rows.sort(key=lambda r: r.started_at, reverse=True)
    return rows[:limit]


def _matches(group: list[dict], f: Filters) -> bool:
    first = group[0]
    if f.prompt and first.get("prompt_path") != f.prompt:
        return False
    if f.version:
        version = (first.get("prompt_version") or "").lower()
        wanted = f.version.strip().lower()
        if not (version.startswith(wanted) or draft_sha(version).startswith(wanted)):
            return False
    if f.model or f.status:  # one run of that model that ended that way
        return any((not f.model or r.get("model_name") == f.model) and (not f.status or r.get("status") == f.status)
                   for r in group)
    return True

