"""SIGKILL promptbench at random points while it streams, saves, rolls back and votes; nothing acknowledged is lost.

A child process (tests/core/crash_child.py) works on a real workspace against the
loopback OpenAI server and prints one line per acknowledged operation. The parent
kills it after a seeded random delay -- either the child alone (its git subprocess
finishes as an orphan) or its whole process group (git dies too, as when the
session ends) -- 20 times on the same workspace, and after every kill checks:

- SQLite: ``PRAGMA integrity_check`` is "ok"; every acknowledged vote is there, and
  every acknowledged run is there with status "finished";
- git: ``fsck --no-dangling`` is clean, ``status`` shows nothing unmerged, every
  acknowledged commit is an ancestor of HEAD;
- files: every prompt parses, temp files from an interrupted atomic write never
  count as prompts, and the prompt's bytes are exactly some content the child meant
  to write (HEAD's, or a save/rollback in flight at the kill) -- never a mix;
- locks left by a killed git (``.git/index.lock``, ``HEAD.lock``, a ref's lock) never
  make the next save wait: it clears the ones no live git process owns and saves (or,
  for a lock too fresh to prove stale, fails at once with a clear WorkspaceError); the
  next child start meets them untouched and must work.

At the end the app's start-up steps work: ``RunStore.mark_interrupted()`` leaves
no "running" row, and the store's ``is_dirty``/``history`` answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from promptbench.core.errors import StoreError
from promptbench.core.prompts.promptfile import parse_prompt_bytes
from promptbench.core.db.runs import RunStore
from promptbench.core.store.promptstore import PromptStore

CHILD = Path(__file__).with_name("crash_child.py")
PROMPT = "crash.prompt.yml"
MODELS = ("crash-a", "crash-b", "crash-c")
READY_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 10.0
CHILD_MAX_S = 20.0  # the child stops by itself after this, whatever happens to the parent


@dataclasses.dataclass
class Report:
    kills: int = 0
    group_kills: int = 0
    acked: dict = dataclasses.field(default_factory=lambda: {"vote": 0, "run": 0, "save": 0, "rollback": 0})
    interrupted_at_start: int = 0
    stale_locks: list = dataclasses.field(default_factory=list)  # (kill number, lock paths in .git)
    lock_probes: list = dataclasses.field(default_factory=list)  # what the next save did with those locks
    temp_files_max: int = 0
    dirty_after_kill: int = 0  # kills that left the prompt written but not committed
    problems: list = dataclasses.field(default_factory=list)


def git(ws: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True, check=check, timeout=30)


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def setup_server(server) -> None:
    for name in MODELS:  # ~0.35 s per stream: some finish, some are in flight when the kill lands
        server.set_scenario(name, chunks=[f"{name} says hi "] * 15, first_token_delay_s=0.05, chunk_interval_s=0.02)


def _pump(stream, lines: queue.Queue) -> None:
    for raw in iter(stream.readline, b""):
        if raw.endswith(b"\n"):  # a line cut by the kill is not an acknowledgement
            lines.put(raw.decode(errors="replace").rstrip("\n"))
    lines.put(None)


def _group_alive(pgid: int) -> bool:
    """A live (not zombie) process is left in the group. Killed git processes whose parent
    died are reparented to PID 1, which here reaps them only every second or two: zombies
    hold no locks and write nothing, so they do not count."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def run_child_and_kill(ws: Path, url: str, seed: int, delay: float, group: bool, stderr_path: Path) -> list[str]:
    """Start the child, SIGKILL it ``delay`` s after READY, return every complete line it printed."""
    with stderr_path.open("ab") as err:
        proc = subprocess.Popen([sys.executable, str(CHILD), str(ws), url, str(seed), str(CHILD_MAX_S)],
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    got: list[str] = []
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (got and got[0].startswith("READY")):
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))  # queue.Empty -> test fails
            if line is None:
                raise AssertionError(f"child ended before READY: {got} (stderr in {stderr_path})")
            got.append(line)
        kill_at = time.monotonic() + delay
        while (left := kill_at - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            got.append(line)
    finally:
        if group:
            with _suppress_lookup():
                os.killpg(proc.pid, signal.SIGKILL)
        else:
            with _suppress_lookup():
                os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=EXIT_TIMEOUT_S)
        # An orphaned git (child-only kill) finishes its commit; wait for it, then make sure.
        end = time.monotonic() + EXIT_TIMEOUT_S
        while _group_alive(proc.pid) and time.monotonic() < end:
            time.sleep(0.02)
        with _suppress_lookup():
            os.killpg(proc.pid, signal.SIGKILL)
        end = time.monotonic() + EXIT_TIMEOUT_S
        while _group_alive(proc.pid) and time.monotonic() < end:
            time.sleep(0.01)
        assert not _group_alive(proc.pid), "a process of the killed child survived SIGKILL"
        reader.join(timeout=EXIT_TIMEOUT_S)
        proc.stdout.close()
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None:
            got.append(line)
    return got


class _suppress_lookup:
    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        return kind is ProcessLookupError


def handle_stale_locks(ws: Path, kill: int, report: Report) -> None:
    """Locks left by a killed git: the next save must never wait; it clears locks no live git
    process can own and saves, or (a lock too fresh to prove stale) fails at once with a clear
    WorkspaceError. Probed on a copy, so the real next start meets the locks too."""
    locks = sorted(p for p in (ws / ".git").rglob("*.lock"))
    if not locks:
        return
    names = [f"{p.relative_to(ws / '.git')} ({time.time() - p.stat().st_mtime:.2f} s old)" for p in locks]
    report.stale_locks.append((kill, names))
    probe = ws.parent / f"lock-probe-{kill}"
    shutil.copytree(ws, probe, symlinks=True)
    try:
        started = time.monotonic()
        with PromptStore(probe) as store:
            data = store.read_bytes(PROMPT) if store.path(PROMPT).exists() else b""
            new = data.replace(b"name: Crash", b"name: Crash probe") or b"name: P\nmessages:\n  - role: user\n    content: hi\n"
            try:
                store.save(PROMPT, new)
                outcome = "saved"
            except StoreError as exc:  # WorkspaceError is a StoreError
                outcome = f"{type(exc).__name__}: {exc}"
            on_disk = store.read_bytes(PROMPT) if store.path(PROMPT).exists() else b""
        took = time.monotonic() - started
        left = sorted(str(p.relative_to(probe / ".git")) for p in (probe / ".git").rglob("*.lock"))
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    report.lock_probes.append((kill, names, outcome, left))
    assert took < 5, f"kill {kill}: stale locks {names} made the save wait {took:.1f} s"
    if outcome == "saved":
        assert on_disk == new and not left, f"kill {kill}: saved, but locks {left} remain"
    else:
        assert outcome.startswith("WorkspaceError") and "another git process is using" in outcome, outcome
        assert on_disk == data, f"kill {kill}: a refused save changed the prompt file"


def check_after_kill(ws: Path, lines: list[str], intents: set[str], acked: dict, kill: int, report: Report) -> None:
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind == "ERROR":
            report.problems.append(f"kill {kill}: child failed: {rest}")
        elif kind == "INTENT":
            intents.add(rest)
        elif kind == "ACK":
            what, *args = rest.split()
            report.acked[what] += 1
            acked[what].append(args)
        elif kind == "READY":
            report.interrupted_at_start += int(rest)

    # SQLite: intact, and everything acknowledged is there.
    with sqlite3.connect(ws / ".promptbench" / "promptbench.db", timeout=10) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)], f"kill {kill}: database damaged"
        vote_ids = {a[0] for a in acked["vote"]}
        found = {r[0] for r in db.execute("SELECT id FROM votes")}
        assert vote_ids <= found, f"kill {kill}: acknowledged votes lost: {sorted(vote_ids - found)}"
        statuses = dict(db.execute("SELECT id, status FROM runs"))
        for (run_id,) in acked["run"]:
            assert statuses.get(run_id) == "finished", f"kill {kill}: acknowledged run {run_id} is {statuses.get(run_id)!r}"
    db.close()

    # git: clean object store, nothing unmerged, every acknowledged commit reachable from HEAD.
    fsck = git(ws, "fsck", "--no-dangling", "--no-progress", check=False)
    bad = [ln for ln in (fsck.stdout + fsck.stderr).splitlines() if any(w in ln for w in ("error", "missing", "broken"))]
    assert fsck.returncode == 0 and not bad, f"kill {kill}: git fsck: {fsck.returncode} {bad or fsck.stderr}"
    status = git(ws, "status", "--porcelain").stdout.splitlines()
    unmerged = [ln for ln in status if ln[:2] in ("DD", "AU", "UD", "UA", "DU", "AA", "UU")]
    assert not unmerged, f"kill {kill}: unmerged paths {unmerged}"
    reachable = set(git(ws, "rev-list", "HEAD").stdout.split())
    for what in ("save", "rollback"):
        for commit, _ in acked[what]:
            assert commit == "-" or commit in reachable, f"kill {kill}: acknowledged {what} {commit} not in HEAD's history"

    # Files: every prompt whole and parseable; temp files never count as prompts.
    with PromptStore(ws) as store:
        prompts = store.list_prompts()
        assert all(not Path(p).name.startswith(".") and not p.endswith(".tmp") for p in prompts), prompts
        for rel in prompts:
            parse_prompt_bytes(store.read_bytes(rel), rel)
        temps = [p for p in ws.rglob(".*.tmp") if ".git" not in p.parts]
        assert not any(p.name.endswith((".prompt.yml", ".prompt.yaml")) for p in temps), temps
        report.temp_files_max = max(report.temp_files_max, len(temps))
        if store.path(PROMPT).exists():
            on_disk = sha1(store.read_bytes(PROMPT))
            head = store.repo.head_sha()
            committed = store.repo.blob_at(head, PROMPT) if head else None
            assert committed is None or sha1(committed) in intents, f"kill {kill}: HEAD holds bytes nobody wrote"
            assert on_disk in intents, f"kill {kill}: {PROMPT} holds bytes nobody wrote (a torn write?)"
            if committed is None or sha1(committed) != on_disk:
                report.dirty_after_kill += 1
                assert store.is_dirty(PROMPT)


def crash_loop(ws: Path, server, *, kills: int, seed: int, min_delay: float = 0.2, max_delay: float = 1.5) -> Report:
    rng = random.Random(seed)
    report = Report()
    intents: set[str] = set()
    acked: dict[str, list] = {"vote": [], "run": [], "save": [], "rollback": []}
    for kill in range(1, kills + 1):
        handle_stale_locks(ws, kill, report)
        group = rng.random() < 0.5
        lines = run_child_and_kill(ws, server.base_url, rng.randrange(1 << 30), rng.uniform(min_delay, max_delay),
                                   group, ws.parent / "child-stderr.txt")
        report.kills += 1
        report.group_kills += group
        check_after_kill(ws, lines, intents, acked, kill, report)
    handle_stale_locks(ws, kills + 1, report)
    return report


def check_starts_normally(ws: Path) -> int:
    with RunStore(ws / ".promptbench" / "promptbench.db") as runs:
        count = runs.mark_interrupted()
        assert count >= 0
        assert runs.list_runs(status="running") == []
        assert runs.list_runs(status="interrupted", limit=1_000_000) or count == 0
    with sqlite3.connect(ws / ".promptbench" / "promptbench.db") as db:
        assert db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0] == 0
    db.close()
    with PromptStore(ws) as store:
        assert store.history(PROMPT)
        assert store.is_dirty(PROMPT) in (True, False)
        store.save(PROMPT, store.read_bytes(PROMPT).replace(b"name: Crash", b"name: Crash after"), "After the crashes")
        assert not store.is_dirty(PROMPT)
    return count


def test_sigkill_twenty_times_loses_nothing_acknowledged(workspace, openai_server, tmp_path):
    setup_server(openai_server)
    ws = workspace.root
    workspace.close()
    started = time.monotonic()
    report = crash_loop(ws, openai_server, kills=20, seed=20240611)
    interrupted = check_starts_normally(ws)
    print(f"\ncrash consistency: {report.kills} kills ({report.group_kills} of the whole process group) in "
          f"{time.monotonic() - started:.1f} s; acked {report.acked}; runs marked interrupted at start-up "
          f"{report.interrupted_at_start} + {interrupted} at the end; prompt dirty after {report.dirty_after_kill} kills; "
          f"max temp files {report.temp_files_max}; stale locks {report.stale_locks}")
    for probe in report.lock_probes:
        print("  next save after stale locks:", probe)
    assert not report.problems, report.problems
    assert report.kills == 20
    assert report.acked["vote"] > 0 and report.acked["run"] > 0 and report.acked["save"] > 0
