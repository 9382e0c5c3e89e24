"""``promptbench compare``: stream one prompt against several models in the terminal."""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time

from promptbench.core.engine import events as ev
from promptbench.core.figures import fmt_cost, fmt_elapsed, fmt_ms, fmt_tokens, fmt_tps, local_mode_label, plural
from promptbench.core.engine.live_run import LiveRun, shown_status

REDRAW_S = 0.1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="run a prompt against several models at once, streaming live counters")
    p.add_argument("prompt")
    p.add_argument("-m", "--model", action="append", dest="models", metavar="MODEL",
                   help="catalog name, local/<id>, or any litellm model string (repeatable; default: the workspace's default_models)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--test", type=int, metavar="INDEX",
                       help="use the test case at INDEX, counted from 0: the app's Test case 1 is --test 0")
    p.add_argument("--var", action="append", default=[], metavar="K=V", help="set a variable (repeatable)")
    p.add_argument("--local-mode", choices=["parallel", "sequential"], help="how local models share the CPU (default: workspace setting)")
    p.add_argument("--json", action="store_true", help="print the results as JSON at the end")
    p.set_defaults(handler=cmd_compare)


def cmd_compare(args) -> int:
    from promptbench.commands.prompts import open_store
    from promptbench.core.workbench import Workbench

    with Workbench(open_store(args, args.prompt, anywhere=True)) as workbench:
        return _compare(args, workbench)


def _compare(args, workbench) -> int:
    from promptbench.commands.prompts import parse_vars
    from promptbench.core.engine.requests import build_request, estimate, resolve_models
    from promptbench.core.providers.litellm_setup import warm_up_for

    store = workbench.store
    rel = store.resolve(args.prompt)
    prompt = store.read(rel)
    settings = workbench.settings()
    models = resolve_models(settings, args.models)
    warm_up_for(models)  # a provider only litellm speaks: its ~3 s import overlaps the rest of start-up
    request = build_request(store, rel, prompt, models, settings=settings, test_case=args.test,
                            values=parse_vars(args.var), local_mode=args.local_mode)
    events: queue.Queue = queue.Queue()
    live = LiveTable(models, enabled=sys.stderr.isatty() and not args.json)
    case = f"  ·  Test case {args.test + 1}" if args.test is not None else ""
    print(f"{rel} @ {request.prompt_version[:12]}{case}  ·  {plural(len(models), 'model')}  ·  local models: {local_mode_label(request.local_mode)}",
          file=sys.stderr)
    for row in estimate(request):
        cost = "unknown price" if row["max_cost_usd"] is None else "free" if row["max_cost_usd"] == 0 \
            else f"at most {fmt_cost(row['max_cost_usd'])}"
        print(f"  {row['model']}: ~{row['input_tokens']} input tokens, up to {row['max_output_tokens']} output tokens, "
              f"{cost}", file=sys.stderr)
    engine = workbench.engine()
    results: dict[str, dict] = {}
    try:
        comparison = engine.compare(request, listener=events.put)
        comparison_id, run_ids = comparison.id, comparison.run_ids
        names = dict(zip(run_ids, (m.name for m in models)))
        live.bind(run_ids)
        pending = set(run_ids)
        try:
            while pending:
                try:
                    event = events.get(timeout=REDRAW_S)
                except queue.Empty:
                    live.draw()
                    continue
                live.update(event)
                if isinstance(event, ev.TERMINAL):
                    pending.discard(event.run_id)
                    results[event.run_id] = result_row(names[event.run_id], event)
                    if not live.enabled and not args.json:
                        print(summary_line(results[event.run_id]), file=sys.stderr)
        except KeyboardInterrupt:
            comparison.cancel()
            comparison.wait(10)
            raise
        live.draw(final=True)
    finally:
        workbench.close()
    rows = [results[r] for r in run_ids if r in results]
    if args.json:
        json.dump({"comparison_id": comparison_id, "prompt": rel, "prompt_version": request.prompt_version,
                   "local_mode": request.local_mode, "runs": rows}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for row in rows:
            print(f"\n=== {row['model']} ({shown_status(row['status'])})")
            print(row["output"] if row["status"] == "finished" else f"{row['error_class']}: {row['error']}\n{row['output']}")
    return 0 if all(r["status"] == "finished" for r in rows) else 2


def result_row(model_name: str, event) -> dict:
    m = event.metrics
    status = ev.END_STATUS[type(event)]  # the stored word ("finished"), as JSON reports it
    return {"run_id": event.run_id, "model": model_name, "status": status,
            "error_class": getattr(event, "error_class", "cancelled" if status == "cancelled" else None),
            "error": getattr(event, "message", None), "ttft_ms": _round(m.ttft_ms), "tokens_per_s": _round(m.tokens_per_s),
            "input_tokens": m.input_tokens, "input_tokens_reported": m.input_tokens_reported,
            "output_tokens": m.output_tokens, "tokens_reported": m.tokens_reported,
            "cost_usd": m.cost_usd, "cost_note": m.cost_note, "total_ms": _round(m.total_ms), "retries": m.retries,
            "finish_reason": m.finish_reason, "queue_ms": _round(m.queue_ms), "server_prompt_ms": _round(m.server_prompt_ms, 2),
            "server_prompt_tokens_per_s": _round(m.server_prompt_tokens_per_s),
            "server_decode_tokens_per_s": _round(m.server_decode_tokens_per_s),
            "server_cached_tokens": m.server_cached_tokens, "output": event.output,
            **({"logprobs": list(event.logprobs), "perplexity": _perplexity(event.logprobs)}
               if getattr(event, "logprobs", ()) else {})}


def _perplexity(logprobs) -> float | None:
    from promptbench.core.engine.metrics import perplexity

    return perplexity([t["logprob"] for t in logprobs])


def _round(value, digits=1):
    return None if value is None else round(value, digits)


def summary_line(row: dict) -> str:
    ttft = "-" if row["ttft_ms"] is None else fmt_ms(row["ttft_ms"])
    tps = "-" if row["tokens_per_s"] is None else f"{fmt_tps(row['tokens_per_s'])} tok/s"
    cost = fmt_cost(row["cost_usd"], failed=row["status"] == "error")
    state = shown_status(row["status"]) if row["status"] == "finished" else f"{row['status']} ({row['error_class']})"
    out = fmt_tokens(row["output_tokens"], row["tokens_reported"])
    inp = fmt_tokens(row["input_tokens"], row.get("input_tokens_reported", False))
    return f"{row['model']:<28.28} {state:<22} TTFT {ttft:>8}  {tps:>12}  out {out:>6}  in {inp}  {cost}"


class LiveTable:
    """Per-model counters redrawn in place on a terminal (stderr), ~10 times a second. Each
    run is a core LiveRun, so the figures read as in the app's compare panes."""

    def __init__(self, models, enabled: bool):
        self.models = models
        self.enabled = enabled
        self.state: dict[str, LiveRun] = {}
        self.order: list[str] = []
        self.lines_drawn = 0
        self.last_draw = 0.0

    def bind(self, run_ids: list[str]) -> None:
        self.order = run_ids
        for run_id, model in zip(run_ids, self.models):
            self.state[run_id] = LiveRun(model.name)
            self.state[run_id].run_id = run_id

    def update(self, event) -> None:
        run = self.state.get(getattr(event, "run_id", ""), None)
        if run is None:
            return
        run.apply(event)
        if self.enabled and time.perf_counter() - self.last_draw > REDRAW_S:
            self.draw()

    def draw(self, final: bool = False) -> None:
        if not self.enabled:
            return
        self.last_draw = time.perf_counter()
        now = time.perf_counter_ns()
        out = sys.stderr
        if self.lines_drawn:
            out.write(f"\x1b[{self.lines_drawn}F")
        for run_id in self.order:
            s = self.state[run_id]
            status = {"done": "done", "queued": "queued", "waiting": "running", "streaming": "running"}.get(s.status, s.status)
            if s.status == "retrying":
                status = f"retry {s.retries}"
            ttft = "-" if s.ttft_ms is None else fmt_ms(s.ttft_ms)
            tps = "-" if s.tokens_per_s is None else fmt_tps(s.tokens_per_s)
            cost = fmt_cost(s.cost_usd, failed=s.failed) if (s.started_ns or s.final) else "-"
            elapsed = fmt_elapsed(s.elapsed_s(now), live=not s.terminal) if s.elapsed_s(now) is not None else ""
            out.write(f"\x1b[2K  {s.model_name:<28.28} {status:<14} TTFT {ttft:>7}  {tps:>7} tok/s  "
                      f"out {fmt_tokens(s.output_tokens, s.tokens_reported):<7} "
                      f"in {fmt_tokens(s.input_tokens, s.input_reported):<6} {cost:>10} {elapsed}\n")
        self.lines_drawn = len(self.order)
        out.flush()
