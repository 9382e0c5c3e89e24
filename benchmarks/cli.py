"""How long a whole ``promptbench`` process takes, next to ``promptbench list`` and ``python -c pass``.

Run: .venv/bin/python benchmarks/cli.py [--runs 5] [--before REV]

Each row is the wall time of a fresh process (``python -m promptbench ...``), from spawn
to exit, median of ``--runs`` (after one unmeasured warm-up, which also writes the
bytecode caches: the child environment drops PYTHONDONTWRITEBYTECODE, so the figures
are those of every run after a first one). The commands take turns, so a busy moment of
the machine falls on all of them alike; the load average is printed too.

- ``compare``: ``compare summarize.prompt.yml --test 0 -m loop --json``, where ``loop`` is
  ``openai/gpt-4o-mini`` (priced by litellm's map) at the loopback OpenAI server of the
  tests, in its own process, answering 0.1 s after each request.
- ``eval``: ``eval`` of the same prompt, test case and model, its judge the same model.
- ``models``: the catalog, the embedded models and Ollama detection (nothing listens on
  127.0.0.1:11434 here).
- ``list``: the 5 sample prompts; ``list (1,000 prompts)``: a generated repository of
  1,000 prompt files in 10 folders, one commit, none modified.

The last column says whether litellm was imported by the end of the process (one more
run of each command under a hook that reports ``sys.modules`` at exit).
``--before REV`` also times the code of commit REV (``git archive`` into a temporary
folder, put first on PYTHONPATH) in the same turns: the baseline of a change.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import isolated_git_env, print_table  # noqa: E402

from promptbench.core.store.workspace import init_workspace, sample_prompts_dir  # noqa: E402
from promptbench.testing.fakeclient import FakeOpenAIServer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROMPT = "summarize.prompt.yml"
TARGETS_S = {"compare": 0.6, "models": 0.6, "list (1,000 prompts)": 0.5}
KEY_ENV = "PB_BENCH_KEY"
_REPORT = ("import atexit, sys\n"
           "atexit.register(lambda: sys.stderr.write('\\nLITELLM ' + str('litellm' in sys.modules) + '\\n'))\n"
           "from promptbench.cli import main\nsys.exit(main(sys.argv[1:]))\n")


def make_workspace(root: Path, base_url: str) -> Path:
    store = init_workspace(root / "ws", samples=True)
    store.close()
    with open(store.root / "promptbench.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[models.loop]\nmodel = "openai/gpt-4o-mini"\napi_base = "{base_url}"\napi_key_env = "{KEY_ENV}"\n')
    return store.root


def make_big_repo(root: Path, n: int = 1000) -> Path:
    big = root / "big"
    big.mkdir()
    subprocess.run(["git", "init", "--quiet", "--initial-branch=main", str(big)], check=True)
    text = (sample_prompts_dir() / PROMPT).read_text(encoding="utf-8")
    for i in range(n):
        folder = big / f"team{i % 10}"
        folder.mkdir(exist_ok=True)
        (folder / f"prompt{i:04d}.prompt.yml").write_text(text.replace("name: ", f"name: {i} ", 1), encoding="utf-8")
    (big / ".gitignore").write_text(".promptbench/\n")
    subprocess.run(["git", "-C", str(big), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(big), "commit", "--quiet", "-m", f"{n} prompts"], check=True)
    return big


def old_code(rev: str, root: Path) -> Path:
    """The ``src`` folder of commit ``rev``, unpacked (the repository is not touched)."""
    target = root / "before"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def run(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # eval exits 1 when an evaluator failed: still a whole run
        raise SystemExit(f"{' '.join(argv[-6:])} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def litellm_loaded(args: list[str], env: dict) -> str:
    proc = subprocess.run([sys.executable, "-c", _REPORT, *args], env=env, capture_output=True, text=True, timeout=300)
    return "yes" if proc.stderr.rpartition("\nLITELLM ")[2].strip() == "True" else "no"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", metavar="REV", help="also time the code of this commit (e.g. HEAD before a change)")
    opts = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pb-bench-cli-"))
    isolated_git_env(str(root))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "LITELLM_LOCAL_MODEL_COST_MAP")}
    env[KEY_ENV] = "sk-bench-0000"
    load_before = os.getloadavg()[0]
    try:
        with FakeOpenAIServer() as server:
            server.set_scenario(None, first_token_delay_s=0.1)
            ws, big = make_workspace(root, server.base_url), make_big_repo(root)
            commands = {
                "python -c pass": None,
                "list": ["--workspace", str(ws), "list"],
                "compare": ["--workspace", str(ws), "compare", PROMPT, "--test", "0", "-m", "loop", "--json"],
                "eval": ["--workspace", str(ws), "eval", PROMPT, "--test", "0", "-m", "loop", "--judge", "loop"],
                "models": ["--workspace", str(ws), "models"],
                "list (1,000 prompts)": ["--workspace", str(big), "list"],
            }
            codes = {"now": env}
            if opts.before:
                codes["before"] = {**env, "PYTHONPATH": str(old_code(opts.before, root))}
            argv = {name: [sys.executable, "-c", "pass"] if args is None else [sys.executable, "-m", "promptbench", *args]
                    for name, args in commands.items()}
            times: dict[tuple[str, str], list[float]] = {(c, n): [] for c in codes for n in commands}
            for turn in range(opts.runs + 1):
                for code, code_env in codes.items():
                    for name in commands:
                        if code == "before" and name == "python -c pass":
                            continue
                        elapsed = run(argv[name], code_env)
                        if turn:  # the first turn warms caches up
                            times[code, name].append(elapsed)
            loaded = {name: litellm_loaded(args, env) for name, args in commands.items() if args is not None}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load_after = os.getloadavg()[0]

    def median_ms(code: str, name: str) -> float:
        return statistics.median(times[code, name]) * 1000

    list_ms = median_ms("now", "list")
    rows = []
    for name in commands:
        ms = median_ms("now", name)
        spread = f"{min(times['now', name]) * 1000:.0f}-{max(times['now', name]) * 1000:.0f}"
        target = TARGETS_S.get(name)
        row = [name, f"{ms:.0f}", spread, f"{ms / list_ms:.2f}x"]
        if opts.before:
            row.append(f"{median_ms('before', name):.0f}" if times.get(("before", name)) else "")
        row += [f"<= {target * 1000:.0f}" if target else "", ("ok" if ms <= target * 1000 else "MISSED") if target else "",
                loaded.get(name, "")]
        rows.append(row)
    header = ["command", "median ms", "min-max", "vs list", *(["before ms"] if opts.before else []), "target", "", "litellm"]
    print_table(f"benchmarks/cli.py: wall time of a whole process, median of {opts.runs} "
                f"(load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores)", header, rows)
    missed = [r[0] for r in rows if r[-2] == "MISSED"]
    leaked = [r[0] for r in rows if r[-1] == "yes"]
    print(f"\n{'all targets met' if not missed else 'MISSED: ' + ', '.join(missed)}"
          f"{'; litellm imported by: ' + ', '.join(leaked) if leaked else '; litellm imported by none'}")
    return 1 if missed or leaked else 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    print(f"(total {time.perf_counter() - t0:.0f} s)")
    raise SystemExit(code)
