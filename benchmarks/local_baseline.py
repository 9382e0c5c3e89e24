"""Baselines for local-model figures: llama.cpp in-process (``llama-bench``) and raw httpx.

- :func:`llama_bench_decode` runs llama.cpp's own ``llama-bench`` (the same build that
  serves promptbench's local models): decode throughput of ``n`` tokens after ``depth``
  tokens of context, in one process with no HTTP at all. Weight repacking is off as in
  promptbench's servers (core/local/servers.py explains why).
- :class:`RawHttpx` streams one chat completion from a running llama-server with a bare
  httpx client and stamps each content chunk as it arrives: what the server allows,
  so the engine's own share of a gap shows apart from the server's.

Sampling is greedy (temperature 0, fixed seed, repeat_penalty 1.0) so every side
generates the same tokens.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import httpx

SAMPLING: dict[str, Any] = {
    "temperature": 0.0, "top_p": 0.95, "top_k": 40, "min_p": 0.05,
    "repeat_penalty": 1.0, "seed": 42,
}  # fmt: skip
DEFAULT_MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Write a short story about a robot who learns to paint."},
]


def rate(stamps_ns: list[int], tokens: int) -> float | None:
    """Tokens/s between the first and the last token (tokens - 1 intervals)."""
    if tokens < 2 or len(stamps_ns) < 2 or stamps_ns[-1] == stamps_ns[0]:
        return None
    return (tokens - 1) / ((stamps_ns[-1] - stamps_ns[0]) / 1e9)


def sse(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            yield json.loads(line[6:])


def measure(chunks: Iterator[dict[str, Any]], t0_ns: int) -> dict[str, Any]:
    stamps: list[int] = []
    parts: list[str] = []
    usage = timings = None
    for chunk in chunks:
        now = time.perf_counter_ns()
        usage = chunk.get("usage") or usage
        timings = chunk.get("timings") or timings
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") or choice.get("text") or ""
            if piece:
                stamps.append(now)
                parts.append(piece)
    tokens = (usage or {}).get("completion_tokens") or len(stamps)
    return {
        "chunks": len(stamps),
        "tokens": tokens,
        "ttft_s": (stamps[0] - t0_ns) / 1e9 if stamps else None,
        "tps": rate(stamps, tokens),
        "usage": usage,
        "timings": timings,
        "text": "".join(parts),
    }


class RawHttpx:
    """One streamed chat completion over a bare httpx client, the body the engine sends."""

    def __init__(self, base_url: str, model_id: str):
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model_id = model_id
        self.client = httpx.Client(timeout=httpx.Timeout(300.0), trust_env=False)

    def run(self, params: dict, messages: list[dict] = DEFAULT_MESSAGES) -> dict[str, Any]:
        body = {"model": self.model_id, "messages": messages, "stream": True,
                "stream_options": {"include_usage": True}, **params}
        t0 = time.perf_counter_ns()
        with self.client.stream("POST", self.url, json=body, headers={"Connection": "close"}) as response:
            response.raise_for_status()
            return measure(sse(response), t0)

    def close(self) -> None:
        self.client.close()


def llama_bench_decode(model_path: Path, n_threads: int, n_tokens: int, depth: int, reps: int = 5) -> dict[str, Any]:
    """llama-bench's decode figure: ``n_tokens`` generated after ``depth`` tokens of context."""
    from promptbench.core.local.programs import llama_program

    program, env = llama_program("llama-bench")
    command = [str(program), "-m", str(model_path), "-p", "0", "-n", str(n_tokens), "-d", str(depth),
               "-t", str(n_threads), "-r", str(reps), "-o", "json", "--repack", "0"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"llama-bench failed ({done.returncode}): {done.stderr[-2000:]}")
    (row,) = json.loads(done.stdout)
    return {"tps": row["avg_ts"], "tps_stddev": row["stddev_ts"], "samples": row.get("samples_ts", []),
            "n_threads": row["n_threads"], "command": " ".join(command[1:])}
