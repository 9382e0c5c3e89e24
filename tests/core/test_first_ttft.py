"""TTFT of a process's first request is what the provider spent, not our start-up.

Each measurement is a fresh process (``promptbench compare --json``, or a bare
``litellm.acompletion``), so its request is the process's first: httpx's lazy imports
and litellm's per-provider set-up would otherwise land inside TTFT. The servers run in
their own processes. A busy machine can delay any one process, so each figure is the
best of up to three fresh processes (each of them a first request).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"
ROOT = Path(__file__).resolve().parents[2]


def compare_ttft(ws_root: Path, model: str) -> float:
    out = subprocess.run([sys.executable, "-m", "promptbench", "--workspace", str(ws_root), "compare", P, "--test", "0", "-m", model,
                          "--json"], capture_output=True, text=True, timeout=300, env=dict(os.environ, PB_TEST_KEY="sk-test"))
    assert out.returncode == 0, out.stderr
    (run,) = json.loads(out.stdout)["runs"]
    assert run["status"] == "finished", run
    return run["ttft_ms"]


def best_of(measure, good, tries: int = 3) -> list[float]:
    seen = []
    for _ in range(tries):
        seen.append(measure())
        if good(seen[-1]):
            break
    return seen


@pytest.fixture
def anthropic_server():
    proc = subprocess.Popen([sys.executable, "-m", "tests.anthropic_server", "0.15"], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        proc.stdin.close()
        proc.wait(10)


def test_the_first_compare_of_a_process_reports_the_servers_time_to_first_token(workspace, openai_server):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    (workspace.root / "promptbench.toml").write_text(f"""
[models.slow]
model = "openai/slow"
api_base = "{openai_server.base_url}"
api_key_env = "PB_TEST_KEY"
""")
    openai_server.set_scenario("slow", chunks=["Hi", " there"], first_token_delay_s=0.2)
    seen = best_of(lambda: compare_ttft(workspace.root, "slow"), lambda t: 200 <= t <= 210)
    assert 200 <= min(seen) <= 210, f"TTFT of first requests: {seen} ms (the server waits 200 ms)"


def test_a_first_litellm_call_reports_ttft_within_20_ms_of_a_warm_litellm_call(workspace, anthropic_server):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    (workspace.root / "promptbench.toml").write_text(f"""
[models.haiku]
model = "anthropic/claude-haiku-4-5"
api_base = "{anthropic_server}"
api_key_env = "PB_TEST_KEY"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 5.0
""")
    warm = warm_litellm_ttft(anthropic_server)
    seen = best_of(lambda: compare_ttft(workspace.root, "haiku"), lambda t: abs(t - warm) <= 20)
    assert 150 <= min(seen) and min(abs(t - warm) for t in seen) <= 20, \
        f"first-call TTFT {seen} ms vs a warm litellm.acompletion's {warm:.1f} ms (the server waits 150 ms)"


WARM = """
import asyncio, sys, time
from promptbench.core.providers.litellm_setup import import_litellm
litellm = import_litellm()

async def once():
    t0 = time.perf_counter()
    response = await litellm.acompletion(model="anthropic/claude-haiku-4-5", api_base=sys.argv[1], api_key="sk-test",
                                         messages=[{"role": "user", "content": "Hi"}], stream=True, max_retries=0)
    async for chunk in response:
        if chunk.choices and chunk.choices[0].delta.content:
            return (time.perf_counter() - t0) * 1000

async def main():
    await once()  # cold: litellm's own set-up for this provider
    print(min([await once() for _ in range(3)]))

asyncio.run(main())
"""


def warm_litellm_ttft(base: str) -> float:
    out = subprocess.run([sys.executable, "-c", WARM, base], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.strip().splitlines()[-1])
