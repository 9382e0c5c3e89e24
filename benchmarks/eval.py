"""The batch runner against raw httpx doing the same requests on the same loopback server, same run.

Run: .venv/bin/python benchmarks/eval.py [--rounds 3] [--test-cases 50] [--models 10] [--concurrency 8]

Load: one prompt version x ``--test-cases`` test cases x ``--models`` models (all pointing
at the fake server, in its own process) x 1 repeat = 500 cells by default, at
concurrency 8. Every response is small: ``--chunks`` content chunks, the first after a
fixed ``--first-token-ms`` server-side delay. The full stack is measured: a real git
workspace, a real SQLite run store (runs, comparisons, batch cells), the engine.

The baseline is raw ``httpx.AsyncClient`` on its own loop thread sending the SAME 500
request bodies (taken from the plan) at concurrency 8 with an asyncio.Semaphore,
reading every line and json-parsing each event, reading to the end of the body so
connections are reused. One warm-up round per path, then ``--rounds`` measured rounds,
alternating batch / httpx. Figures:

- wall: the batch from ``start()`` (incl. recording its 500 cells) until ``wait()``
  returns; httpx from the first request to the last body read.
- overhead per cell vs httpx (the target): (batch wall - httpx wall) / cells.
- overhead per cell vs ideal: (wall - sum of the server's own per-request times
  (request received -> last SSE event sent) / concurrency) / cells.
- done lag: when the cell was marked done (the runner hands it to the store) minus
  the server's send time of that request's last SSE event (both CLOCK_MONOTONIC).
- launch gap: the k-th request the server received after the first ``concurrency``
  minus the k-th completion: the time a freed slot takes to become a request on the wire.
- CPU per cell: process CPU time (every thread of this process) over the round / cells.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import isolated_git_env, p50, percentile, print_table  # noqa: E402

from promptbench.core.batch.runner import BatchRunner  # noqa: E402
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402
from promptbench.core.engine.engine import Engine  # noqa: E402
from promptbench.core.db.runs import RunStore  # noqa: E402
from promptbench.core.store.workspace import init_workspace  # noqa: E402
from promptbench.testing.fakeclient import FakeOpenAIServer  # noqa: E402

TARGET_MS_PER_CELL = 5.0
REL = "eval.prompt.yml"
_ns = time.perf_counter_ns


def prompt_text(test_cases: int) -> str:
    cases = "\n".join(f"  - {{n: {i}}}" for i in range(test_cases))
    return ("name: Eval bench\nmodel: openai/gpt-4o-mini\nmodelParameters:\n  maxTokens: 16\nmessages:\n"
            "  - role: system\n    content: Be brief.\n  - role: user\n    content: 'Question {{n}}'\n"
            f"testData:\n{cases}\n")


@dataclasses.dataclass
class Round:
    wall_s: float
    cpu_s: float
    done_ns: dict[tuple[str, str], int]  # (model, user message) -> when the client was done with it
    records: list[dict]                   # the server's log of this round


# -- the batch runner ------------------------------------------------------------------

def batch_round(runner: BatchRunner, plan, concurrency: int, server: FakeOpenAIServer, since: int) -> Round:
    keys = {c.key: (c.model_name, plan.request_for(c).messages[-1]["content"]) for c in plan.cells}
    done: dict[tuple[str, str], int] = {}
    original = runner.batches.update_cells

    def stamped(batch_id, results):  # the moment the runner marks cells done
        now = _ns()
        for r in results:
            done[keys[r.key]] = now
        original(batch_id, results)

    runner.batches.update_cells = stamped
    try:
        c0, w0 = time.process_time(), time.perf_counter()
        batch_id = runner.start(plan, concurrency=concurrency)
        if not runner.wait(batch_id, 600):
            raise SystemExit("batch did not finish within 600 s")
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    finally:
        runner.batches.update_cells = original
    batch = runner.get(batch_id)
    if batch["finished_cells"] != plan.total:
        raise SystemExit(f"batch ended with {batch['cells']} (expected {plan.total} finished)")
    return Round(wall, cpu, done, server.log(since))


# -- raw httpx baseline ----------------------------------------------------------------

class HttpxBaseline:
    """A persistent httpx.AsyncClient on its own loop thread, like the engine's."""

    def __init__(self, base_url: str):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="httpx-baseline", daemon=True)
        self.thread.start()
        self.client = self._call(self._make())

    @staticmethod
    async def _make():
        import httpx

        return httpx.AsyncClient(trust_env=False, timeout=None,
                                 limits=httpx.Limits(max_connections=100, max_keepalive_connections=100))

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _one(self, body: dict, sem: asyncio.Semaphore, done: dict) -> None:
        async with sem:
            async with self.client.stream("POST", self.url, json=body, headers={"Authorization": "Bearer sk-test"}) as r:
                r.raise_for_status()
                text = []
                async for line in r.aiter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        for choice in json.loads(line[6:]).get("choices") or ():
                            text.append((choice.get("delta") or {}).get("content") or "")
            done[(body["model"], body["messages"][-1]["content"])] = _ns()

    async def _round(self, bodies: list[dict], concurrency: int, done: dict) -> None:
        sem = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(self._one(b, sem, done) for b in bodies))

    def round(self, bodies: list[dict], concurrency: int, server: FakeOpenAIServer, since: int) -> Round:
        done: dict[tuple[str, str], int] = {}
        c0, w0 = time.process_time(), time.perf_counter()
        self._call(self._round(bodies, concurrency, done))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        return Round(wall, cpu, done, server.log(since))

    def close(self) -> None:
        self._call(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# -- analysis --------------------------------------------------------------------------

@dataclasses.dataclass
class Figures:
    walls: list[float] = dataclasses.field(default_factory=list)
    cpu_ms_per_cell: list[float] = dataclasses.field(default_factory=list)
    over_ideal_ms: list[float] = dataclasses.field(default_factory=list)
    done_lag_ms: list[float] = dataclasses.field(default_factory=list)
    launch_gap_ms: list[float] = dataclasses.field(default_factory=list)
    server_ms: list[float] = dataclasses.field(default_factory=list)

    def add(self, rnd: Round, cells: int, concurrency: int) -> None:
        if len(rnd.records) != cells:
            raise SystemExit(f"the server saw {len(rnd.records)} requests, expected {cells}")
        by_request = {(r["model"], r["body"]["messages"][-1]["content"]): r for r in rnd.records}
        if set(by_request) != set(rnd.done_ns):
            raise SystemExit("the requests the server saw do not match the cells the client finished")
        server_ms = [(r["chunks"][-1]["t_ns"] - r["received_ns"]) / 1e6 for r in rnd.records]
        ideal_s = sum(server_ms) / 1000 / concurrency
        self.walls.append(rnd.wall_s)
        self.cpu_ms_per_cell.append(rnd.cpu_s * 1000 / cells)
        self.over_ideal_ms.append((rnd.wall_s - ideal_s) * 1000 / cells)
        self.server_ms += server_ms
        self.done_lag_ms += [(rnd.done_ns[k] - r["chunks"][-1]["t_ns"]) / 1e6 for k, r in by_request.items()]
        received = sorted(r["received_ns"] for r in rnd.records)
        dones = sorted(rnd.done_ns.values())
        self.launch_gap_ms += [(received[i + concurrency] - dones[i]) / 1e6 for i in range(cells - concurrency)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--test-cases", type=int, default=50)
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--chunks", type=int, default=5)
    parser.add_argument("--first-token-ms", type=float, default=50.0)
    parser.add_argument("--interval-ms", type=float, default=1.0)
    parser.add_argument("--spin-us", type=float, default=1000.0, help="the fake server's spin before each chunk")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pb-bench-eval-"))
    isolated_git_env(str(workdir))
    store = init_workspace(workdir / "ws")
    store.create(REL, prompt_text(args.test_cases))
    settings = dataclasses.replace(load_settings(store.root), max_retries=0,
                                   provider_concurrency={"openai": args.concurrency})
    names = [f"eval-{m}" for m in range(args.models)]
    cells = args.test_cases * args.models

    with FakeOpenAIServer(spin_us=args.spin_us) as server:
        for name in names:
            server.set_scenario(name, chunks=[f" {name}w{i}" for i in range(args.chunks)],
                                first_token_delay_s=args.first_token_ms / 1000, chunk_interval_s=args.interval_ms / 1000,
                                prompt_tokens=12, completion_tokens=args.chunks)
        models = [dataclasses.replace(resolve_model(settings, f"openai/{n}"), name=n, api_base=server.base_url,
                                      input_cost_per_mtok=1.0, output_cost_per_mtok=2.0) for n in names]
        runs = RunStore(workdir / "runs.db")
        engine = Engine(settings, runs=runs, key_lookup=lambda m: "sk-test-key-0000")
        runner = BatchRunner(engine, runs, store, settings)
        baseline = HttpxBaseline(server.base_url)
        plan = runner.plan(REL, models=models)
        assert plan.total == cells
        bodies = [{"model": c.model_name, "messages": plan.request_for(c).messages, "stream": True,
                   "stream_options": {"include_usage": True}, "max_tokens": 16} for c in plan.cells]
        figures = {"batch runner": Figures(), "raw httpx": Figures()}
        seen = [0]

        def one(path: str, keep: bool) -> None:
            if path == "batch runner":
                rnd = batch_round(runner, plan, args.concurrency, server, seen[0])
            else:
                rnd = baseline.round(bodies, args.concurrency, server, seen[0])
            seen[0] = max((r["id"] for r in rnd.records), default=seen[0])
            if keep:
                figures[path].add(rnd, cells, args.concurrency)

        try:
            for path in figures:  # warm-up: connections, tiktoken tables, prices, the store's pages
                one(path, keep=False)
            for _ in range(args.rounds):
                for path in figures:
                    one(path, keep=True)
        finally:
            runner.close()
            engine.shutdown()
            baseline.close()
            runs.close()
            store.close()
    return report(args, cells, figures)


def report(args, cells: int, figures: dict[str, Figures]) -> int:
    f = lambda x: f"{x:.2f}"  # noqa: E731
    cols = list(figures.values())
    rows = [
        ["wall per round (s), median", *(f(p50(c.walls)) for c in cols)],
        ["server time per request (ms), p50", *(f(p50(c.server_ms)) for c in cols)],
        ["overhead vs ideal per cell (ms), median", *(f(p50(c.over_ideal_ms)) for c in cols)],
        ["done lag after last SSE event (ms), p50", *(f(p50(c.done_lag_ms)) for c in cols)],
        ["done lag after last SSE event (ms), p99", *(f(percentile(c.done_lag_ms, 99)) for c in cols)],
        ["launch gap, slot free -> request received (ms), p50", *(f(p50(c.launch_gap_ms)) for c in cols)],
        ["launch gap (ms), p99", *(f(percentile(c.launch_gap_ms, 99)) for c in cols)],
        ["CPU per cell (ms), median", *(f(p50(c.cpu_ms_per_cell)) for c in cols)],
    ]
    print_table(f"Batch of {cells} cells ({args.test_cases} test cases x {args.models} models), concurrency "
                f"{args.concurrency}, {args.chunks} chunks, first token {args.first_token_ms:g} ms; {args.rounds} rounds",
                ["figure", *figures], rows)
    batch, raw = figures["batch runner"], figures["raw httpx"]
    per_round = [(b - h) * 1000 / cells for b, h in zip(batch.walls, raw.walls)]
    overhead = statistics.median(per_round)
    status = "ok" if overhead <= TARGET_MS_PER_CELL else "MISSED"
    print(f"\nrunner overhead per cell vs raw httpx, (batch wall - httpx wall) / {cells}: "
          f"{overhead:.2f} ms median (rounds: {', '.join(f(x) for x in per_round)}); "
          f"ratio of walls {p50(batch.walls) / p50(raw.walls):.2f}x; target <= {TARGET_MS_PER_CELL:g} ms: {status}")
    return 0 if status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
