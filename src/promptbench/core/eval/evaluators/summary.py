"""Aggregates over evaluation results, and how well a judge agrees with people."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from promptbench.core.eval.evaluators.base import EvalResult


def summarize(results_by_cell: Mapping[Any, Iterable[EvalResult]] | Iterable[Iterable[EvalResult]]) -> dict:
    """Per evaluator: counts, pass rate and mean score; per cell (one run of one test
    case on one model): how many passed every evaluator.

    Results with ``passed=None`` (the evaluator could not run) are counted as
    ``errors`` and left out of ``pass_rate`` and ``mean_score``, which are None when
    nothing was decided. A cell passes when all its results passed, fails when any
    failed, and is ``undecided`` otherwise (some error, no failure).
    """
    cells = results_by_cell.values() if isinstance(results_by_cell, Mapping) else results_by_cell
    per: dict[str, dict] = {}
    scores: dict[str, list[float]] = {}
    cell_counts = Counter()
    for results in cells:
        results = list(results)
        if not results:
            continue
        for r in results:
            row = per.setdefault(r.name, {"kind": r.kind, "n": 0, "passed": 0, "failed": 0, "errors": 0})
            row["n"] += 1
            row["passed" if r.passed else "failed" if r.passed is False else "errors"] += 1
            if r.passed is not None and r.score is not None:
                scores.setdefault(r.name, []).append(r.score)
        if any(r.passed is False for r in results):
            cell_counts["failed"] += 1
        elif all(r.passed for r in results):
            cell_counts["passed"] += 1
        else:
            cell_counts["undecided"] += 1
    for name, row in per.items():
        decided = row["passed"] + row["failed"]
        row["pass_rate"] = row["passed"] / decided if decided else None
        got = scores.get(name)
        row["mean_score"] = sum(got) / len(got) if got else None
    decided = cell_counts["passed"] + cell_counts["failed"]
    return {
        "evaluators": per,
        "cells": {
            "n": sum(cell_counts.values()),
            "passed": cell_counts["passed"],
            "failed": cell_counts["failed"],
            "undecided": cell_counts["undecided"],
            "pass_rate": cell_counts["passed"] / decided if decided else None,
        },
    }


def judge_agreement(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict:
    """How often a judge's labels match a person's: ``n`` pairs compared, ``percent``
    agreement and Cohen's kappa (agreement corrected for chance).

    kappa = (po - pe) / (1 - pe), po the observed agreement, pe the agreement expected
    from each rater's label frequencies. Pairs with a None label (a judge that could not
    answer, an item nobody labelled) are skipped and counted in ``skipped``.

    Edge cases, with no division by zero:
    - no pairs: percent and kappa are None;
    - pe == 1 happens only when both raters gave every item the same single label, so
      they also agree on every item (po == 1). The formula is 0/0 there; we report
      kappa = 1.0 (complete agreement, nothing to correct) and say so in ``note``,
      because any other number would suggest a disagreement that never happened.
    Labels are compared as given (``"Pass"`` and ``"pass"`` differ).
    """
    given = list(pairs)
    kept = [(a, b) for a, b in given if a is not None and b is not None]
    n = len(kept)
    result: dict[str, Any] = {"n": n, "percent": None, "kappa": None, "skipped": len(given) - n}
    if n == 0:
        return result
    po = sum(1 for a, b in kept if a == b) / n
    judge_counts = Counter(a for a, _ in kept)
    human_counts = Counter(b for _, b in kept)
    pe = sum(judge_counts[k] * human_counts.get(k, 0) for k in judge_counts) / (n * n)
    result["percent"] = 100.0 * po
    if pe >= 1.0 - 1e-12:
        result["kappa"] = 1.0
        result["note"] = "every item has the same label from both raters: kappa is 0/0 there, reported as 1.0"
    else:
        result["kappa"] = (po - pe) / (1.0 - pe)
    return result
