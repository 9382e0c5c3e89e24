"""Local SmolLM2 through the engine against llama-cpp-python in this process, same run.

Run: .venv/bin/python benchmarks/local.py [--reps 5] [--max-tokens 128] [--n-threads N]

Every side uses the same model file, n_threads, n_ctx, chat messages and greedy
sampling (temperature 0, seed 42, repeat_penalty 1.0: local_baseline.SAMPLING). After
one warm-up each (server start, model load) they alternate ``--reps`` times; medians.

- engine: ``Engine.compare`` on ``local/smollm2-135m-instruct`` (the embedded llama.cpp
  server that LocalServerManager starts); tokens/s is ``RunFinished.metrics.tokens_per_s``
  (generation phase, first token -> last). The target row uses it. Also shown: the same
  rate counted by content chunks (one chunk = one token in llama-cpp-python's streams)
  from the TextDelta read stamps: the server reports no usage in streams, so the engine
  must count chunks itself (an earlier engine used a tiktoken estimate: 91 "tokens" for
  96 and a 5% low rate); the two rows and the token row show that it does.
- raw httpx, same server: what the server allows at all, so the engine's own share of
  a gap shows apart from the server's (HTTP, SSE, its Python per token).
- in-process (the baseline): ``llama_cpp.Llama.create_chat_completion(stream=True)`` in
  this process; tokens/s by chunks over the generation phase (local_baseline._measure).
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
from local_baseline import DEFAULT_MESSAGES, SAMPLING, _measure, _sse  # noqa: E402

from promptbench.core.engine import events as ev  # noqa: E402
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402
from promptbench.core.engine.engine import ComparisonRequest, Engine  # noqa: E402
from promptbench.core.local.servers import SMOLLM2_ID, LocalServerManager, default_n_threads, get_local_model  # noqa: E402

TARGET_RATIO = 0.9
N_CTX = 2048


class Sink:
    def __init__(self):
        self.items: list[object] = []

    def __call__(self, event) -> None:
        self.items.append(event)


def engine_run(engine: Engine, sink: Sink, model, params: dict) -> dict:
    sink.items = []
    comparison = engine.compare(ComparisonRequest(messages=DEFAULT_MESSAGES, models=[model], params=params))
    comparison_id, (run_id,) = comparison.id, comparison.run_ids
    if not comparison.wait(600):
        raise SystemExit("the engine run did not finish within 600 s")
    mine = [e for e in sink.items if getattr(e, "run_id", None) == run_id]
    end = mine[-1]
    if not isinstance(end, ev.RunFinished):
        raise SystemExit(f"the engine run did not finish: {end}")
    stamps = [e.t_ns for e in mine if isinstance(e, ev.TextDelta)]
    by_chunks = (len(stamps) - 1) / ((stamps[-1] - stamps[0]) / 1e9) if len(stamps) > 1 else None
    m = end.metrics
    return {"tps": m.tokens_per_s, "tps_chunks": by_chunks, "ttft_s": m.ttft_ms / 1000, "chunks": len(stamps),
            "tokens": m.output_tokens, "text": end.output}


class RawHttpx:
    """The same request to the same llama.cpp server over raw httpx: what the server
    itself allows, so the engine's own share of any gap shows."""

    def __init__(self, base_url: str, model_id: str):
        import httpx

        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model_id = model_id
        self.client = httpx.Client(timeout=httpx.Timeout(300.0), trust_env=False)

    def run(self, params: dict) -> dict:
        body = {"model": self.model_id, "messages": DEFAULT_MESSAGES, "stream": True,
                "stream_options": {"include_usage": True}, **params}
        t0 = time.perf_counter_ns()
        with self.client.stream("POST", self.url, json=body) as response:
            response.raise_for_status()
            r = _measure(_sse(response), t0, None)
        return {"tps": r["tokens_per_s_chunks"], "ttft_s": r["ttft_s"], "chunks": r["chunks"], "text": r["text"]}

    def close(self) -> None:
        self.client.close()


class InProcess:
    def __init__(self, path: Path, n_threads: int):
        from promptbench.core.local.servers import patch_llama_cpp_for_cpu

        patch_llama_cpp_for_cpu()  # the same workaround the server child applies
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_threads=n_threads, n_threads_batch=n_threads,
                                   verbose=False)

    def run(self, params: dict) -> dict:
        t0 = time.perf_counter_ns()
        r = _measure(iter(self.llm.create_chat_completion(DEFAULT_MESSAGES, stream=True, **params)), t0, None)
        return {"tps": r["tokens_per_s_chunks"], "ttft_s": r["ttft_s"], "chunks": r["chunks"], "text": r["text"]}

    def close(self) -> None:
        self.llm.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-threads", type=int, default=0, help="0: promptbench's default (cores - 1)")
    args = parser.parse_args()
    n_threads = args.n_threads or default_n_threads()
    params = {**SAMPLING, "max_tokens": args.max_tokens}
    workdir = Path(tempfile.mkdtemp(prefix="pb-bench-local-"))
    settings = load_settings(workdir)
    model = resolve_model(settings, SMOLLM2_ID)

    runs: dict[str, list[dict]] = {"engine": [], "httpx": [], "inproc": []}
    sink = Sink()
    with LocalServerManager(workdir / "logs", n_threads=n_threads, n_ctx=N_CTX) as manager:
        engine = Engine(settings, sink, local=manager, key_lookup=lambda m: None)
        inproc = raw = None
        try:
            engine_run(engine, sink, model, params)  # warm-up: starts the server, loads the model
            raw = RawHttpx(manager.ensure(SMOLLM2_ID), SMOLLM2_ID)
            raw.run(params)
            inproc = InProcess(get_local_model(SMOLLM2_ID).path, n_threads)
            inproc.run(params)
            for _ in range(args.reps):
                runs["engine"].append(engine_run(engine, sink, model, params))
                runs["httpx"].append(raw.run(params))
                runs["inproc"].append(inproc.run(params))
        finally:
            for side in (inproc, raw):
                if side is not None:
                    side.close()
            engine.shutdown()
            server_pids = [s["pid"] for s in manager.status().values()]
    # LocalServerManager.__exit__ has stopped the server here
    return report(args, n_threads, runs, server_pids)


def report(args, n_threads: int, runs: dict[str, list[dict]], server_pids: list[int]) -> int:
    eng, raw, inp = runs["engine"], runs["httpx"], runs["inproc"]
    med = lambda rs, key: statistics.median(r[key] for r in rs)  # noqa: E731
    base = med(inp, "tps")
    ratio = med(eng, "tps") / base
    ok = ratio >= TARGET_RATIO
    rows = [
        ["tokens/s (engine: RunFinished.metrics)", f"{med(eng, 'tps'):.1f}", f"{med(raw, 'tps'):.1f}", f"{base:.1f}",
         f"{ratio:.3f}", f">= {TARGET_RATIO}", "ok" if ok else "MISSED"],
        ["tokens/s counted by chunks (all sides)", f"{med(eng, 'tps_chunks'):.1f}", f"{med(raw, 'tps'):.1f}", f"{base:.1f}",
         f"{med(eng, 'tps_chunks') / base:.3f}", "", ""],
        ["paired: median of engine/in-process per rep", "", "", "",
         f"{statistics.median(e['tps'] / i['tps'] for e, i in zip(eng, inp)):.3f}", "", ""],
        ["TTFT (ms)", f"{med(eng, 'ttft_s') * 1000:.1f}", f"{med(raw, 'ttft_s') * 1000:.1f}",
         f"{med(inp, 'ttft_s') * 1000:.1f}", f"{med(eng, 'ttft_s') / med(inp, 'ttft_s'):.3f}", "", ""],
        ["content chunks (= tokens)", f"{med(eng, 'chunks'):.0f}", f"{med(raw, 'chunks'):.0f}", f"{med(inp, 'chunks'):.0f}",
         "", "", ""],
        ["engine's metrics.output_tokens", f"{med(eng, 'tokens'):.0f}", "", "", "", "", ""],
    ]
    print_table(
        f"benchmarks/local.py: SmolLM2 135M, n_threads={n_threads}, n_ctx={N_CTX}, max_tokens={args.max_tokens}, "
        f"greedy (seed {SAMPLING['seed']}); median of {len(eng)} alternating runs after a warm-up",
        ["figure", "engine (local server)", "raw httpx, same server", "llama_cpp in-process", "engine / in-process",
         "target", ""], rows,
    )
    for name, rs, key in (("engine (metrics)", eng, "tps"), ("engine (chunks)", eng, "tps_chunks"),
                          ("raw httpx", raw, "tps"), ("in-process", inp, "tps")):
        print(f"tokens/s per run, {name + ':':18} " + ", ".join(f"{r[key]:.1f}" for r in rs))
    same = all(r["text"] == inp[0]["text"] for r in eng + raw + inp)
    print(f"same text on every side and run: {same}")
    alive = [pid for pid in server_pids if _alive(pid)]
    print(f"local server stopped: {not alive} (pids {server_pids})")
    missed = (["tokens/s ratio"] if not ok else []) + (["local server still running"] if alive else [])
    print(f"\n{'all targets met' if not missed else 'MISSED: ' + ', '.join(missed)}")
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
