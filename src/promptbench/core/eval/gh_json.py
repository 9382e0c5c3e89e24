"""An eval report in the JSON that ``gh models eval --json`` prints, so tools that read gh's
output read promptbench's (``promptbench eval FILE --format gh-json``).

gh's shape (github/gh-models cmd/eval/eval.go, ``EvaluationSummary``): ``{name, description,
model, testResults: [{testCase, modelResponse, evaluationResults: [{evaluatorName, score,
passed, details}]}], summary: {totalTests, passedTests, failedTests, passRate}}``. A test
passes when all its evaluators pass; passRate is passed / total x 100, 100 without tests.
Written as Go's ``json.MarshalIndent(v, "", "  ")`` writes it: map keys (a test case) in
sorted order, whole floats without ".0", ``<``, ``>`` and ``&`` escaped, ``details``
left out when empty, ``testResults`` null when there are none.

promptbench's own evaluators (regex, json, bleu..., written under ``promptbenchEvaluators``)
are left out, as gh ignores them: ``left_out`` says which, for a note.

One object per (version, model) of the eval; several make a JSON array. Where promptbench
runs more than gh does, it says so in the same shape: each repeat is a test result of its
own, and a cell whose run failed (gh stops the whole eval there) is a failed test whose
evaluators say why in ``details``.
"""

from __future__ import annotations

import json
import math

from promptbench.core.figures import plural
from promptbench.core.prompts.schema import EXTENSION_KINDS, EXTENSION_SECTION


def gh_summaries(report: dict, name: str | None, description: str | None, test_data: list | None) -> list[dict]:
    """One gh ``EvaluationSummary`` per (version, model) column of ``report`` (eval_report);
    ``name``, ``description`` and ``test_data`` from the prompt file."""
    out = []
    for column in report["columns"]:
        cells = [c for c in report["cells"] if (c["version"], c["model"]) == (column["version"], column["model"])]
        cells.sort(key=lambda c: (c["test_case"] if c["test_case"] is not None else -1, c["repeat"]))
        results = [_test_result(c, test_data or [], _gh_evaluated(report)) for c in cells]
        passed = sum(all(e["passed"] for e in r["evaluationResults"]) for r in results)
        total = len(results)
        out.append({
            "name": name or "", "description": description or "", "model": column["model"],
            "testResults": results or None,
            "summary": {"totalTests": total, "passedTests": passed, "failedTests": total - passed,
                        "passRate": passed / total * 100 if total else 100.0},
        })
    return out


def _gh_evaluated(report: dict) -> list[bool]:
    """Per evaluator of the report: is it one gh runs (string, llm, uses)?"""
    return [e.get("kind") not in EXTENSION_KINDS for e in report.get("evaluators") or ()]


def left_out(report: dict) -> str | None:
    """A note naming promptbench's own evaluators that gh's JSON leaves out, and how they did."""
    keep = _gh_evaluated(report)
    names = [e["name"] for e, k in zip(report.get("evaluators") or (), keep) if not k]
    if not names:
        return None
    failed = sum(1 for c in report["cells"] for r, k in zip(c.get("evaluators") or (), keep) if not k and r["passed"] is False)
    how = f"{plural(failed, 'result')} of them failed" if failed else "none of their results failed"
    return (f"{plural(len(names), 'promptbench evaluator')} ({', '.join(names)}) ran but {'is' if len(names) == 1 else 'are'} "
            f"left out, as gh models eval ignores {EXTENSION_SECTION}: {how} (--format text or json include them)")


def _test_result(cell: dict, test_data: list, keep: list[bool]) -> dict:
    index = cell["test_case"]
    case = test_data[index] if index is not None and 0 <= index < len(test_data) else None
    evaluations = []
    for e, gh_runs_it in zip(cell["evaluators"], keep + [True] * len(cell["evaluators"])):
        if not gh_runs_it:
            continue
        decided = e["passed"] is not None
        details = e["reason"] if decided else (e["error"] or e["reason"] or "not evaluated")
        result = {"evaluatorName": e["name"], "score": float(e["score"] or 0.0) if decided else 0.0,
                  "passed": bool(e["passed"]) if decided else False}
        if details:
            result["details"] = details
        evaluations.append(result)
    return {"testCase": GoMap(case if isinstance(case, dict) else {}), "modelResponse": (cell["output"] or "").strip(),
            "evaluationResults": evaluations}


def dumps_like_go(value) -> str:
    """``json.MarshalIndent(value, "", "  ")`` of Go's encoding/json, for the values above."""
    text = json.dumps(_go_values(value), indent=2, ensure_ascii=False)
    # Go escapes these for HTML safety; they only ever occur inside strings
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class GoMap(dict):
    """A test case: a Go map[string]interface{} (written with its keys sorted, and so is
    every map inside it); the other objects are Go structs and keep their field order."""


def _go_values(value, in_map: bool = False):
    if isinstance(value, dict):
        in_map = in_map or isinstance(value, GoMap)
        items = sorted(value.items(), key=lambda kv: str(kv[0])) if in_map else value.items()
        return {str(k): _go_values(v, in_map) for k, v in items}
    if isinstance(value, list):
        return [_go_values(v, in_map) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        return int(value)  # Go writes float64 1 as 1
    return value
