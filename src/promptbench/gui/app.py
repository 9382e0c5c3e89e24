"""Start the desktop app: QApplication, the workspace to open, the main window.

Nothing slow happens before the window shows: litellm (~2-4 s of imports) and the
engine are warmed up in the background right after.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path


def run_app(workspace: Path | None = None) -> int:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("promptbench: error: no display found (DISPLAY is not set); run it on a desktop, or set QT_QPA_PLATFORM=offscreen", file=sys.stderr)
        return 2
    from promptbench.core.litellm_setup import ensure_env

    ensure_env()  # before anything could import litellm: offline price map and tokenizers
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from promptbench.core.applog import install_file_log
    from promptbench.core.errors import PromptbenchError
    from promptbench.gui.crash_hook import install_crash_hook
    from promptbench.gui.resources import app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("promptbench")
    app.setOrganizationName("promptbench")
    app.setDesktopFileName("promptbench")
    app.setStyle("Fusion")  # follows the system light/dark colour scheme
    app.setWindowIcon(app_icon())
    from promptbench.gui.gc_guard import keep_gui_responsive

    collector = keep_gui_responsive(app)  # noqa: F841  (lives as long as the app)
    qsettings = QSettings()
    holder: dict = {}
    install_crash_hook(lambda: holder.get("window"))

    def open_window(path: Path | None) -> bool:
        from promptbench.core.store import PromptStore
        from promptbench.core.workspace import ensure_sample_workspace
        from promptbench.gui.mainwindow import MainWindow
        from promptbench.gui.services import Services
        from promptbench.gui.workspace_picker import open_store, remember_workspace

        try:
            if path is None:
                store = ensure_sample_workspace()
            elif holder:
                store = open_store(holder["window"], path)
            else:
                store = PromptStore(path)
        except PromptbenchError as exc:
            if not holder:
                print(f"promptbench: error: {exc}", file=sys.stderr)
                return False
            QMessageBox.warning(holder["window"], "Cannot open workspace", str(exc))
            return True
        if store is None:
            return True
        remember_workspace(qsettings, store.root)
        services = Services(store)
        with contextlib.suppress(PromptbenchError):
            store.private_dir()  # before anything writes there: keep it out of git
        install_file_log(services.log_dir)
        window = MainWindow(services, qsettings)
        window.workspace_requested.connect(lambda p: switch(Path(p)))
        old = holder.get("window")
        holder["window"] = window
        window.show()
        if old is not None:
            old.close()
        if os.environ.get("PROMPTBENCH_STARTUP_REPORT"):
            # perf_counter is CLOCK_MONOTONIC: a parent process can subtract its own reading.
            print(f"PROMPTBENCH_SHOWN {time.perf_counter():.6f} litellm_imported={'litellm' in sys.modules}", file=sys.stderr, flush=True)
        QTimer.singleShot(0, lambda: _warm_up(window))
        return True

    def switch(path: Path) -> None:
        old = holder.get("window")
        if old is None:
            open_window(path)
            return
        # The open prompt's unsaved edits are saved or discarded first (or the switch is cancelled).
        old.leave_prompt(lambda: open_window(path), "open another workspace")

    start = workspace
    if start is None:
        last = qsettings.value("lastWorkspace")
        if last and Path(str(last)).is_dir() and (Path(str(last)) / ".git").exists():
            start = Path(str(last))
    if not open_window(start):
        return 2
    return app.exec()


def _warm_up(window) -> None:
    from promptbench.core.litellm_setup import warm_up_in_background

    warm_up_in_background()
    window.services.tasks.run(window.services.engine, key="warm-engine")
