"""Screenshots of the real app on the sample workspace, under a real X server.

Run: .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
Starts Xvfb when no DISPLAY is set (apt-get install xvfb libxcb-icccm4 libxcb-keysyms1
libxcb-cursor0), opens the app on a copy of the sample workspace with a few saved
versions, and saves, at 1280x800, every tab and Settings: editor.png, history.png (with a
diff), compare.png (a finished 3-model compare on the embedded local models), eval.png
(an eval of the same models), runs.png (that comparison opened), rank.png (its outputs
side by side, blind), leaderboard.png, dashboard.png and settings.png.

The leaderboard and the dashboard are shown with a history: synthetic votes and runs are
added to this throwaway workspace's database next to the real ones (nothing is written
to the repository's own files).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCAL_MODELS = ["local/smollm2-135m-instruct", "local/gemma3-270m", "smollm2-seed7"]


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    if not shutil.which("Xvfb"):
        sys.exit("Xvfb is not installed: apt-get install -y xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0")
    display = ":97"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return proc


def build_workspace(tmp: Path):
    from promptbench.core.store.workspace import init_workspace

    os.environ.update({"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com",
                       "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.com"})
    store = init_workspace(tmp / "promptbench-workspace", samples=True)
    toml = store.root / "promptbench.toml"
    toml.write_text(toml.read_text() + '\n[models.smollm2-seed7]\nmodel = "local/smollm2-135m-instruct"\nparams = { seed = 7 }\n')
    rel = "summarize.prompt.yml"
    text = store.read_bytes(rel).decode()
    store.set_label(rel, "production")
    text = text.replace("temperature: 0.2", "temperature: 0.4", 1) if "temperature: 0.2" in text else text
    store.save(rel, text, "Warmer sampling for livelier summaries")
    text2 = text.replace("Summarize", "Summarise", 1) if "Summarize" in text else text + "\n# tweak\n"
    store.save(rel, text2, "British spelling in the instructions")
    store.set_label(rel, "staging")
    return store


def add_votes(services, rel: str, models: list[str], n: int = 60) -> None:
    """Synthetic pairwise votes between the models on the current version (a stronger
    model wins more often), so the leaderboard has intervals worth showing."""
    import json
    import random

    from promptbench.core.ranking.votes import VoteStore

    version = services.store.history(rel)[0].sha
    rng = random.Random(7)
    strength = {m: 1.0 + i for i, m in enumerate(reversed(models))}
    lines = []
    for i in range(n):
        a, b = rng.sample(models, 2)
        p_a = strength[a] / (strength[a] + strength[b])
        roll = rng.random()
        winner = "tie" if roll > 0.9 else ("a" if roll < p_a * 0.9 else "b")
        side = {"prompt": rel, "version": version}
        lines.append(json.dumps({"a": {**side, "model": a}, "b": {**side, "model": b}, "winner": winner,
                                 "test_case": str(i % 3), "left": rng.choice("ab")}))
    VoteStore(services.runs()).import_jsonl(lines, source_name="screenshots.jsonl")


def wait(app, predicate, timeout_s: float, what: str) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if predicate() or time.monotonic() > deadline else None)
    timer.start(50)
    loop.exec()
    timer.stop()
    if not predicate():
        raise SystemExit(f"timed out waiting for {what}")


def grab(app, widget, path: Path) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(400, loop.quit)  # let the X server paint
    loop.exec()
    screen = widget.screen() or app.primaryScreen()
    pixmap = screen.grabWindow(widget.winId())
    if pixmap.isNull() or pixmap.width() < 10:
        pixmap = widget.grab()
    pixmap.save(str(path))
    print(f"saved {path} ({pixmap.width()}x{pixmap.height()})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    xvfb = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="pb-shots-"))
    os.environ["HOME"] = str(tmp)
    try:
        return shoot(out, tmp)
    finally:
        if xvfb:
            xvfb.terminate()


def shoot(out: Path, tmp: Path) -> int:
    from promptbench.core.providers.litellm_setup import ensure_env

    ensure_env()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from promptbench.gui.mainwindow import (TAB_COMPARE, TAB_DASHBOARD, TAB_EDIT, TAB_EVAL, TAB_HISTORY,
                                            TAB_LEADERBOARD, TAB_RUNS, MainWindow)
    from promptbench.gui.runtime.resources import app_icon
    from promptbench.gui.services import Services
    from promptbench.gui.settings import SettingsDialog

    app = QApplication(sys.argv)
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    store = build_workspace(tmp)
    qsettings = QSettings(str(tmp / "qsettings.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("welcome/closed", True)
    window = MainWindow(Services(store), qsettings)
    window.resize(1280, 800)
    window.show()
    rel = "summarize.prompt.yml"
    wait(app, lambda: rel in window.tree.paths(), 20, "the prompt list")
    window.tree.select(rel)
    wait(app, lambda: window.editor.current_rel() == rel and bool(window.editor.current_text()), 20, "the editor")
    window.editor.variables.select_test_case(0) if hasattr(window.editor, "variables") else None
    window.tabs.setCurrentIndex(TAB_EDIT)
    grab(app, window, out / "editor.png")

    window.tabs.setCurrentIndex(TAB_HISTORY)
    wait(app, lambda: window.history.is_idle() and window.history.current_prompt() == rel, 20, "the history")
    versions = store.history(rel)
    window.history.select_revs([versions[0].sha, versions[-1].sha])
    wait(app, window.history.is_idle, 20, "the diff")
    grab(app, window, out / "history.png")

    window.tabs.setCurrentIndex(TAB_COMPARE)
    picker = window.compare.picker
    wait(app, picker.is_loaded, 30, "the model list")
    picker.set_selected(LOCAL_MODELS)
    window.compare.run()
    wait(app, lambda: len(window.compare.panes()) == 3, 60, "the panes")
    wait(app, lambda: not window.compare.is_running(), 600, "the local models to finish")
    grab(app, window, out / "compare.png")

    window.tabs.setCurrentIndex(TAB_EVAL)
    wait(app, lambda: window.eval is not None and window.eval.is_loaded(), 60, "the eval setup")
    window.eval.setup_panel.set_models(LOCAL_MODELS[:2])
    window.eval.run()
    wait(app, lambda: window.eval.is_running(), 30, "the eval to start")
    wait(app, lambda: not window.eval.is_running(), 900, "the eval to finish")
    grab(app, window, out / "eval.png")

    window.tabs.setCurrentIndex(TAB_RUNS)
    window.runs.refresh()
    wait(app, lambda: window.runs.table.rowCount() > 0, 30, "the runs list")
    table = window.runs.table
    kind_column = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index("Kind")
    comparison_row = next(r for r in range(table.rowCount()) if table.item(r, kind_column).text() == "Comparison")
    table.selectRow(comparison_row)  # the 3-model compare (the eval's cells are listed too)
    wait(app, lambda: bool(window.runs.grid.panes()) if hasattr(window.runs.grid, "panes") else True, 30, "the runs")
    grab(app, window, out / "runs.png")

    window.rank_last_comparison()
    wait(app, lambda: window.rank.current is not None, 30, "the first pair")
    grab(app, window, out / "rank.png")
    keys = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3)
    for press in range(30):  # vote as a person would: 1, 2, 3 (a pair, or an order), Enter submits an order
        if window.rank.current is None:
            break
        QTest.keyClick(window.rank, keys[press % 3])
        if press % 3 == 2 and window.rank.current is not None:
            QTest.keyClick(window.rank, Qt.Key.Key_Return)
    wait(app, lambda: window.rank.unsaved_votes() == 0, 30, "the votes to be written")
    add_votes(window.services, rel, LOCAL_MODELS)
    window.tabs.setCurrentIndex(TAB_LEADERBOARD)
    wait(app, lambda: window.leaderboard is not None and window.leaderboard.board is not None, 60, "the leaderboard")
    grab(app, window, out / "leaderboard.png")

    # The dashboard with a realistic history: synthetic runs (8 models, 4 providers, 60 days)
    # added to this throwaway workspace's database, plus the real runs above.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from dashboard import populate

    populate(window.services.runs(), n=20_000, days=60)
    window.services.runs().flush()
    window.tabs.setCurrentIndex(TAB_DASHBOARD)
    wait(app, lambda: window.dashboard is not None and window.dashboard.is_idle(), 120, "the dashboard")
    grab(app, window, out / "dashboard.png")

    dialog = SettingsDialog(window.services, window)
    dialog.resize(1280, 800)
    dialog.show()
    grab(app, dialog, out / "settings.png")
    dialog.close()

    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
