"""Crash consistency, longer: SIGKILL promptbench N times while it streams, saves, rolls back and votes.

The same loop and checks as tests/core/test_crash_consistency.py (which runs 20 kills),
with more kills and optionally shorter delays, so rarer interleavings show up (a kill
inside ``git commit`` that leaves ``.git/*.lock`` files, inside an atomic write that
leaves a temp file). Prints what was acknowledged and checked, and what the kills left.

    .venv/bin/python benchmarks/crash.py --kills 100 --seed 7
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
from _common import isolated_git_env, print_table  # noqa: E402

from promptbench.core.store.workspace import init_workspace  # noqa: E402
from promptbench.testing.fakeclient import FakeOpenAIServer  # noqa: E402
from tests.core.test_crash_consistency import check_starts_normally, crash_loop, setup_server  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-delay", type=float, default=0.05)
    parser.add_argument("--max-delay", type=float, default=1.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pb-crash-") as tmp:
        isolated_git_env(str(Path(tmp) / "home"))
        (Path(tmp) / "home").mkdir()
        ws = Path(tmp) / "ws"
        init_workspace(ws).close()
        started = time.monotonic()
        with FakeOpenAIServer() as server:
            setup_server(server)
            report = crash_loop(ws, server, kills=args.kills, seed=args.seed,
                                min_delay=args.min_delay, max_delay=args.max_delay)
        interrupted = check_starts_normally(ws)
        took = time.monotonic() - started
        temps = [p.name for p in ws.rglob(".*.tmp") if ".git" not in p.parts]
    print_table(f"crash consistency: {args.kills} SIGKILLs, seed {args.seed}, {took:.1f} s", ["figure", "value"], [
        ["kills survived", report.kills],
        ["  of the whole process group (git killed too)", report.group_kills],
        *[[f"acknowledged {k}s checked", v] for k, v in report.acked.items()],
        ["runs marked interrupted (start-ups + end)", f"{report.interrupted_at_start} + {interrupted}"],
        ["kills leaving the prompt written, not committed", report.dirty_after_kill],
        ["max temp files left at once / at the end", f"{report.temp_files_max} / {len(temps)}"],
        ["kills leaving stale .git locks", len(report.stale_locks)],
        ["problems", len(report.problems)],
    ])
    for kill, names, outcome, written in report.lock_probes:
        print(f"  kill {kill}: locks {names} -> next save: {outcome} ({written})")
    for problem in report.problems:
        print("  PROBLEM:", problem)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
