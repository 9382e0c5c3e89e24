"""The real app (main window, editor, compare view) SIGKILLed at random moments while it streams
and saves, 8 times in a row: afterwards the database and the repository are intact, nothing
acknowledged is lost, no prompt file is torn, the real entry point starts normally, and the
runs cut off show as interrupted."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT
from tests.gui.test_compare import MODELS, P, catalog

CHILD = Path(__file__).with_name("app_kill_child.py")
REPO = Path(__file__).resolve().parents[2]
WAIT_S = 60
KILLS = 8


def env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "PROMPTBENCH_STARTUP_REPORT": "1"}


def read_until(proc: subprocess.Popen, stream, prefix: str, got: list[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"process ended (code {proc.wait()}) before printing {prefix!r}: {got}")
        got.append(line.strip())
        if line.startswith(prefix):
            return
    raise AssertionError(f"no {prefix!r} within {WAIT_S} s")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def git(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ws, capture_output=True, text=True)


def check_after_kill(ws: Path, lines: list[str], intents: set[str], acked: list[str], kill: int) -> None:
    assert not [ln for ln in lines if ln.startswith("NOTSAVED")], f"kill {kill}: a save failed: {lines}"
    for line in lines:
        kind, *rest = line.split()
        if kind == "INTENT":
            intents.add(rest[0])
        elif kind == "ACK":
            acked.append(rest[1])
    with sqlite3.connect(ws / ".promptbench" / "promptbench.db") as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)], f"kill {kill}: database damaged"
    raw.close()
    fsck = git(ws, "fsck", "--no-dangling", "--no-progress")
    assert fsck.returncode == 0 and "error" not in fsck.stdout + fsck.stderr, f"kill {kill}: {fsck.stderr}"
    reachable = set(git(ws, "rev-list", "HEAD").stdout.split())
    assert set(acked) <= reachable, f"kill {kill}: acknowledged saves lost: {set(acked) - reachable}"
    on_disk = hashlib.sha1((ws / P).read_bytes()).hexdigest()
    assert on_disk in intents, f"kill {kill}: {P} holds bytes nobody wrote (torn?)"


def test_app_killed_at_random_while_streaming_and_saving_starts_normally(qtbot, workspace, openai_server, tmp_path):
    for name in MODELS:  # long streams: runs are always in flight when the kill lands
        openai_server.set_scenario(name, chunks=[f"{name} token "] * 400, chunk_interval_s=0.05)
    (workspace.root / "promptbench.toml").write_text(catalog(openai_server.base_url).replace('mode = "sequential"', 'mode = "parallel"'))
    workspace.save(P, SIMPLE_PROMPT, "greeter")
    ws = workspace.root
    workspace.close()
    rng = random.Random(20261123)
    intents, acked = {hashlib.sha1(SIMPLE_PROMPT.encode()).hexdigest()}, []

    for kill in range(1, KILLS + 1):
        child = subprocess.Popen([sys.executable, str(CHILD), str(ws), str(kill)], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True, env=env(), start_new_session=True)
        lines: list[str] = []
        try:
            read_until(child, child.stdout, "STREAMING", lines)
            time.sleep(rng.uniform(0.05, 1.0))
        finally:
            kill_group(child)
        lines += [ln.strip() for ln in child.stdout.read().splitlines()]
        child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        check_after_kill(ws, lines, intents, acked, kill)
    print(f"\nreal app SIGKILLed {KILLS} times: {len(acked)} saves acknowledged and found in history, "
          f"{len(intents) - 1} saves attempted, database and repository intact after each")
    assert acked, "no save was acknowledged before any kill: the test did not exercise saving"

    # The real entry point starts normally on that workspace (twice: the first one is killed too).
    for attempt in range(2):
        app = subprocess.Popen([sys.executable, "-m", "promptbench", "--workspace", str(ws), "app"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=env(), start_new_session=True, cwd=str(tmp_path))
        got: list[str] = []
        try:
            read_until(app, app.stderr, "PROMPTBENCH_SHOWN", got)
        finally:
            kill_group(app)
        app.stderr.close()

    # In-process, the same start-up path: the Runs tab lists one comparison per kill, all interrupted.
    from promptbench.core.store.promptstore import PromptStore

    store = PromptStore(ws)
    win = MainWindow(Services(store, key_lookup=lambda m: None), QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.runs)
    runs = win.runs
    qtbot.waitUntil(lambda: runs.table.rowCount() == KILLS, timeout=WAIT_S * 1000)
    assert {runs.table.item(row, 4).text() for row in range(KILLS)} == {"3 interrupted"}
    runs.table.selectRow(0)
    qtbot.waitUntil(lambda: len(runs.grid.panes()) == 3, timeout=WAIT_S * 1000)
    for pane in runs.grid.panes():
        assert pane.state.status == "interrupted" and "closed before this run ended" in pane.state.error_message
    with sqlite3.connect(ws / ".promptbench" / "promptbench.db") as raw:
        assert raw.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (0,)
    raw.close()
    qtbot.waitUntil(lambda: win.editor.current_rel() == P and not win.editor._loading, timeout=WAIT_S * 1000)
    assert (ws / P).read_bytes().decode() == win.editor.current_text()  # the editor opens the file as the kill left it
    win.close()
    store.close()
