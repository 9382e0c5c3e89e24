"""The victim of tests/gui/test_start_after_kill.py: the real main window streaming a comparison.

Usage: ``python tests/gui/app_kill_child.py WORKSPACE`` (QT_QPA_PLATFORM=offscreen).
Opens WORKSPACE in the app's MainWindow, starts a comparison of the catalog's default
models as soon as the model picker is ready, and prints ``STREAMING <comparison id>``
once text has arrived in a pane, so the parent can SIGKILL it mid-stream.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from promptbench.core.store import PromptStore
from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services


def main(argv: list[str]) -> int:
    workspace = Path(argv[1])
    app = QApplication(argv[:1])
    services = Services(PromptStore(workspace), key_lookup=lambda m: None)
    window = MainWindow(services, QSettings(str(workspace.parent / "child-qsettings.ini"), QSettings.Format.IniFormat))
    window.show()
    state = {"started": None}

    def tick() -> None:
        compare = window.compare
        if state["started"] is None and window.editor.current_rel() and compare.picker.is_loaded():
            compare.run()
            state["started"] = ""
        panes = compare.panes()
        if state["started"] == "" and any(p.output_text() for p in panes):
            state["started"] = "announced"
            print(f"STREAMING {len(panes)}", flush=True)

    timer = QTimer(interval=20, timeout=tick)
    timer.start()
    QTimer.singleShot(60_000, app.quit)  # never outlives a parent that failed to kill it
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
