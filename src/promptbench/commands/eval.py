"""``promptbench eval``: score a prompt's outputs with its evaluators - a CI gate.

Exit codes: 0 every evaluator passed; 1 some evaluator failed; 2 something could not be
decided (a run that errored, an evaluator that could not run, a cell never run or not
evaluated) or bad input; 130 after Ctrl+C (the eval is cancelled cleanly and can be
resumed with ``--resume EVAL_ID``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from promptbench.core.errors import PromptbenchError

PLAIN_PROGRESS_S = 5.0   # without a terminal: one progress line every few seconds
POLL_S = 0.2             # how often the main thread looks up from waiting (Ctrl+C is handled between)
MAX_PROBLEM_LINES = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score a prompt with its evaluators over test cases x versions x models "
                                    "(exit 0 all passed, 1 some failed, 2 errors)")
    p.add_argument("prompt", nargs="?", help="the prompt file (optional with --resume)")
    p.add_argument("-m", "--model", action="append", dest="models", metavar="MODEL",
                   help="catalog name, local/<id>, or any litellm model string (repeatable; default: the file's model, as gh models eval, else the workspace's default_models)")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run every cell N times (default 1)")
    p.add_argument("--test", type=int, action="append", dest="tests", metavar="INDEX",
                   help="only the test case at INDEX, counted from 0: the app's Test case 1 is --test 0 "
                        "(repeatable; default: all)")
    p.add_argument("--version", action="append", dest="versions", metavar="REV",
                   help="a version of the prompt: a label, a commit, ~1, or current (repeatable; default: the file on disk)")
    p.add_argument("--baseline", metavar="EVAL_ID", help="list regressions and improvements against an earlier eval")
    p.add_argument("--judge", metavar="MODEL",
                   help="judge every llm/uses evaluator with MODEL (overrides [eval] judge_model and each modelId)")
    p.add_argument("--concurrency", type=int, metavar="N", help="cells in flight at once (default: [eval] concurrency, 4)")
    p.add_argument("--json", action="store_true", help="print the report as JSON (promptbench's own, richer format; "
                                                        "= --format json)")
    p.add_argument("--format", choices=("text", "json", "gh-json"), default=None,
                   help="text (default), json, or gh-json: exactly the JSON 'gh models eval --json' prints (one "
                        "object; an array with several models or versions) and nothing else on stdout. Exit codes "
                        "stay 0 / 1 (some failed) / 2 (could not run or decide); gh uses 1 for both")
    p.add_argument("--resume", metavar="EVAL_ID", help="finish an eval that was cancelled or interrupted")
    p.set_defaults(handler=cmd_eval)


def _check_args(args) -> None:
    if args.resume:
        given = [flag for flag, value in (("-m", args.models), ("--test", args.tests), ("--version", args.versions),
                                          ("--judge", args.judge), ("--repeat", args.repeat != 1)) if value]
        if given:
            raise PromptbenchError(f"--resume finishes the eval as it was planned; drop {', '.join(given)}")
    elif not args.prompt:
        raise PromptbenchError("eval: give a PROMPT file (or --resume EVAL_ID)")
    for flag, value in (("--repeat", args.repeat), ("--concurrency", args.concurrency)):
        if value is not None and value < 1:
            raise PromptbenchError(f"{flag} must be a whole number >= 1, not {value}")


def cmd_eval(args) -> int:
    from promptbench.commands.prompts import open_store
    from promptbench.core.engine.requests import resolve_models
    from promptbench.core.workbench import Workbench

    _check_args(args)
    fmt = _format(args)   # a contradiction in the flags fails before anything runs
    workbench = Workbench(open_store(args, args.prompt, anywhere=True))  # any FILE, also outside a workspace (read-only)
    store = workbench.store
    progress = ProgressLine(sys.stderr)
    eval_id = None
    prompt = None   # the file's name, description and test data, for gh's JSON
    interrupted = False
    try:
        settings = workbench.settings()
        runner = workbench.eval_runner()  # batches left running by a process that ended are marked interrupted
        if args.baseline:
            runner.get(args.baseline)  # a typo fails now, not after the whole eval ran
        if args.resume:
            batch = runner.get(args.resume)
            if args.prompt and store.resolve(args.prompt) != batch["prompt_path"]:
                raise PromptbenchError(f"eval {args.resume} is of {batch['prompt_path']}, not {args.prompt}")
            cells = batch["cells"]
            print(f"resuming eval {args.resume} of {batch['prompt_path']}: {cells['finished']} of "
                  f"{batch['total_cells']} cells already finished (they are not run again)", file=sys.stderr)
            eval_id = runner.resume(args.resume, on_progress=progress, concurrency=args.concurrency)
        else:
            models = resolve_models(settings, args.models) if args.models else None   # None: the file's model
            prepared = runner.prepare(args.prompt, models=models, versions=args.versions,
                                      test_cases=args.tests, repeats=args.repeat, judge_model=args.judge)
            _refuse_missing_keys(prepared)
            _warm_up_litellm(settings, prepared)
            print(estimate_line(prepared), file=sys.stderr)
            for warning in getattr(prepared.prompt, "warnings", ()):   # where GitHub would read the file differently
                print(f"warning: {warning}", file=sys.stderr)
            eval_id = runner.launch(prepared, concurrency=args.concurrency, on_progress=progress)
        try:
            while not runner.wait(eval_id, POLL_S):
                pass
        except KeyboardInterrupt:
            interrupted = True
            progress.close()
            print("cancelling: finished cells are kept ...", file=sys.stderr)
            runner.cancel(eval_id)
            runner.wait(eval_id, 60)
        progress.close()
        report = None if interrupted else runner.report(eval_id, baseline=args.baseline)
        if report is not None and fmt == "gh-json":
            prompt = _prompt_file(store, report["prompt"])
    finally:
        try:
            workbench.close()
        except PromptbenchError as exc:
            if not interrupted:
                raise
            print(f"promptbench: warning: {exc}", file=sys.stderr)
    if interrupted:
        print(f"eval {eval_id} cancelled. Resume it with: promptbench eval --resume {eval_id}", file=sys.stderr)
        return 130
    if fmt == "gh-json":
        from promptbench.core.eval.gh_json import dumps_like_go, gh_summaries, left_out

        summaries = gh_summaries(report, getattr(prompt, "name", None), getattr(prompt, "description", None),
                                 getattr(prompt, "test_data", None))
        sys.stdout.write(dumps_like_go(summaries[0] if len(summaries) == 1 else summaries) + "\n")
        for note in [*report_notes(report), left_out(report)]:
            if note:
                print(f"note: {note}", file=sys.stderr)
        # The verdict printed is the verdict returned: gh's evaluators only (2: could not run).
        return 2 if report["summary"]["errors"] else 1 if any(s["summary"]["failedTests"] for s in summaries) else 0
    elif fmt == "json":
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        for note in report_notes(report):
            print(f"note: {note}", file=sys.stderr)
    else:
        sys.stdout.write(format_report(report))
    return exit_code(report)


def _refuse_missing_keys(prepared) -> None:
    """A model whose key is known to be missing would fail every cell: say so before anything runs."""
    from promptbench.core.settings.secrets import missing_key

    for model in prepared.plan.models:
        missing = missing_key(model)
        if missing:
            raise PromptbenchError(f"{model.name}: no key: {missing}. Set it (or store a key in the app's Settings → "
                                   "Models), or run another model with -m, e.g. -m local/smollm2-135m-instruct "
                                   "offline; nothing was run")


def _warm_up_litellm(settings, prepared) -> None:
    """Start importing litellm in the background if a model or judge needs it (~3 s that
    then overlaps the rest of start-up); never for OpenAI-compatible and local models."""
    from promptbench.core.providers.litellm_setup import warm_up_for
    from promptbench.core.settings.config import resolve_model

    models = list(prepared.plan.models)
    for judge in {e.model for e in prepared.evaluators if hasattr(e, "judge")}:
        try:
            models.append(resolve_model(settings, judge))
        except PromptbenchError:
            pass  # said when the judge runs
    warm_up_for(models)


def _format(args) -> str:
    if args.json and args.format not in (None, "json"):
        raise PromptbenchError(f"--json and --format {args.format} disagree: give one of them")
    return "json" if args.json else args.format or "text"


def _prompt_file(store, rel: str):
    """The prompt file's name, description and test data for gh's JSON (None if it does not parse now)."""
    try:
        return store.read(rel)
    except PromptbenchError:
        return None


def exit_code(report: dict) -> int:
    s = report["summary"]
    return 2 if s["errors"] else 1 if s["failed"] else 0


def estimate_line(prepared) -> str:
    est = prepared.estimate()
    plan = prepared.plan
    if est["max_cost_usd"] is None:
        cost = f"at most ${est['known_max_cost_usd']:.4f} + unknown prices ({', '.join(est['unknown_price_models'])})"
    else:
        cost = "free" if est["max_cost_usd"] == 0 else f"at most ${est['max_cost_usd']:.4f}"
    judges = sorted({e.model for e in prepared.evaluators if hasattr(e, "judge")})
    judged = f"; judges: {', '.join(judges)} (their cost is not included)" if judges else ""
    return (f"{plan.prompt_path}: {est['cells']} cells ({len(plan.versions)} version(s) x {len(plan.test_cases)} "
            f"test case(s) x {len(plan.models)} model(s) x {plan.repeats} repeat(s)), ~{est['input_tokens']} input "
            f"tokens, up to {est['max_output_tokens']} output tokens, {cost}; {len(prepared.evaluators)} "
            f"evaluator(s){judged}")


class ProgressLine:
    """``on_progress`` for the terminal: redrawn in place on a TTY, a line every few seconds otherwise."""

    def __init__(self, stream, tty: bool | None = None, interval_s: float = PLAIN_PROGRESS_S):
        self.stream, self.interval_s = stream, interval_s
        self.tty = stream.isatty() if tty is None else tty
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._drawn = False

    def __call__(self, p) -> None:  # runner threads
        with self._lock:
            text = progress_text(p)
            if self.tty:
                self.stream.write(f"\r\x1b[2K{text}")
                self._drawn = True
            elif p.final or time.monotonic() - self._last >= self.interval_s:
                self.stream.write(text + "\n")
                self._last = time.monotonic()
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False


def progress_text(p) -> str:
    eta = "" if p.eta_s is None or p.final else f", ETA {_duration(p.eta_s)}"
    errors = f", {p.errors} error{'s' if p.errors != 1 else ''}" if p.errors else ""
    return (f"eval {p.eval_id}: {p.done}/{p.total} cells run{errors}, {p.evaluated}/{p.total} evaluated, "
            f"${p.running_cost_usd:.4f}{eta}")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


# --- the table -----------------------------------------------------------------------------

_CHECK_KINDS = {"string", "regex", "json", "jsonSchema", "latency", "cost"}  # pass/fail only: no score shown


def _mark(e: dict) -> str:
    """One evaluator over a cell's repeats: ✓ / ✗ / ! (could not decide), with score and spread;
    where the judges' other reading disagrees, what it gives too ("0.00 ✗ (strict: 1.00 ✓)")."""
    from promptbench.core.eval.judging import SHORT_NAMES

    text = _verdicts(e)
    other = e.get("other_reading")
    if other:
        decided = e["passed"] + e["failed"]
        seen = {**e, "passed": other["passed"], "failed": decided - other["passed"], "score_mean": other["score_mean"],
                "score_sd": None}
        text += f" ({SHORT_NAMES[other['mode']]}: {_verdicts(seen)})"
    return text


def _verdicts(e: dict) -> str:
    decided = e["passed"] + e["failed"]
    show_score = e["kind"] not in _CHECK_KINDS and e["score_mean"] is not None
    if e["n"] == 1:
        mark = "!" if decided == 0 else "✓" if e["passed"] else "✗"
        return f"{e['score_mean']:.2f} {mark}" if show_score else mark
    parts = [f"{e['passed']}/{decided} ✓" if decided else "!"]
    if show_score:
        sd = f"±{e['score_sd']:.2f}" if e["score_sd"] is not None else ""
        parts.insert(0, f"{e['score_mean']:.2f}{sd}")
    if e["errors"] and decided:
        parts.append(f"!{e['errors']}")
    return " ".join(parts)


def _money(value: float | None) -> str:
    return "-" if value is None else "free" if value == 0 else f"${value:.4f}" if value >= 0.01 else f"${value:.6f}"


def format_report(report: dict) -> str:
    versions = [v["version"] for v in report["versions"]]
    columns = report["columns"]
    heads = [(f"{c['version'][:7]} " if len(versions) > 1 else "") + c["model"] for c in columns]
    names = [e["name"] for e in report["evaluators"]]
    rows_by = {(r["test_case"], r["version"], r["model"]): r for r in report["rows"]}
    label_w = min(40, max([len(n) for n in names] + [12])) + 13
    table: list[list[str]] = []
    for tc in report["test_cases"]:
        for i, name in enumerate(names):
            cells = []
            for c in columns:
                row = rows_by.get((tc, c["version"], c["model"]))
                cells.append(_mark(row["evaluators"][i]) if row else "")
            label = (_case(tc) if i == 0 else "").ljust(13) + name
            table.append([label, *cells])
    table.append(None)  # a rule
    for label, fn in [
        ("pass rate", lambda c: "-" if c["pass_rate"] is None else f"{c['pass_rate']:.0%} ({c['passed']}/{c['passed'] + c['failed']})"),
        ("mean score", lambda c: "-" if c["mean_score"] is None else f"{c['mean_score']:.2f}"),
        ("p50 TTFT", lambda c: "-" if c["p50_ttft_ms"] is None else f"{c['p50_ttft_ms']:.0f} ms"),
        ("tokens", lambda c: str(c["tokens"])),
        ("cost", lambda c: _money(c["cost_usd"])),
        ("errors", lambda c: str(c["errors"])),
    ]:
        table.append([label, *(fn(c) for c in columns)])
    widths = [label_w] + [max(len(h), *(len(r[k + 1]) for r in table if r)) for k, h in enumerate(heads)]
    out = [f"{report['prompt']}  ·  eval {report['eval_id']}  ·  {len(versions)} version(s) x "
           f"{len(report['models'])} model(s) x {len(report['test_cases'])} test case(s), {report['repeats']} repeat(s)",
           "", _line(["", *heads], widths), _rule(widths)]
    out += [_rule(widths) if r is None else _line(r, widths) for r in table]
    out += _problems(report)
    out += _disagreements(report)
    out += _baseline(report.get("baseline"))
    s = report["summary"]
    rate = "-" if s["pass_rate"] is None else f"{s['pass_rate']:.0%}"
    calls = s.get("judge_calls", 0)
    judges = f" (+ {_judge_calls_text(calls, s['judge_cost_usd'], s.get('judge_unknown_cost', 0))})" if calls else ""
    out += ["", f"{s['passed']} passed, {s['failed']} failed, {s['errors']} could not be decided ({rate} passed) · "
                f"cost {_money(s['cost_usd'])}{judges}"]
    by = (report.get("judges") or {}).get("by_evaluator") or []
    if len(by) > 1:
        out += ["judges: " + "; ".join(f"{j['evaluator']} ({j['judge_model']}) "
                                       f"{_judge_calls_text(j['calls'], j['cost_usd'], j['unknown_cost'], 'call')}"
                                       for j in by)]  # fmt: skip
    out += _judging_lines(report)
    out += [line for note in report_notes(report) for line in ("", "note: " + note)]
    return "\n".join(out) + "\n"


def report_notes(report: dict) -> list[str]:
    """What the reader should know about how the verdicts came about: a judge model override
    (the file names other judges), a small local judge."""
    from promptbench.core.eval.judges import small_judge_warning
    from promptbench.core.eval.report import overrides_text

    notes = [note for note in (overrides_text(report), small_judge_warning(report.get("judge_model"))) if note]
    return notes + [w["text"] for w in report.get("judge_warnings") or ()]


def _judging_lines(report: dict) -> list[str]:
    """Under the verdict counts, for an eval with LLM judges: how their replies were read."""
    from promptbench.core.eval.judging import GITHUB, has_judges, judging_text

    return [judging_text(report.get("judging") or {"mode": GITHUB})] if has_judges(report) else []


def _disagreements(report: dict) -> list[str]:
    """Every judge verdict the reading not used would give differently, with both readings."""
    from promptbench.core.eval.judging import GITHUB, disagreements, reading_text

    used = (report.get("judging") or {}).get("mode") or GITHUB
    lines = []
    for c, r in disagreements(report):
        repeat = f" #{c['repeat']}" if report["repeats"] > 1 else ""
        mine = reading_text({"mode": used, "choice": r.get("choice"), "score": r["score"], "passed": r["passed"]})
        lines.append(f"  {_case(c['test_case'])}{repeat} · {c['model']} · {r['name']}: {mine}; "
                     f"{reading_text(r['other_reading'])}")
    return _section("where the two readings of a judge's reply disagree:", lines)


def _section(title: str, lines: list[str]) -> list[str]:
    """A titled list of at most MAX_PROBLEM_LINES lines (nothing when empty)."""
    if not lines:
        return []
    more = [f"  ... and {len(lines) - MAX_PROBLEM_LINES} more (see --json)"] if len(lines) > MAX_PROBLEM_LINES else []
    return ["", title, *lines[:MAX_PROBLEM_LINES], *more]


def _case(test_case: int | None) -> str:
    """How people number test cases (the app's Test case 1 is index 0 in --test and JSON)."""
    return "no test case" if test_case is None else f"Test case {test_case + 1}"


def _judge_calls_text(calls: int, cost: float, unknown: int, noun: str = "judge call") -> str:
    """ "8 judge calls, $0.0012" (+ how many had no known price)."""
    text = f"{calls} {noun}{'s' if calls != 1 else ''}, {_money(cost)}"
    return text + (f", {unknown} at an unknown price" if unknown else "")


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c[:w].ljust(w) if i == 0 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()


def _rule(widths: list[int]) -> str:
    return "-" * (sum(widths) + 2 * (len(widths) - 1))


def _problems(report: dict) -> list[str]:
    lines = []
    for c in report["cells"]:
        for r in c["evaluators"]:
            if r["passed"] is not True:
                what = "failed" if r["passed"] is False else "error"
                repeat = f" #{c['repeat']}" if report["repeats"] > 1 else ""
                lines.append(f"  {_case(c['test_case'])}{repeat} · {c['model']} · {r['name']} ({what}): {r['reason']}")
    return _section("failures and errors:", lines)


def _baseline(base: dict | None) -> list[str]:
    if not base:
        return []
    out = ["", f"against eval {base['eval_id']}: {len(base['regressions'])} regression(s), "
               f"{len(base['improvements'])} improvement(s)"]
    for sign, items in (("-", base["regressions"]), ("+", base["improvements"])):
        for r in items:
            out.append(f"  {sign} {_case(r['test_case'])} · {r['model']} · {r['evaluator']}: "
                       f"{r['before']['pass_rate']:.0%} -> {r['after']['pass_rate']:.0%} passed")
    return out
