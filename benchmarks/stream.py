"""The streaming engine against raw httpx on the same loopback OpenAI server, same run.

Run: .venv/bin/python benchmarks/stream.py [--rounds 3] [--streams 4] [--chunks 500]

Load: ``--streams`` concurrent streams, each first token at 200 ms then one content
chunk every 4 ms (250 chunks/s per stream), from the fake server in its own process
(its CPU is not ours). One warm-up round per path, then ``--rounds`` measured rounds,
alternating engine / raw httpx / litellm path. Every figure compares a client-side
``perf_counter_ns()`` with the server's own send time of the same SSE event (both
CLOCK_MONOTONIC, so they compare across processes):

- TTFT error: engine's FirstToken.t_ns minus the server's send time of the first
  content chunk (= reported TTFT minus the true one, request-sent -> first content
  sent); also the time FirstToken reached ``on_event``.
- delivery delay per chunk: TextDelta.t_ns (the engine's read stamp) and the time the
  event reached ``on_event`` (what a front sees), minus the server's send time of that
  chunk (matched by index; texts are checked to be equal).
- end of stream: RunFinished reaching ``on_event`` minus the server's send time of
  the last SSE event (``data: [DONE]``).
- CPU per chunk: process CPU time (``time.process_time``, every thread) over a round,
  minus the idle rate measured with every thread alive, divided by the chunks streamed.

The baseline is raw ``httpx.AsyncClient`` on its own loop thread, reading lines and
``json.loads`` for every event, then reading on to the end of the body after ``[DONE]``
so its connections are reused (as openai's SDK does): what a minimal real consumer
does. Its timestamps are taken right after the parse. The warm-up is two back-to-back
rounds per path; the last row says how many of the second round's requests went over a
connection of the first (the server logs each request's client address).

The litellm path (``litellm.acompletion``, for providers that are not an
OpenAI-compatible base URL) is measured the same way, for information: the targets
apply to the engine's default path for base URLs.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import p50, percentile, print_table  # noqa: E402

from promptbench.core.engine import events as ev  # noqa: E402
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402
from promptbench.core.engine.engine import ComparisonRequest, Engine  # noqa: E402
from promptbench.core.providers.litellm_setup import import_litellm  # noqa: E402
from promptbench.testing.fakeclient import FakeOpenAIServer  # noqa: E402

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Stream a long answer."}]
TARGET_DELIVERY_P99_MS = 20.0
TARGET_END_MS = 10.0
TARGET_CPU_RATIO = 6.0
_ns = time.perf_counter_ns


def chunk_texts(stream: int, n: int) -> list[str]:
    # distinct texts: litellm raises on repeated identical chunks
    return [f" s{stream}w{i}" for i in range(n)]


@dataclasses.dataclass
class RunTrace:
    """One stream as the client saw it, aligned with the server's log record."""

    deltas_read: list[int]     # client read stamps of each content chunk (ns)
    deltas_seen: list[int]     # when each chunk reached the consumer (on_event / after parse)
    texts: list[str]
    first_read: int | None
    first_seen: int | None
    end_seen: int | None       # RunFinished in on_event / after reading [DONE]
    ttft_ms: float | None      # as reported by the client under test


# -- the engine ------------------------------------------------------------------------

class Sink:
    """on_event: stamp and keep; runs on the engine thread, so it must stay cheap."""

    def __init__(self):
        self.items: list[tuple[int, object]] = []

    def __call__(self, event) -> None:
        self.items.append((_ns(), event))


def engine_traces(sink: Sink, run_ids: list[str]) -> list[RunTrace]:
    by_run: dict[str, RunTrace] = {r: RunTrace([], [], [], None, None, None, None) for r in run_ids}
    for seen, event in sink.items:
        trace = by_run.get(getattr(event, "run_id", None))
        if trace is None:
            continue
        if isinstance(event, ev.TextDelta):
            trace.deltas_read.append(event.t_ns)
            trace.deltas_seen.append(seen)
            trace.texts.append(event.text)
        elif isinstance(event, ev.FirstToken):
            trace.first_read, trace.first_seen, trace.ttft_ms = event.t_ns, seen, event.ttft_ms
        elif isinstance(event, ev.RunFinished):
            trace.end_seen = seen
        elif isinstance(event, (ev.RunFailed, ev.RunCancelled)):
            raise SystemExit(f"engine run did not finish: {event}")
    return [by_run[r] for r in run_ids]


def engine_round(engine: Engine, sink: Sink, models) -> list[RunTrace]:
    sink.items = []
    comparison = engine.compare(ComparisonRequest(messages=MESSAGES, models=models, params={}))
    comparison_id, run_ids = comparison.id, comparison.run_ids
    if not comparison.wait(120):
        raise SystemExit("engine round did not finish within 120 s")
    return engine_traces(sink, run_ids)


# -- raw httpx baseline ----------------------------------------------------------------

class HttpxBaseline:
    """A persistent httpx.AsyncClient on its own loop thread, like the engine's."""

    def __init__(self, base_url: str):
        import httpx

        self.url = base_url.rstrip("/") + "/chat/completions"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="httpx-baseline", daemon=True)
        self.thread.start()
        self.client = self._call(self._make(httpx))

    @staticmethod
    async def _make(httpx):
        return httpx.AsyncClient(trust_env=False, timeout=None)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def _one(self, model: str) -> RunTrace:
        body = {"model": model, "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
        trace = RunTrace([], [], [], None, None, None, None)
        sent = _ns()
        async with self.client.stream("POST", self.url, json=body, headers={"Authorization": "Bearer sk-test"}) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    trace.end_seen = _ns()
                    continue  # read on to the end of the body, so the connection is reused (as openai's SDK does)
                event = json.loads(line[6:])
                for choice in event.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        now = _ns()
                        trace.deltas_read.append(now)
                        trace.deltas_seen.append(now)
                        trace.texts.append(text)
        if trace.deltas_read:
            trace.first_read = trace.first_seen = trace.deltas_read[0]
            trace.ttft_ms = (trace.first_read - sent) / 1e6
        return trace

    async def _round(self, models: list[str]) -> list[RunTrace]:
        return list(await asyncio.gather(*(self._one(m) for m in models)))

    def round(self, models: list[str]) -> list[RunTrace]:
        return self._call(self._round(models))

    def close(self) -> None:
        self._call(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


# -- matching with the server's log ------------------------------------------------------

def server_side(record: dict) -> tuple[list[int], list[str], int]:
    """(send stamps of content chunks, their texts, send stamp of the last SSE event)."""
    stamps, texts = [], []
    for item in record["chunks"]:
        payload = item["text"].strip()
        if not payload.startswith("data: ") or payload == "data: [DONE]":
            continue
        for choice in json.loads(payload[6:]).get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            if text:
                stamps.append(item["t_ns"])
                texts.append(text)
    return stamps, texts, record["chunks"][-1]["t_ns"]


@dataclasses.dataclass
class Samples:
    ttft_err_read: list[float] = dataclasses.field(default_factory=list)
    ttft_err_seen: list[float] = dataclasses.field(default_factory=list)
    ttft_reported: list[float] = dataclasses.field(default_factory=list)
    ttft_true: list[float] = dataclasses.field(default_factory=list)
    delivery_read: list[float] = dataclasses.field(default_factory=list)
    delivery_seen: list[float] = dataclasses.field(default_factory=list)
    end: list[float] = dataclasses.field(default_factory=list)
    cpu_s: float = 0.0
    chunks: int = 0
    mismatches: int = 0
    reused: tuple[int, int] = (0, 0)  # requests on an already open connection, requests

    def add(self, trace: RunTrace, record: dict) -> None:
        sent, texts, last = server_side(record)
        if trace.texts != texts:
            self.mismatches += 1
            return
        ms = lambda a, b: (a - b) / 1e6  # noqa: E731
        self.ttft_err_read.append(ms(trace.first_read, sent[0]))
        self.ttft_err_seen.append(ms(trace.first_seen, sent[0]))
        self.ttft_reported.append(trace.ttft_ms)
        self.ttft_true.append(trace.ttft_ms - self.ttft_err_read[-1])  # request sent -> first content sent
        self.delivery_read += [ms(a, b) for a, b in zip(trace.deltas_read, sent)]
        self.delivery_seen += [ms(a, b) for a, b in zip(trace.deltas_seen, sent)]
        self.end.append(ms(trace.end_seen, last))
        self.chunks += len(sent)

    @property
    def cpu_us_per_chunk(self) -> float:
        return self.cpu_s / self.chunks * 1e6 if self.chunks else float("nan")


def idle_cpu_rate(seconds: float = 1.0) -> float:
    """CPU seconds per wall second this process burns with nothing streaming."""
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    return (time.process_time() - c0) / (time.perf_counter() - w0)


def measured(fn, idle_rate: float):
    """Run fn(); (its result, process CPU seconds minus the idle share)."""
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return result, max(0.0, cpu - idle_rate * wall)


# -- main ------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=500)
    parser.add_argument("--interval-ms", type=float, default=4.0)
    parser.add_argument("--first-token-ms", type=float, default=200.0)
    parser.add_argument("--spin-us", type=float, default=1000.0, help="the fake server's spin before each chunk")
    parser.add_argument("--no-litellm", action="store_true", help="skip the litellm path")
    args = parser.parse_args()

    if not args.no_litellm:
        import_litellm()  # ~4 s of CPU: outside every measured window
    workdir = Path(tempfile.mkdtemp(prefix="pb-bench-stream-"))
    settings = dataclasses.replace(load_settings(workdir), max_retries=0)
    names = [f"bench-{s}" for s in range(args.streams)]

    with FakeOpenAIServer(spin_us=args.spin_us) as server:
        for s, name in enumerate(names):
            server.set_scenario(name, chunks=chunk_texts(s, args.chunks), first_token_delay_s=args.first_token_ms / 1000,
                                chunk_interval_s=args.interval_ms / 1000, prompt_tokens=20, completion_tokens=args.chunks)

        def config(name: str, litellm: bool):
            base = resolve_model(settings, f"openai/{name}")
            cfg = dataclasses.replace(base, api_base=server.base_url, input_cost_per_mtok=1.0, output_cost_per_mtok=2.0)
            if litellm:
                # The engine sends a model through litellm unless it has an api_base AND an
                # OpenAI-compatible provider (openai, ollama, openai_compatible, hosted_vllm or an
                # "openai/" model string). custom_openai is litellm's own OpenAI-compatible route.
                cfg = dataclasses.replace(cfg, model=f"custom_openai/{name}", provider="custom_openai")
            return cfg

        paths = {"engine": [config(n, False) for n in names]}
        if not args.no_litellm:
            paths["litellm"] = [config(n, True) for n in names]
        sink = Sink()
        engine = Engine(settings, sink, key_lookup=lambda m: "sk-test-key-0000")
        baseline = HttpxBaseline(server.base_url)
        samples = {"engine": Samples(), "httpx": Samples(), "litellm": Samples()}
        idle, seen = 0.0, [0]  # idle CPU rate, last server log id read

        def one_round(path: str, keep: bool) -> set[str]:
            if path == "httpx":
                traces, cpu = measured(lambda: baseline.round(names), idle)
            else:
                traces, cpu = measured(lambda: engine_round(engine, sink, paths[path]), idle)
            log = server.log(seen[0])
            seen[0] = max((r["id"] for r in log), default=seen[0])
            records = {r["model"]: r for r in log}
            if keep:
                for name, trace in zip(names, traces):
                    samples[path].add(trace, records[name])
                samples[path].cpu_s += cpu
            return {r["peer"] for r in log}  # the client's address: the same one means the same connection

        try:
            order = ["engine", "httpx", *(["litellm"] if "litellm" in paths else [])]
            for path in order:  # warm-up (connections, tiktoken, litellm's lazy imports); connection reuse
                first = one_round(path, keep=False)
                second = one_round(path, keep=False)
                samples[path].reused = (len(first & second), len(second))
            idle = idle_cpu_rate()
            for _ in range(args.rounds):
                for path in order:
                    one_round(path, keep=True)
            idle_after = idle_cpu_rate()
        finally:
            engine.shutdown()
            baseline.close()

    return report(args, samples, idle, idle_after, "litellm" in paths)


def report(args, samples: dict[str, Samples], idle: float, idle_after: float, with_litellm: bool) -> int:
    eng, raw, lit = samples["engine"], samples["httpx"], samples["litellm"]
    cols = [eng, raw] + ([lit] if with_litellm else [])
    p99 = lambda v: percentile(v, 99)  # noqa: E731
    mx = lambda v: max(v) if v else float("nan")  # noqa: E731
    f = lambda x: f"{x:.2f}"  # noqa: E731

    def row(label, pick, stat, target=None, check=None):
        values = [stat(pick(s)) for s in cols]
        status = ""
        if target is not None:
            status = "ok" if check(values[0]) else "MISSED"
        return [label, *[f(v) for v in values], target or "", status]

    n_runs = len(eng.end)
    rows = [
        row("TTFT error, read stamp p50 (ms)", lambda s: s.ttft_err_read, p50),
        row("TTFT error, read stamp p99 (ms)", lambda s: s.ttft_err_read, p99),
        row("TTFT error, read stamp max (ms)", lambda s: s.ttft_err_read, mx),
        row("TTFT error, at on_event p50 (ms)", lambda s: s.ttft_err_seen, p50),
        row("TTFT error, at on_event max (ms)", lambda s: s.ttft_err_seen, mx),
        row("reported TTFT p50 (ms)", lambda s: s.ttft_reported, p50),
        row("true TTFT p50 (ms): sent -> 1st content sent", lambda s: s.ttft_true, p50),
        row("delivery, read stamp p50 (ms)", lambda s: s.delivery_read, p50),
        row("delivery, read stamp p99 (ms)", lambda s: s.delivery_read, p99),
        row("delivery, at on_event p50 (ms)", lambda s: s.delivery_seen, p50),
        row("delivery, at on_event p99 (ms)", lambda s: s.delivery_seen, p99,
            f"<= {TARGET_DELIVERY_P99_MS:g}", lambda v: v <= TARGET_DELIVERY_P99_MS),
        row("delivery, at on_event max (ms)", lambda s: s.delivery_seen, mx),
        row("end of stream p50 (ms)", lambda s: s.end, p50),
        row("end of stream p99 (ms)", lambda s: s.end, p99, f"<= {TARGET_END_MS:g}", lambda v: v <= TARGET_END_MS),
        row("CPU per chunk (us)", lambda s: [s.cpu_us_per_chunk], p50),
    ]
    ratio = eng.cpu_us_per_chunk / raw.cpu_us_per_chunk
    ratio_row = ["CPU per chunk / httpx's", f"{ratio:.2f}x", "1.00x"]
    if with_litellm:
        ratio_row.append(f"{lit.cpu_us_per_chunk / raw.cpu_us_per_chunk:.2f}x")
    rows.append([*ratio_row, f"<= {TARGET_CPU_RATIO:g}x", "ok" if ratio <= TARGET_CPU_RATIO else "MISSED"])
    rows.append(["connections reused, back-to-back rounds", *[f"{s.reused[0]} / {s.reused[1]}" for s in cols], "", ""])
    header = ["figure", "engine", "raw httpx (baseline)"]
    if with_litellm:
        header.append("litellm path (not the target path)")
    print_table(
        f"benchmarks/stream.py: {args.streams} streams x {args.chunks} chunks, one every {args.interval_ms:g} ms "
        f"({1000 / args.interval_ms:.0f}/s each), first token at {args.first_token_ms:g} ms; "
        f"{args.rounds} measured rounds per path after a warm-up, alternating; "
        f"{n_runs} runs and {eng.chunks} chunks per path",
        [*header, "target", ""], rows,
    )
    print(f"\nidle CPU rate subtracted: {idle * 100:.2f}% of a core (after the rounds: {idle_after * 100:.2f}%)")
    print("TTFT error = client's first-token stamp - server's send stamp of the first content chunk "
          "(= reported TTFT - true TTFT); delivery = client stamp - server send stamp of the same chunk; "
          "end of stream = RunFinished in on_event (httpx: [DONE] read) - server's send stamp of [DONE]. "
          "Targets apply to the engine column. The server stamps each event right after its write returns, so a "
          "client woken at once can read it a little earlier: delays of about -0.1 ms are that, not time travel.")
    bad = [name for name, s in samples.items() if s.mismatches]
    if bad:
        print(f"text mismatches (runs dropped): {', '.join(f'{n}: {samples[n].mismatches}' for n in bad)}")
    missed = [r[0] for r in rows if r[-1] == "MISSED"]
    if bad and eng.mismatches:
        missed.append("engine text mismatch")
    print(f"\n{'all targets met' if not missed else 'MISSED: ' + ', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
