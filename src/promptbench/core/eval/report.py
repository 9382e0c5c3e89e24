"""Reports over an eval (JSON-able dicts) and how well LLM judges agree with people.

A report lists every cell (one run: test case x version x model x repeat) with its
evaluators' verdicts; ``rows`` collapses the repeats of a (test case, version, model)
with their spread (passes / n, score mean and sample standard deviation); ``columns``
summarise each (version, model); ``summary`` the whole eval.

Counting: every (cell, evaluator) is passed, failed or an error. An error is an
evaluator that could not decide (a judge that is down or answered outside its choices,
a missing variable) AND every evaluator of a cell that has no verdicts: its run failed,
it never ran (cancelled), or it finished but was not evaluated yet (resume the eval).
``pass_rate`` is passed / (passed + failed).

Judges: ``judging`` says how their replies were read (core/judging.py: GitHub's reading or
the strict one); a judge's result carries its ``choice`` and, where the other reading gives
another verdict or score, ``other_reading``; ``judge_warnings`` counts replies that named
several choices or none.

Judge calls: every run of kind "judge" whose comparison names the eval in its variables
(core/eval_judge.py stores {"eval_id", "run_id", "evaluator"}) - retried, failed and
resumed ones included - is counted in ``report["judges"]`` (calls and cost, in all and
per evaluator and judge model) and in ``summary["judge_calls"]`` /
``summary["judge_cost_usd"]``; Runs, the Dashboard and exports leave them out by default.

Baseline: per (test case, model, evaluator), the pass rate (and mean score) over the
versions and repeats of each eval. A lower pass rate - or the same pass rate with a
lower mean score - is a regression; higher is an improvement. Pairs where either eval
has no verdict are left out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from promptbench.core.eval.evaluators import judge_agreement as agreement_of
from promptbench.core.figures import plural
from promptbench.core.eval.judging import judge_fields, judging_of, reply_warnings

SCORE_EPS = 1e-9


def build_report(runner, eval_id: str, *, baseline: str | None = None) -> dict:
    """``runner``: an EvalRunner (its batch runner, eval store and ``get``)."""
    runner.evals.barrier()
    batch = runner.get(eval_id)
    report = _report(runner, batch)
    report["baseline"] = None
    if baseline is not None:
        before = _report(runner, runner.get(baseline))
        report["baseline"] = {"eval_id": baseline, "prompt": before["prompt"], **compare(before["cells"], report["cells"])}
    return report


def _report(runner, batch: dict) -> dict:
    eval_id, config = batch["id"], batch["config"]
    spec = config["eval"]
    evaluators = [{"name": n, "kind": k} for n, k in spec["evaluator_kinds"]]
    latest = {(r["run_id"], r["evaluator"]): r for r in runner.evals.results(eval_id)}  # later rows win
    cells = [_cell(c, evaluators, latest, eval_id) for c in runner.batch.results(eval_id)]
    versions = [{"version": v["version"], "rev": v["rev"]} for v in config["versions"]]
    models = [m["name"] for m in config["models"]]
    columns = [_column(v["version"], m, [c for c in cells if (c["version"], c["model"]) == (v["version"], m)])
               for v in versions for m in models]
    judges = judge_calls(runner.runs, eval_id)
    judge_cost = judges["cost_usd"]
    summary = _counts(cells)
    cell_cost = sum(c["cost_usd"] or 0.0 for c in cells)
    summary.update(
        cells=len(cells),
        run_errors=sum(c["status"] == "error" for c in cells),
        not_run=sum(c["status"] in ("pending", "cancelled") for c in cells),
        not_evaluated=sum(c["status"] == "finished" and not c["evaluated"] for c in cells),
        cost_usd=cell_cost, judge_cost_usd=judge_cost, total_cost_usd=cell_cost + judge_cost,
        judge_calls=judges["calls"], judge_unknown_cost=judges["unknown_cost"],
    )
    report = {
        "eval_id": eval_id, "prompt": batch["prompt_path"], "status": batch["status"], "created_at": batch["created_at"],
        "judge_model": spec.get("judge_model"), "judge_overrides": judge_overrides(spec), "judging": judging_of(spec),
        "versions": versions, "models": models, "evaluators": evaluators,
        "test_cases": config["test_cases"], "repeats": config["repeats"],
        "cells": cells, "rows": _rows(cells, evaluators), "columns": columns, "summary": summary, "judges": judges,
    }
    report["judge_warnings"] = reply_warnings(report)
    return report


_JUDGE_CALLS = """
    SELECT json_extract(c.variables, '$.evaluator'), r.model_name, count(*), sum(r.status = 'error'),
           sum(r.status = 'finished' AND r.cost_usd IS NULL), ifnull(sum(r.cost_usd), 0.0)
    FROM comparisons c CROSS JOIN runs r ON r.comparison_id = c.id
    WHERE c.kind = 'judge' AND json_extract(c.variables, '$.eval_id') = ? AND r.kind = 'judge'
    GROUP BY 1, 2 ORDER BY 1, 2"""  # comparisons first (CROSS JOIN keeps the order), found by m008's partial index
# idx_comparisons_judged_eval (it needs the literal 'judge'), then their runs by idx_runs_comparison


GITHUB_BUILTIN_JUDGE = "openai/gpt-4o"  # what gh models eval runs every github/* built-in on


def judge_overrides(spec: dict) -> list[dict]:
    """The file's judges that a judge model override replaced: [{"evaluator", "file_model",
    "judged_by"}], so a report can say "judged by X instead of the file's modelId"."""
    judge = spec.get("judge_model")
    out = []
    for e in spec.get("evaluators") or []:
        if not isinstance(e, dict) or not judge:
            continue
        llm = e.get("llm") if isinstance(e.get("llm"), dict) else None
        uses = e.get("uses")
        file_model = llm.get("modelId") if llm else GITHUB_BUILTIN_JUDGE if isinstance(uses, str) \
            and uses.startswith("github/") else None
        if file_model and file_model != judge:
            out.append({"evaluator": str(e.get("name", "?")), "file_model": file_model, "judged_by": judge})
    return out


def overrides_text(report: dict) -> str | None:
    """ "judged by local/x instead of the file's openai/gpt-4o (2 evaluators)", or None."""
    overrides = report.get("judge_overrides") or []
    if not overrides:
        return None
    models = sorted({o["file_model"] for o in overrides})
    return (f"judged by {overrides[0]['judged_by']} instead of the file's {', '.join(models)} "
            f"({plural(len(overrides), 'evaluator')}; gh models eval would use the file's)")


def judge_calls(runs, eval_id: str) -> dict:
    """What the LLM judges of an eval did and cost, from the stored judge runs (``runs``: a
    RunStore): {"calls", "errors", "unknown_cost", "cost_usd", "by_evaluator": [{"evaluator",
    "judge_model", "calls", "errors", "unknown_cost", "cost_usd"}]}. ``errors``: calls that
    failed; ``unknown_cost``: finished calls without a known price (counted as 0)."""
    keys = ("calls", "errors", "unknown_cost", "cost_usd")
    by = [{"evaluator": e, "judge_model": m, **dict(zip(keys, rest))}
          for e, m, *rest in runs.db.query(_JUDGE_CALLS, [eval_id])]  # fmt: skip
    total = {k: sum(row[k] for row in by) for k in keys}
    total["cost_usd"] = float(total["cost_usd"])
    return {**total, "by_evaluator": by}


def _cell(c: dict, evaluators: list[dict], latest: dict, eval_id: str) -> dict:
    status = c["status"]
    verdicts = [latest.get((c["run_id"], e["name"])) for e in evaluators] if c["run_id"] else [None] * len(evaluators)
    evaluated = status == "finished" and any(v is not None for v in verdicts)
    failure = f": {c['error']}" if c.get("error") else ""
    why = {"error": f"not evaluated: the run failed ({c['error_class'] or 'unknown'}){failure}",
           "finished": f"not evaluated yet: resume the eval (promptbench eval --resume {eval_id})"}.get(
        status, f"not evaluated: the cell did not run ({status}); resume the eval (promptbench eval --resume {eval_id})")
    results = []
    for e, v in zip(evaluators, verdicts):
        if v is not None and status == "finished":
            results.append({"name": e["name"], "kind": e["kind"], "passed": v["passed"], "score": v["score"],
                            "reason": v["reason"], "error": v["error"], "judge_model": v["judge_model"],
                            **judge_fields(v["details"])})
        else:
            results.append({"name": e["name"], "kind": e["kind"], "passed": None, "score": None, "reason": why,
                            "error": why, "judge_model": None})
    return {
        "test_case": c["test_case"], "version": c["prompt_version"], "model": c["model_name"], "repeat": c["repeat"],
        "run_id": c["run_id"], "status": status, "error_class": c["error_class"], "error": c["error"],
        "output": c["output"], "ttft_ms": c["ttft_ms"], "total_ms": c["total_ms"], "tokens_per_s": c["tokens_per_s"],
        "input_tokens": c["input_tokens"], "output_tokens": c["output_tokens"], "cost_usd": c["cost_usd"],
        "evaluated": evaluated, "evaluators": results,
    }


def _counts(cells: list[dict]) -> dict:
    passed = failed = errors = 0
    for c in cells:
        for r in c["evaluators"]:
            if r["passed"] is None:
                errors += 1
            elif r["passed"]:
                passed += 1
            else:
                failed += 1
    decided = passed + failed
    return {"passed": passed, "failed": failed, "errors": errors, "pass_rate": passed / decided if decided else None}


def _column(version: str, model: str, cells: list[dict]) -> dict:
    scores = [r["score"] for c in cells for r in c["evaluators"] if r["passed"] is not None and r["score"] is not None]
    ttfts = [c["ttft_ms"] for c in cells if c["status"] == "finished" and c["ttft_ms"] is not None]
    return {
        "version": version, "model": model, "cells": len(cells), **_counts(cells),
        "mean_score": statistics.fmean(scores) if scores else None,
        "p50_ttft_ms": statistics.median(ttfts) if ttfts else None,
        "tokens": sum((c["input_tokens"] or 0) + (c["output_tokens"] or 0) for c in cells),
        "output_tokens": sum(c["output_tokens"] or 0 for c in cells),
        "cost_usd": sum(c["cost_usd"] or 0.0 for c in cells),
        "run_errors": sum(c["status"] == "error" for c in cells),
    }


def _spread(results: list[dict]) -> dict:
    decided = [r for r in results if r["passed"] is not None]
    passed = sum(1 for r in decided if r["passed"])
    scores = [r["score"] for r in decided if r["score"] is not None]
    spread = {
        "n": len(results), "passed": passed, "failed": len(decided) - passed, "errors": len(results) - len(decided),
        "pass_rate": passed / len(decided) if decided else None,
        "score_mean": statistics.fmean(scores) if scores else None,
        "score_sd": statistics.stdev(scores) if len(scores) >= 2 else None,
        "reasons": list(dict.fromkeys(r["reason"] for r in results if r["passed"] is not True and r["reason"])),
    }
    others = [r["other_reading"] for r in decided if r.get("other_reading")]
    if others:  # the same results as the reading not used sees them
        alt = [r.get("other_reading") or r for r in decided]
        alt_scores = [r["score"] for r in alt if r["score"] is not None]
        spread["other_reading"] = {"mode": others[0]["mode"], "passed": sum(1 for r in alt if r["passed"]),
                                   "score_mean": statistics.fmean(alt_scores) if alt_scores else None}
    return spread


def _rows(cells: list[dict], evaluators: list[dict]) -> list[dict]:
    """Repeats collapsed: one row per (test case, version, model), in plan order."""
    groups: dict[tuple, list[dict]] = {}
    for c in cells:
        groups.setdefault((c["test_case"], c["version"], c["model"]), []).append(c)
    rows = []
    for (tc, version, model), group in groups.items():
        per = []
        for i, e in enumerate(evaluators):
            per.append({"name": e["name"], "kind": e["kind"], **_spread([c["evaluators"][i] for c in group])})
        rows.append({"test_case": tc, "version": version, "model": model, "repeats": len(group),
                     "run_ids": [c["run_id"] for c in group], "statuses": [c["status"] for c in group],
                     "evaluators": per})
    return rows


def _aggregate(cells: list[dict]) -> dict[tuple, dict]:
    """(test case, model, evaluator) -> pass rate and mean score over versions and repeats."""
    acc: dict[tuple, list[dict]] = defaultdict(list)
    for c in cells:
        for r in c["evaluators"]:
            acc[(c["test_case"], c["model"], r["name"])].append(r)
    out = {}
    for key, results in acc.items():
        s = _spread(results)
        decided = s["passed"] + s["failed"]
        if decided:
            out[key] = {"passed": s["passed"], "n": decided, "pass_rate": s["pass_rate"], "score": s["score_mean"]}
    return out


def compare(before_cells: list[dict], after_cells: list[dict]) -> dict:
    before, after = _aggregate(before_cells), _aggregate(after_cells)
    regressions, improvements = [], []
    for key, now in after.items():
        then = before.get(key)
        if then is None:
            continue
        delta = now["pass_rate"] - then["pass_rate"]
        if abs(delta) <= SCORE_EPS and now["score"] is not None and then["score"] is not None:
            delta = now["score"] - then["score"]
        if abs(delta) <= SCORE_EPS:
            continue
        tc, model, name = key
        (improvements if delta > 0 else regressions).append(
            {"test_case": tc, "model": model, "evaluator": name, "before": then, "after": now})
    return {"regressions": regressions, "improvements": improvements}


def judge_agreement(evals, prompt_path: str | None = None) -> list[dict]:
    """Per (judge evaluator, judge model): agreement with pairwise human votes on the same two runs.

    The judge prefers the run it scored higher (equal scores: a tie); a person's
    ``both_bad`` counts as a tie. Percent and Cohen's kappa from evaluators.judge_agreement.
    """
    latest: dict[tuple, dict] = {}
    for r in evals.judge_scores_for_votes(prompt_path):
        latest[(r["vote_id"], r["evaluator"], r["judge_model"])] = r  # rows come oldest first: the newest wins
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for (_, name, judge_model), r in latest.items():
        diff = r["a_score"] - r["b_score"]
        judge = "tie" if abs(diff) <= SCORE_EPS else "a" if diff > 0 else "b"
        human = "tie" if r["winner"] in ("tie", "both_bad") else r["winner"]
        pairs[(name, judge_model)].append((judge, human))
    out = []
    for (name, judge_model), labels in sorted(pairs.items()):
        a = agreement_of(labels)
        out.append({"evaluator": name, "judge_model": judge_model, "n": a["n"], "percent": a["percent"],
                    "kappa": a["kappa"]})
    return out
