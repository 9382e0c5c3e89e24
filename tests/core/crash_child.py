"""The victim of tests/core/test_crash_consistency.py: promptbench doing real work until it is SIGKILLed.

Usage: ``python tests/core/crash_child.py WORKSPACE SERVER_URL SEED [MAX_SECONDS]``

Opens the workspace the way the app does (PromptStore, RunStore at
WORKSPACE/.promptbench/promptbench.db with ``mark_interrupted()`` at start, VoteStore,
Engine wired to the loopback OpenAI server) and loops, in a seeded random order:
start comparisons (three models, streams stay in flight), save the prompt, roll it
back to an older version, record votes. Each line on stdout is flushed at once:

- ``READY <interrupted>``          start-up done (how many runs were marked interrupted)
- ``INTENT <sha1>``                about to write these prompt bytes (save or rollback)
- ``ACK save <commit> <sha1>``     ``store.save`` returned this version of these bytes
- ``ACK rollback <commit> <sha1>`` ``store.rollback`` returned (commit "-" if nothing changed)
- ``ACK vote <id>``                ``record_vote`` returned (the vote is durable)
- ``ACK run <id>``                 RunFinished received and ``runs.flush()`` returned
- ``ERROR <class> <message>``      an operation failed; the child exits with code 3

It exits by itself (code 0) after MAX_SECONDS (default 20) so a parent that fails to
kill it never leaves it behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import queue
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from promptbench.core.engine import events as ev  # noqa: E402
from promptbench.core.settings.config import load_settings, resolve_model  # noqa: E402
from promptbench.core.engine.engine import ComparisonRequest, Engine  # noqa: E402
from promptbench.core.ranking.leaderboard import Contestant  # noqa: E402
from promptbench.core.db.runs import RunStore  # noqa: E402
from promptbench.core.store.promptstore import PromptStore  # noqa: E402
from promptbench.core.ranking.votes import VoteStore  # noqa: E402

PROMPT = "crash.prompt.yml"
MODELS = ("crash-a", "crash-b", "crash-c")
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]
TEMPLATE = """\
# Saved by crash_child.py; the description changes on every save
name: Crash
description: {description}
model: openai/crash-a
messages:
  - role: system
    content: You are terse.
  - role: user
    content: '{body}'
"""


def prompt_text(seed: int, n: int, rng: random.Random) -> str:
    # Varying length (up to ~40 kB) so a torn write would be visible as a parse error or a foreign sha1.
    body = " ".join(f"w{seed}-{n}-{i}" for i in range(rng.randint(1, 4000)))
    return TEMPLATE.format(description=f"seed {seed} save {n}", body=body)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def main(argv: list[str]) -> int:
    workspace, server_url, seed = Path(argv[1]), argv[2], int(argv[3])
    max_seconds = float(argv[4]) if len(argv) > 4 else 20.0
    rng = random.Random(seed)
    store = PromptStore(workspace)
    store.data_dir.mkdir(exist_ok=True)
    runs = RunStore(store.data_dir / "promptbench.db")
    interrupted = runs.mark_interrupted()
    votes = VoteStore(runs, voter="crash-child")
    settings = dataclasses.replace(load_settings(workspace), connect_timeout_s=2.0, first_token_timeout_s=2.0,
                                   idle_timeout_s=2.0, max_retries=0)
    models = [dataclasses.replace(resolve_model(settings, f"openai/{name}"), name=name, api_base=server_url,
                                  input_cost_per_mtok=1.0, output_cost_per_mtok=2.0) for name in MODELS]
    finished: queue.Queue = queue.Queue()

    def on_event(event) -> None:
        if isinstance(event, ev.RunFinished):
            finished.put(event.run_id)

    engine = Engine(settings, on_event, runs=runs, key_lookup=lambda m: "sk-test-key-0000")
    say(f"READY {interrupted}")
    deadline = time.monotonic() + max_seconds
    finished_runs: list[str] = []
    in_flight: list = []  # Comparison handles
    n = 0
    try:
        while time.monotonic() < deadline:
            ids = []
            while True:
                try:
                    ids.append(finished.get_nowait())
                except queue.Empty:
                    break
            if ids:
                runs.flush(timeout=10)
                for run_id in ids:
                    say(f"ACK run {run_id}")
                finished_runs.extend(ids)
            in_flight = [c for c in in_flight if not c.wait(0)]
            op = rng.choice(("compare", "save", "save", "rollback", "vote", "vote"))
            if op == "compare" and len(in_flight) < 2:
                head = store.repo.head_sha() or "draft"
                request = ComparisonRequest(messages=MESSAGES, models=list(models), params={}, prompt_path=PROMPT,
                                            prompt_version=head)
                in_flight.append(engine.compare(request))
            elif op == "save" or (op == "rollback" and not store.path(PROMPT).exists()):
                n += 1
                data = prompt_text(seed, n, rng).encode()
                say(f"INTENT {sha1(data)}")
                version = store.save(PROMPT, data, f"Crash save {seed}/{n}")
                say(f"ACK save {version.sha if version else '-'} {sha1(data)}")
            elif op == "rollback":
                history = store.history(PROMPT)
                if len(history) < 2:
                    continue
                target = rng.choice(history[1:])
                data = store.read_at(PROMPT, target.sha)
                say(f"INTENT {sha1(data)}")
                result = store.rollback(PROMPT, target.sha)
                say(f"ACK rollback {result.version.sha if result.version else '-'} {sha1(data)}")
            elif op == "vote":
                a, b = rng.sample(MODELS, 2)
                version = (store.repo.head_sha() or "draft")[:12]
                run_ids = rng.sample(finished_runs, 2) if len(finished_runs) >= 2 else [None, None]
                vote_id = votes.record_vote(a=Contestant(PROMPT, version, a), b=Contestant(PROMPT, version, b),
                                            winner=rng.choice(("a", "b", "tie", "both_bad")), test_case=n,
                                            a_run_id=run_ids[0], b_run_id=run_ids[1])
                say(f"ACK vote {vote_id}")
            time.sleep(rng.uniform(0.0, 0.03))
    except Exception as exc:  # reported to the parent, which fails the test with it
        say(f"ERROR {type(exc).__name__} {' '.join(str(exc).split())}")
        return 3
    finally:
        engine.shutdown(timeout=5)
        runs.close(timeout=10)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
