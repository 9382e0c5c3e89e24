"""The eval tab's sentences: the estimate before a run and the status line after it."""

from __future__ import annotations

from promptbench.core.eval.judges import small_judge_warning
from promptbench.core.figures import DASH, fmt_cost, plural
from promptbench.core.eval.judging import GITHUB, STRICT, disagreements, has_judges, judging_short


def estimate_text(est: dict, has_judges: bool) -> str:
    cost = est["max_cost_usd"]
    if cost is not None:
        cost_text = f"at most {fmt_cost(cost)}"
    else:
        cost_text = (f"at most {fmt_cost(est['known_max_cost_usd'])} + unknown price for "
                     f"{', '.join(est['unknown_price_models'])}")
    judges = " (plus the judge runs)" if has_judges else ""
    return (f"{est['cells']} runs · ~{est['input_tokens']:,} input tokens · up to {est['max_output_tokens']:,} "
            f"output tokens · {cost_text}{judges}")


def why_not(setup, choice) -> str:
    if setup is None:
        return "Loading…"
    if setup.problem:
        return setup.problem
    return "Check at least one model." if not choice.models else "Check at least one version and test case."


def _count(n: int, noun: str, what: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'} {what}"


def report_status(report: dict) -> str:
    s = report["summary"]
    rate = DASH if s.get("pass_rate") is None else f"{s['pass_rate']:.0%}"
    parts = [f"Eval {report['status']}", f"{s['passed']} of {s['passed'] + s['failed']} checks passed ({rate})"]
    if s.get("run_errors"):
        parts.append(_count(s["run_errors"], "run", "failed"))
    if s.get("not_run"):
        parts.append(_count(s["not_run"], "cell", "not run"))
    if s.get("not_evaluated"):
        parts.append(f"{s['not_evaluated']} not evaluated")
    judges = f" + judges {fmt_cost(s['judge_cost_usd'])}" if s.get("judge_cost_usd") else ""
    parts.append(f"runs cost {fmt_cost(s.get('cost_usd'))}{judges}")
    from promptbench.core.eval.report import overrides_text

    override = overrides_text(report)
    if override:
        parts.append(override)
    if small_judge_warning(report.get("judge_model")):
        who = f"{report['judge_model']} is" if override else f"judged by {report['judge_model']},"
        parts.append(f"{who} a small local model: a smoke test, see Judge agreement")
    if has_judges(report):
        judging = report.get("judging") or {"mode": GITHUB}
        parts.append(judging_short(judging))
        differ = len(disagreements(report))
        if differ:
            other = "GitHub's reading" if judging["mode"] == STRICT else "the strict reading"
            parts.append(f"{plural(differ, 'judge verdict')} {'differs' if differ == 1 else 'differ'} under {other} "
                         "(both shown in the cells)")
    return " · ".join(parts)
