"""How one grid cell reads: its repeats' verdicts collapsed into a short text and a tone.

Plain Python over the report's ``cells`` (core/eval_report.py); no Qt. The text counts
evaluator verdicts as the summary row does ("1/2 · 0.50": passed / decided · mean
score); the tone is the test case's verdict: a repeat passes when every evaluator
passed, fails when any failed, and is undecided otherwise (an evaluator error, a run
that failed, a cell not run or not evaluated yet).

Where an LLM judge's two readings of its reply disagree (core/judging.py), the cell shows
both: "✗ 0/1 · 0.00  (strict: ✓ 1/1 · 1.00)", and its tooltip names each verdict.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from promptbench.core.figures import short_version
from promptbench.core.ids import is_draft_version
from promptbench.core.eval.judging import GITHUB, SHORT_NAMES, STRICT, reading_text

PASS, FAIL, MIXED, ERROR, PENDING = "pass", "fail", "mixed", "error", "pending"
BINARY_KINDS = frozenset({"string", "regex", "json", "jsonSchema", "latency", "cost"})  # scores are 1 or 0


@dataclass
class CellView:
    text: str
    tone: str                   # PASS | FAIL | MIXED | ERROR | PENDING
    tooltip: str
    repeats: list[dict] = field(default_factory=list)  # the report's cells, repeat order
    baseline: str | None = None  # "regression" | "improvement" | None


def repeat_verdict(cell: dict) -> bool | None:
    results = cell.get("evaluators") or []
    if cell.get("status") != "finished" or not cell.get("evaluated"):
        return None
    if any(r["passed"] is False for r in results):
        return False
    if results and all(r["passed"] for r in results):
        return True
    return None


def _pending_text(cells: list[dict], running: bool) -> tuple[str, str]:
    statuses = {c.get("status") for c in cells}
    if "error" in statuses:
        return "⚠ run failed", ERROR
    if statuses <= {"pending", "cancelled"}:
        return ("…" if running else "not run"), PENDING
    if any(c.get("status") == "finished" and not c.get("evaluated") for c in cells):
        return ("evaluating…" if running else "not evaluated"), PENDING
    return "? undecided", ERROR


def cell_view(cells: list[dict], running: bool = False) -> CellView:
    """The text and tone of one (test case, version, model) from its repeats (*running*: the eval is).

    It counts what the summary counts (core/eval_report.py): evaluator verdicts, passed out
    of decided, and the mean of their scores, e.g. "✗ 1/2 · 0.50". The tone says whether
    the test case passed (every evaluator passed) in every repeat, in none, or in some."""
    cells = sorted(cells, key=lambda c: c.get("repeat") or 0)
    tooltip = _tooltip(cells)
    text, tone = _verdict_text(cells, running)
    others = [r["other_reading"] for c in cells for r in c.get("evaluators") or () if r.get("other_reading")]
    if others:
        other_text, _ = _verdict_text(_as_read_otherwise(cells), running, undecided=False)
        text += f"  ({SHORT_NAMES[others[0]['mode']]}: {other_text})"
    return CellView(text, tone, tooltip, cells)


def _as_read_otherwise(cells: list[dict]) -> list[dict]:
    """The cells with each judge verdict as the reading not used gives it."""
    def other(r: dict) -> dict:
        o = r.get("other_reading")
        return {**r, "passed": o["passed"], "score": o["score"]} if o else r

    return [{**c, "evaluators": [other(r) for r in c.get("evaluators") or ()]} for c in cells]


def _verdict_text(cells: list[dict], running: bool, undecided: bool = True) -> tuple[str, str]:
    verdicts = [repeat_verdict(c) for c in cells]
    results = [r for c in cells for r in c.get("evaluators") or ()]
    decided = [r for r in results if r["passed"] is not None]
    if not decided:
        return _pending_text(cells, running)
    passed = sum(1 for r in decided if r["passed"])
    whole = [v for v in verdicts if v is not None]
    if whole:
        tone = PASS if all(whole) else FAIL if not any(whole) else MIXED
    else:
        tone = FAIL if passed < len(decided) else ERROR
    mark = {PASS: "✓", FAIL: "✗", MIXED: "≈", ERROR: "?"}[tone]
    text = f"{mark} {passed}/{len(decided)}"
    scores = [r["score"] for r in decided if r["score"] is not None]
    if scores:
        text += f" · {statistics.fmean(scores):.2f}"
        per_repeat = [statistics.fmean(s) for s in (_scores(c) for c in cells) if s]
        if len(per_repeat) >= 2:
            text += f" ±{statistics.stdev(per_repeat):.2f}"
    unknown = len(results) - len(decided) or sum(1 for c in cells if not c.get("evaluators") and c.get("status") == "error")
    if unknown and undecided:
        text += f"  ({unknown} ?)"
    return text, tone


def _scores(cell: dict) -> list[float]:
    if cell.get("status") != "finished" or not cell.get("evaluated"):
        return []
    return [r["score"] for r in cell.get("evaluators") or () if r["passed"] is not None and r["score"] is not None]


def _tooltip(cells: list[dict]) -> str:
    if not cells:
        return ""
    names = [r["name"] for r in cells[0].get("evaluators") or ()]
    lines = []
    for i, name in enumerate(names):
        results = [c["evaluators"][i] for c in cells if i < len(c.get("evaluators") or ())]
        decided = [r for r in results if r["passed"] is not None]
        ok = sum(1 for r in decided if r["passed"])
        scores = [r["score"] for r in decided if r["score"] is not None and r["kind"] not in BINARY_KINDS]
        score = f", score {statistics.fmean(scores):.2f}" if scores else ""
        errors = len(results) - len(decided)
        err = f", {errors} could not decide" if errors else ""
        lines.append(f"{name}: {ok}/{len(decided)} passed{score}{err}")
        lines += [f"  {disagreement_text(r)}" for r in results if r.get("other_reading")]
    return "\n".join(lines) + "\nClick for the output and each evaluator's reason."


def disagreement_text(r: dict) -> str:
    """Both readings of one judge verdict: "GitHub's reading: fail ('1', score 0); strict reading: pass ('5', score 1)"."""
    other = r["other_reading"]
    used = GITHUB if other["mode"] == STRICT else STRICT
    mine = reading_text({"mode": used, "choice": r.get("choice"), "score": r.get("score"), "passed": r.get("passed")})
    return f"{mine}; {reading_text(other)}"


def version_title(version: dict, only_one: bool) -> str:
    rev, sha = version.get("rev"), version.get("version")
    if only_one:
        return ""
    if rev is None:
        return short_version(sha) if is_draft_version(str(sha)) else "working copy"
    return rev if len(rev) < 12 and rev != sha else short_version(sha)


def baseline_marks(report: dict) -> dict[tuple, tuple[str, list[dict]]]:
    """(test case, model) -> ("regression" | "improvement", the changes) from the report's baseline."""
    base = report.get("baseline") or {}
    marks: dict[tuple, tuple[str, list[dict]]] = {}
    for kind, items in (("improvement", base.get("improvements") or []), ("regression", base.get("regressions") or [])):
        for item in items:
            key = (item["test_case"], item["model"])
            old_kind, changes = marks.get(key, (kind, []))
            marks[key] = ("regression" if "regression" in (kind, old_kind) else kind, changes + [dict(item, kind=kind)])
    return marks


def change_text(change: dict) -> str:
    before, after = change["before"], change["after"]
    arrow = "▼" if change["kind"] == "regression" else "▲"
    text = f"{arrow} {change['evaluator']}: {before['pass_rate']:.0%} → {after['pass_rate']:.0%} passed"
    if before.get("score") is not None and after.get("score") is not None:
        text += f" (score {before['score']:.2f} → {after['score']:.2f})"
    return text
