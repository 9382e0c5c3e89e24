"""Start the desktop app: QApplication, the workspace to open, the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run_app(workspace: Path | None = None) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("promptbench: error: no display found (DISPLAY is not set); run it on a desktop, or set QT_QPA_PLATFORM=offscreen", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from promptbench.core.errors import PromptbenchError
    from promptbench.core.store import PromptStore
    from promptbench.core.workspace import ensure_sample_workspace
    from promptbench.gui.mainwindow import MainWindow
    from promptbench.gui.resources import app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("promptbench")
    app.setOrganizationName("promptbench")
    app.setWindowIcon(app_icon())
    try:
        store = PromptStore(workspace) if workspace else ensure_sample_workspace()
    except PromptbenchError as exc:
        print(f"promptbench: error: {exc}", file=sys.stderr)
        return 2
    window = MainWindow(store)
    window.show()
    return app.exec()
