"""Local SmolLM2 through the engine against llama.cpp itself, same run.

Run: .venv/bin/python benchmarks/local.py [--reps 5] [--max-tokens 128] [--slots 4,8,16]

Part 1, one run at a time (what Compare does): the same chat request, greedy (seed 42,
repeat_penalty 1.0: local_baseline.SAMPLING), after one warm-up, ``--reps`` alternating
runs; medians.

- engine: ``Engine.compare`` on ``local/smollm2-135m-instruct`` (the llama-server that
  LocalServerManager starts); tokens/s is ``RunFinished.metrics.tokens_per_s`` (first
  token -> last, tokens from the server's own usage), TTFT from ``metrics.ttft_ms``.
- raw httpx: the same body to the same server over a bare httpx client (the TTFT target
  compares the engine with it).
- in-process (the tokens/s baseline): llama.cpp's ``llama-bench`` from the same build,
  decoding the same number of tokens after as many tokens of context as the prompt.

Part 2, a batch (evals, ranking sessions): 16 cells (16 different prompts) of
``--max-tokens`` tokens, all submitted at once. One at a time ("sequential") on a server
with promptbench's default threads and again with every core for single sequences; then
"batched" (several sequences per decoding step) with each ``--slots`` count. Aggregate
tokens/s = all output tokens / wall time from submitting to the last cell's end. Greedy
decoding: the first 32 tokens of each cell are compared with the sequential answer.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from local_baseline import DEFAULT_MESSAGES, SAMPLING, RawHttpx, llama_bench_decode  # noqa: E402

from promptbench.core.engine import events as ev  # noqa: E402
from promptbench.core.engine.engine import ComparisonRequest, Engine  # noqa: E402
from promptbench.core.local.scoring import ServerClient  # noqa: E402
from promptbench.core.local.servers import (  # noqa: E402
    SMOLLM2_ID, LocalServerManager, all_cores, default_n_threads, get_local_model,
)
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402

TARGET_TPS_RATIO = 0.9      # engine tokens/s >= 0.9 x llama.cpp in-process
TARGET_TTFT_RATIO = 1.05    # engine TTFT <= 1.05 x raw httpx on the same server
TARGET_BATCH_RATIO = 1.5    # batched aggregate tokens/s >= 1.5 x one at a time
TARGET_AGREE = 15           # of 16 cells: the first 32 tokens equal
N_CTX = 2048                # per slot
SUBJECTS = ["paint", "cook", "sing", "garden", "swim", "dance", "write poems", "play chess", "fly a kite",
            "bake bread", "tell jokes", "sail", "knit", "take photographs", "play the violin", "ride a bicycle"]


class Sink:
    def __init__(self):
        self.items: list[object] = []

    def __call__(self, event) -> None:
        self.items.append(event)


def cell_messages(subject: str) -> list[dict]:
    return [DEFAULT_MESSAGES[0], {"role": "user", "content": f"Write a short story about a robot who learns to {subject}."}]


def engine_run(engine: Engine, sink: Sink, model, params: dict) -> dict:
    sink.items = []
    comparison = engine.compare(ComparisonRequest(messages=DEFAULT_MESSAGES, models=[model], params=params))
    (run_id,) = comparison.run_ids
    if not comparison.wait(600):
        raise SystemExit("the engine run did not finish within 600 s")
    end = [e for e in sink.items if getattr(e, "run_id", None) == run_id][-1]
    if not isinstance(end, ev.RunFinished):
        raise SystemExit(f"the engine run did not finish: {end}")
    m = end.metrics
    return {"tps": m.tokens_per_s, "ttft_s": m.ttft_ms / 1000, "tokens": m.output_tokens, "text": end.output,
            "input_tokens": m.input_tokens, "server_prompt_ms": m.server_prompt_ms,
            "server_decode_tps": m.server_decode_tokens_per_s, "queue_ms": m.queue_ms}


def batch_run(engine: Engine, sink: Sink, model, params: dict, mode: str) -> dict:
    sink.items = []
    t0 = time.perf_counter()
    comparisons = [engine.compare(ComparisonRequest(messages=cell_messages(s), models=[model], params=params,
                                                    local_mode=mode, kind="eval_cell"))
                   for s in SUBJECTS]
    for c in comparisons:
        if not c.wait(900):
            raise SystemExit("a batch cell did not finish within 900 s")
    wall = time.perf_counter() - t0
    ends = {e.run_id: e for e in sink.items if isinstance(e, (ev.RunFinished, ev.RunFailed))}
    cells = []
    for c in comparisons:
        end = ends.get(c.run_ids[0])
        if not isinstance(end, ev.RunFinished):
            raise SystemExit(f"a batch cell did not finish: {end}")
        cells.append(end)
    tokens = sum(e.metrics.output_tokens for e in cells)
    return {"wall_s": wall, "tokens": tokens, "tps": tokens / wall, "texts": [e.output for e in cells],
            "queue_ms": [e.metrics.queue_ms or 0.0 for e in cells]}


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process, MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    kib = lambda key: float(fields.get(key, "0 kB").split()[0]) / 1024  # noqa: E731
    return kib("VmRSS"), kib("VmHWM")


def first_tokens(client: ServerClient, text: str, n: int = 32) -> list[int]:
    return list(client.post("/tokenize", {"content": text})["tokens"][:n])


def with_server(workdir: Path, n_threads: int, slots: int, fn):
    settings = load_settings(workdir)
    model = resolve_model(settings, SMOLLM2_ID)
    sink = Sink()
    with LocalServerManager(workdir / f"logs-{n_threads}-{slots}", n_threads=n_threads, n_ctx=N_CTX, slots=slots) as manager:
        engine = Engine(settings, sink, local=manager, key_lookup=lambda m: None)
        try:
            return fn(engine, sink, model, manager)
        finally:
            engine.shutdown()


def part_single(args, workdir: Path, n_threads: int, params: dict) -> tuple[dict, list[str]]:
    def go(engine, sink, model, manager):
        first = engine_run(engine, sink, model, params)  # warm-up: starts the server, loads the model
        raw = RawHttpx(manager.ensure(SMOLLM2_ID), SMOLLM2_ID)
        try:
            raw.run(params)
            eng, httpx_runs = [], []
            for _ in range(args.reps):
                eng.append(engine_run(engine, sink, model, params))
                httpx_runs.append(raw.run(params))
        finally:
            raw.close()
        pid = manager.status()[SMOLLM2_ID]["pid"]
        return first, eng, httpx_runs, pid

    first, eng, raw, pid = with_server(workdir, n_threads, 1, go)
    bench = llama_bench_decode(get_local_model(SMOLLM2_ID).path, n_threads, args.max_tokens,
                               depth=first["input_tokens"], reps=args.reps)
    med = lambda rs, key: statistics.median(r[key] for r in rs)  # noqa: E731
    tps_ratio = med(eng, "tps") / bench["tps"]
    ttft_ratio = med(eng, "ttft_s") / med(raw, "ttft_s")
    rows = [
        ["decode tokens/s (engine: RunFinished.metrics)", f"{med(eng, 'tps'):.1f}", f"{med(raw, 'tps'):.1f}",
         f"{bench['tps']:.1f} ± {bench['tps_stddev']:.1f}", f"engine/in-process {tps_ratio:.3f}", f">= {TARGET_TPS_RATIO}",
         "ok" if tps_ratio >= TARGET_TPS_RATIO else "MISSED"],
        ["TTFT (ms)", f"{med(eng, 'ttft_s') * 1000:.1f}", f"{med(raw, 'ttft_s') * 1000:.1f}", "",
         f"engine/raw {ttft_ratio:.3f}", f"<= {TARGET_TTFT_RATIO}", "ok" if ttft_ratio <= TARGET_TTFT_RATIO else "MISSED"],
        ["server's own decode tokens/s (timings)", f"{med(eng, 'server_decode_tps'):.1f}",
         f"{statistics.median(r['timings']['predicted_per_second'] for r in raw):.1f}", "", "", "", ""],
        ["server's prompt processing (ms)", f"{med(eng, 'server_prompt_ms'):.1f}",
         f"{statistics.median(r['timings']['prompt_ms'] for r in raw):.1f}", "", "", "", ""],
        ["output tokens (engine: the text's own tokens; raw: server usage)", f"{med(eng, 'tokens'):.0f}", f"{med(raw, 'tokens'):.0f}", f"{args.max_tokens}",
         "", "", ""],
        ["first run of the server: TTFT ms / prompt ms", f"{first['ttft_s'] * 1000:.1f} / {first['server_prompt_ms']:.1f}",
         "", "", "", "", ""],
    ]
    print_table(
        f"benchmarks/local.py part 1: SmolLM2 135M, one run at a time, n_threads={n_threads}, "
        f"max_tokens={args.max_tokens}, greedy; median of {len(eng)} alternating runs after a warm-up",
        ["figure", "engine (llama-server)", "raw httpx, same server", "llama-bench in-process", "ratio", "target", ""],
        rows,
    )
    print(f"llama-bench {bench['command']}")
    for name, rs in (("engine", eng), ("raw httpx", raw)):
        print(f"  per run, {name:10} tokens/s " + ", ".join(f"{r['tps']:.1f}" for r in rs)
              + "; TTFT ms " + ", ".join(f"{r['ttft_s'] * 1000:.1f}" for r in rs))
    print(f"  same text on every run and side: {all(r['text'] == eng[0]['text'] for r in eng + raw)}")
    missed = []
    if tps_ratio < TARGET_TPS_RATIO:
        missed.append("single-run tokens/s vs in-process")
    if ttft_ratio > TARGET_TTFT_RATIO:
        missed.append("TTFT vs raw httpx")
    return {"pid": pid}, missed


def part_batch(args, workdir: Path, params: dict) -> list[str]:
    slots_list = [int(s) for s in args.slots.split(",") if s.strip()]
    results: dict[str, dict] = {}

    def measure(mode: str):
        def go(engine, sink, model, manager):
            engine_run(engine, sink, model, {**params, "max_tokens": 8})  # warm-up
            r = batch_run(engine, sink, model, params, mode)
            client = ServerClient(manager.ensure(SMOLLM2_ID), SMOLLM2_ID)
            r["first32"] = [first_tokens(client, t) for t in r["texts"]]
            r["rss"] = rss_mib(manager.status()[SMOLLM2_ID]["pid"])
            return r
        return go

    results["one at a time, default threads"] = with_server(workdir, default_n_threads(), 1, measure("sequential"))
    if all_cores() != default_n_threads():
        results["one at a time, all cores"] = with_server(workdir, all_cores(), 1, measure("sequential"))
    for slots in slots_list:
        results[f"batched, {slots} slots"] = with_server(workdir, default_n_threads(), slots, measure("batched"))

    reference = results["one at a time, default threads"]
    best_sequential = max(r["tps"] for k, r in results.items() if k.startswith("one at a time"))
    rows, missed = [], []
    for name, r in results.items():
        agree = sum(a == b for a, b in zip(r["first32"], reference["first32"]))
        ratio = r["tps"] / best_sequential
        target = ""
        if name.startswith("batched"):
            ok = ratio >= TARGET_BATCH_RATIO and agree >= TARGET_AGREE
            target = "ok" if ok else "MISSED"
            if not ok and name == f"batched, {slots_list[0]} slots":
                missed.append(f"{name}: ratio {ratio:.2f}, agreement {agree}/16")
        rows.append([name, f"{r['wall_s']:.2f}", f"{r['tokens']}", f"{r['tps']:.1f}", f"{ratio:.2f}",
                     f"{agree}/16", f"{statistics.median(r['queue_ms']):.0f}", f"{r['rss'][0]:.0f} / {r['rss'][1]:.0f}",
                     target])
    print_table(
        f"benchmarks/local.py part 2: 16 SmolLM2 cells x max_tokens={args.max_tokens}, greedy, submitted at once; "
        f"n_ctx {N_CTX} per slot; {all_cores()} cores",
        ["mode", "wall s", "tokens", "aggregate tokens/s", f"/ best one-at-a-time (target >= {TARGET_BATCH_RATIO})",
         f"first 32 tokens agree (>= {TARGET_AGREE})", "median queue ms", "server RSS MiB now / peak", ""],
        rows,
    )
    return missed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-threads", type=int, default=0, help="0: promptbench's default (cores - 1)")
    parser.add_argument("--slots", default="4,8,16", help="batched slot counts; the first is the one with targets")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    n_threads = args.n_threads or default_n_threads()
    params = {**SAMPLING, "max_tokens": args.max_tokens}
    workdir = Path(tempfile.mkdtemp(prefix="pb-bench-local-"))
    single, missed = part_single(args, workdir, n_threads, params)
    if not args.skip_batch:
        missed += part_batch(args, workdir, params)
    stopped = not _alive(single["pid"])
    print(f"\nlocal server stopped after use: {stopped}")
    if not stopped:
        missed.append("local server still running")
    print(f"{'all targets met' if not missed else 'MISSED: ' + '; '.join(missed)}")
    return 1 if missed else 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is gone for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
