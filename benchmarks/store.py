"""PromptStore against the plain git command on a prompt with 1,000 versions.

Run: .venv/bin/python benchmarks/store.py [--versions 1000]
Prints one row per operation: promptbench, plain git in the same run, the ratio,
and the target from the foundation issue.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import isolated_git_env, p50, percentile, print_table, timed  # noqa: E402

TEMPLATE = """\
# benchmark prompt
name: Bench
description: version {n}
model: openai/gpt-4o-mini
modelParameters:
  temperature: {t}
messages:
  - role: system
    content: You are a careful assistant. Revision {n}.
  - role: user
    content: "Summarize: {{{{text}}}}"
testData:
  - text: The quick brown fox.
"""


def content(n: int) -> str:
    return TEMPLATE.format(n=n, t=round((n % 10) / 10, 1))


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--versions", type=int, default=1000)
    args = parser.parse_args()
    from promptbench.core.store.workspace import init_workspace

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-store-"))
    isolated_git_env(str(tmp))
    store = init_workspace(tmp / "ws")
    plain = tmp / "plain"
    plain.mkdir()
    git(plain, "init", "-q", "-b", "main")
    rel = "bench.prompt.yml"
    n = args.versions

    save_pb, save_git = [], []
    print(f"building {n} versions with promptbench and with plain git ...", file=sys.stderr)
    for i in range(n):
        text = content(i)
        with timed(save_pb):
            store.save(rel, text, f"version {i}")
        with timed(save_git):
            (plain / rel).write_text(text)
            git(plain, "add", "--", rel)
            git(plain, "commit", "-q", "--no-verify", "-m", f"version {i}", "--", rel)

    hist_pb, hist_git = [], []
    for _ in range(5):
        with timed(hist_pb):
            versions = store.history(rel)
        with timed(hist_git):
            git(plain, "log", "--follow", "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%B", "--name-status", "--", rel)
    assert len(versions) == n, len(versions)

    rng = random.Random(7)
    shas = [v.sha for v in versions]
    plain_shas = git(plain, "log", "--format=%H", "--", rel).split()
    read_pb, read_git = [], []
    for _ in range(100):
        i = rng.randrange(n)
        with timed(read_pb):
            data = store.read_at(rel, shas[i])
        with timed(read_git):
            git(plain, "show", f"{plain_shas[i]}:{rel}")
    assert data.decode().startswith("# benchmark prompt")

    diff_pb, diff_git = [], []
    for _ in range(30):
        a, b = rng.sample(range(n), 2)
        with timed(diff_pb):
            store.diff(rel, shas[a], shas[b])
        with timed(diff_git):
            git(plain, "diff", plain_shas[a], plain_shas[b], "--", rel)

    roll_pb, roll_git = [], []
    for _ in range(30):
        i = rng.randrange(n)
        with timed(roll_pb):
            result = store.rollback(rel, shas[i])
        with timed(roll_git):
            git(plain, "checkout", plain_shas[i], "--", rel)
            git(plain, "commit", "-q", "--no-verify", "--allow-empty", "-m", f"roll back to {plain_shas[i][:8]}", "--", rel)
        assert result.version is None or store.path(rel).read_text() == content(n - 1 - i)

    def row(name, pb, gt, stat, target, ours=False):
        value = stat(pb)
        ok = "ok" if value <= target else "MISSED"
        return [name, f"{value:.1f}", f"{stat(gt):.1f}", f"{value / stat(gt):.2f}x", f"<= {target}" + (" (ours)" if ours else ""), ok]

    rows = [
        row("save+commit p50", save_pb, save_git, p50, 40),
        row("save+commit p95", save_pb, save_git, lambda v: percentile(v, 95), 80, ours=True),
        row(f"history ({n} versions) p50", hist_pb, hist_git, p50, 250),
        row("read at a version p50", read_pb, read_git, p50, 5),
        row("diff two versions p50", diff_pb, diff_git, p50, 80, ours=True),
        row("rollback p50", roll_pb, roll_git, p50, 80),
    ]
    print_table(f"benchmarks/store.py: {n} versions, times in ms (promptbench vs plain git, same run)",
                ["operation", "promptbench", "plain git", "ratio", "target", ""], rows)
    missed = [r[0] for r in rows if r[-1] != "ok"]
    print(f"\n{'all targets met' if not missed else 'MISSED: ' + ', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"(total {time.perf_counter() - t0:.0f} s)")
    raise SystemExit(code)
