"""The app is SIGKILLed while it streams a comparison: afterwards the database is intact, the
app starts normally (the real entry point, twice), and the runs cut off show as interrupted."""

from __future__ import annotations

import os
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


def env() -> dict[str, str]:
    return {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO),
            "PROMPTBENCH_STARTUP_REPORT": "1", "HOME": os.environ.get("HOME", "/tmp")}


def wait_line(proc: subprocess.Popen, stream, prefix: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise AssertionError(f"process ended (code {proc.wait()}) before printing {prefix!r}")
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"no {prefix!r} within {WAIT_S} s")


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def test_app_killed_mid_stream_starts_normally_and_shows_interrupted_runs(qtbot, workspace, openai_server, tmp_path):
    for name in MODELS:  # long streams: every run is still going when the kill lands
        openai_server.set_scenario(name, chunks=[f"{name} token "] * 400, chunk_interval_s=0.05)
    (workspace.root / "promptbench.toml").write_text(catalog(openai_server.base_url).replace('mode = "sequential"', 'mode = "parallel"'))
    workspace.save(P, SIMPLE_PROMPT, "greeter")
    ws = workspace.root
    workspace.close()

    child = subprocess.Popen([sys.executable, str(CHILD), str(ws)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=env(), start_new_session=True)
    try:
        wait_line(child, child.stdout, "STREAMING")
    finally:
        kill_group(child)
    assert child.returncode == -signal.SIGKILL

    db = ws / ".promptbench" / "promptbench.db"
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        left = raw.execute("SELECT model_name FROM runs WHERE status = 'running'").fetchall()
    raw.close()
    assert sorted(m for (m,) in left) == sorted(MODELS)  # cut off mid-stream, as the kill left them

    # The real entry point starts normally on that workspace, twice (the first one killed too).
    for attempt in range(2):
        app = subprocess.Popen([sys.executable, "-m", "promptbench", "--workspace", str(ws), "app"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, env=env(), start_new_session=True, cwd=str(tmp_path))
        try:
            line = wait_line(app, app.stderr, "PROMPTBENCH_SHOWN")
        finally:
            kill_group(app)
        assert "PROMPTBENCH_SHOWN" in line, f"start {attempt + 1}"

    # In-process, the same start-up path: the Runs tab shows the cut-off runs as interrupted.
    from promptbench.core.store import PromptStore

    store = PromptStore(ws)
    win = MainWindow(Services(store, key_lookup=lambda m: None), QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.runs)
    runs = win.runs
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=WAIT_S * 1000)
    assert runs.table.item(0, 4).text() == "3 interrupted"
    runs.table.selectRow(0)
    qtbot.waitUntil(lambda: len(runs.grid.panes()) == 3, timeout=WAIT_S * 1000)
    for pane in runs.grid.panes():
        assert pane.state.status == "interrupted" and "closed before this run ended" in pane.state.error_message
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (0,)
    raw.close()
    win.close()
    store.close()
