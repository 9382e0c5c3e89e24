"""Baselines for local-model throughput: llama-cpp-python in-process vs its server over raw httpx.

Both helpers stream one chat completion with the same sampling settings (greedy:
temperature 0, fixed seed, repeat_penalty 1.0 — the server's own default is 1.1) and
measure tokens/s over the generation phase only: from the first content token to the
last, so model load and prompt evaluation are left out. Tokens are counted twice: by
content chunks (one chunk is one token in llama-cpp-python's streams) and by the
model's own ``usage`` from an identical non-streamed request (streams carry no usage).

Run ``python benchmarks/local_baseline.py`` to print both figures for SmolLM2.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import httpx

SAMPLING: dict[str, Any] = {
    "temperature": 0.0, "top_p": 0.95, "top_k": 40, "min_p": 0.05,
    "repeat_penalty": 1.0, "seed": 42,
}  # fmt: skip
DEFAULT_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a short story about a robot who learns to paint."},
]


def _rate(stamps_ns: list[int], tokens: int) -> float | None:
    """Tokens/s between the first and the last token (tokens - 1 intervals)."""
    if tokens < 2 or len(stamps_ns) < 2 or stamps_ns[-1] == stamps_ns[0]:
        return None
    return (tokens - 1) / ((stamps_ns[-1] - stamps_ns[0]) / 1e9)


def _summary(runs: list[dict[str, Any]], usage: dict[str, Any] | None, text: str) -> dict[str, Any]:
    by_chunks = [r["tokens_per_s_chunks"] for r in runs if r["tokens_per_s_chunks"]]
    by_usage = [r["tokens_per_s_usage"] for r in runs if r["tokens_per_s_usage"]]
    return {
        "tokens_per_s_chunks": statistics.median(by_chunks) if by_chunks else None,
        "tokens_per_s_usage": statistics.median(by_usage) if by_usage else None,
        "chunks": runs[-1]["chunks"],
        "usage_completion_tokens": (usage or {}).get("completion_tokens"),
        "usage_prompt_tokens": (usage or {}).get("prompt_tokens"),
        "ttft_s": statistics.median(r["ttft_s"] for r in runs),
        "stream_usage": runs[-1]["stream_usage"],
        "same_text": all(r["text"] == text for r in runs),
        "text": text,
        "runs": runs,
    }


def _measure(chunks: Iterator[dict[str, Any]], t0_ns: int, usage_tokens: int | None) -> dict[str, Any]:
    stamps: list[int] = []
    parts: list[str] = []
    stream_usage = None
    for chunk in chunks:
        now = time.perf_counter_ns()
        stream_usage = chunk.get("usage") or stream_usage
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
            if piece:
                stamps.append(now)
                parts.append(piece)
    n = len(stamps)
    return {
        "chunks": n,
        "ttft_s": (stamps[0] - t0_ns) / 1e9 if stamps else None,
        "gen_s": (stamps[-1] - stamps[0]) / 1e9 if n > 1 else None,
        "tokens_per_s_chunks": _rate(stamps, n),
        "tokens_per_s_usage": _rate(stamps, usage_tokens) if usage_tokens else None,
        "stream_usage": stream_usage,
        "text": "".join(parts),
    }


def inprocess_tokens_per_s(
    model_path: str | Path,
    prompt_messages: Iterable[dict[str, Any]] = DEFAULT_MESSAGES,
    max_tokens: int = 64,
    n_threads: int | None = None,
    n_ctx: int = 2048,
    repeats: int = 3,
    sampling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """llama_cpp.Llama(...).create_chat_completion(stream=True) in this process."""
    from promptbench.core.local.servers import default_n_threads, patch_llama_cpp_for_cpu

    patch_llama_cpp_for_cpu()  # the same workaround the server child applies
    import llama_cpp

    messages = list(prompt_messages)
    params = {**SAMPLING, **(sampling or {}), "max_tokens": max_tokens}
    n_threads = n_threads or default_n_threads()
    llm = llama_cpp.Llama(
        model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False
    )
    try:
        whole = llm.create_chat_completion(messages, stream=False, **params)  # also warms up
        usage, text = whole["usage"], whole["choices"][0]["message"]["content"] or ""
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            runs.append(_measure(iter(llm.create_chat_completion(messages, stream=True, **params)), t0, usage["completion_tokens"]))
    finally:
        llm.close()
    return {**_summary(runs, usage, text), "n_threads": n_threads, "n_ctx": n_ctx}


def _sse(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line[6:])


def server_tokens_per_s(
    base_url: str,
    prompt_messages: Iterable[dict[str, Any]] = DEFAULT_MESSAGES,
    max_tokens: int = 64,
    repeats: int = 3,
    sampling: dict[str, Any] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """The same chat completion streamed over raw httpx from a running server."""
    body: dict[str, Any] = {"messages": list(prompt_messages), **SAMPLING, **(sampling or {}), "max_tokens": max_tokens}
    if model:
        body["model"] = model
    url = base_url.rstrip("/") + "/chat/completions"
    with httpx.Client(timeout=httpx.Timeout(300.0), trust_env=False) as client:
        whole = client.post(url, json=body).raise_for_status().json()  # also warms up
        usage, text = whole["usage"], whole["choices"][0]["message"]["content"] or ""
        runs = []
        streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
        for _ in range(repeats):
            t0 = time.perf_counter_ns()
            with client.stream("POST", url, json=streamed) as response:
                response.raise_for_status()
                runs.append(_measure(_sse(response), t0, usage["completion_tokens"]))
    return _summary(runs, usage, text)


def main(argv: list[str] | None = None) -> int:
    from promptbench.core.local.servers import SMOLLM2_ID, LocalServerManager, default_n_threads, get_local_model

    n_threads = int((argv or sys.argv[1:] or [0])[0]) or default_n_threads()
    path = get_local_model(SMOLLM2_ID).path
    inproc = inprocess_tokens_per_s(path, n_threads=n_threads)
    with tempfile.TemporaryDirectory() as logs, LocalServerManager(Path(logs), n_threads=n_threads) as manager:
        served = server_tokens_per_s(manager.ensure(SMOLLM2_ID))
    print(f"SmolLM2 135M, n_threads={n_threads}, n_ctx=2048, 64 tokens, greedy; median of 3")
    print(f"{'':24}{'tok/s (chunks)':>16}{'tok/s (usage)':>15}{'chunks':>8}{'usage':>7}{'TTFT s':>8}")
    for name, r in (("in-process llama_cpp", inproc), ("server, raw httpx", served)):
        print(
            f"{name:24}{r['tokens_per_s_chunks']:>16.1f}{r['tokens_per_s_usage']:>15.1f}"
            f"{r['chunks']:>8}{r['usage_completion_tokens']:>7}{r['ttft_s']:>8.3f}"
        )
    print(f"ratio server/in-process (chunks): {served['tokens_per_s_chunks'] / inproc['tokens_per_s_chunks']:.3f}")
    print(f"usage in stream with include_usage: {served['stream_usage']!r}; same text: {inproc['text'] == served['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
