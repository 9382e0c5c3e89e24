"""The victim of tests/gui/test_start_after_kill.py: the real main window at work until SIGKILLed.

Usage: ``python tests/gui/app_kill_child.py WORKSPACE SEED`` (QT_QPA_PLATFORM=offscreen).
Opens WORKSPACE in the app's MainWindow (Services, editor, compare view: the app's own
code paths), starts a comparison of the catalog's default models as soon as the model
picker is ready and a new one whenever one ends, and saves the prompt through the editor
over and over. One flushed line per event:

- ``STREAMING <panes>``          text has arrived in a pane (the parent may kill from now on)
- ``INTENT <sha1>``              the editor is about to save these bytes
- ``ACK save <commit> <sha1>``   the editor reported the save done (``prompt_saved``)
- ``NOTSAVED <message>``         the editor reported a save failed
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from promptbench.core.store.promptstore import PromptStore
from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    workspace, seed = Path(argv[1]), int(argv[2]) if len(argv) > 2 else 0
    rng = random.Random(seed)
    app = QApplication(argv[:1])
    services = Services(PromptStore(workspace), key_lookup=lambda m: None)
    window = MainWindow(services, QSettings(str(workspace.parent / "child-qsettings.ini"), QSettings.Format.IniFormat))
    window.show()
    editor, compare = window.editor, window.compare
    state = {"announced": False, "running": False, "saving": None, "n": 0}

    def on_saved(rel: str, sha: str) -> None:
        if state["saving"] is not None:
            say(f"ACK save {sha} {state['saving']}")
            state["saving"] = None

    def on_finished(_comparison_id: str) -> None:
        state["running"] = False

    def on_status(message: str) -> None:
        if message.startswith("Not saved") and state["saving"] is not None:
            say(f"NOTSAVED {message}")
            state["saving"] = None

    editor.prompt_saved.connect(on_saved)
    compare.comparison_finished.connect(on_finished)
    editor.status_posted.connect(on_status)

    def tick() -> None:
        if not editor.current_rel() or not compare.picker.is_loaded():
            return
        if not state["running"]:
            state["running"] = True
            compare.run()
        if not state["announced"] and any(p.output_text() for p in compare.panes()):
            state["announced"] = True
            say(f"STREAMING {len(compare.panes())}")
        if state["announced"] and state["saving"] is None and rng.random() < 0.5:
            state["n"] += 1
            text = editor.current_text()
            lines = text.split("\n")
            lines[2] = f"description: seed {seed} save {state['n']} " + "x" * rng.randint(0, 3000)
            editor.raw.editor.setPlainText("\n".join(lines))
            data = editor.current_text().encode()
            state["saving"] = hashlib.sha1(data).hexdigest()
            say(f"INTENT {state['saving']}")
            editor.save(f"Kill test save {seed}/{state['n']}")

    timer = QTimer(interval=20, timeout=tick)
    timer.start()
    QTimer.singleShot(60_000, app.quit)  # never outlives a parent that failed to kill it
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
