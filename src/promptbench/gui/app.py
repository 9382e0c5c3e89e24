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
    from promptbench.core.providers.litellm_setup import ensure_env

    ensure_env()  # before anything could import litellm: offline price map and tokenizers
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from promptbench.gui.runtime.crash_hook import install_crash_hook
    from promptbench.gui.runtime.resources import app_icon

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("promptbench")
    app.setOrganizationName("promptbench")
    app.setDesktopFileName("promptbench")
    app.setStyle("Fusion")  # follows the system light/dark colour scheme
    app.setWindowIcon(app_icon())
    from promptbench.gui.runtime.gc_guard import keep_gui_responsive

    collector = keep_gui_responsive(app)  # noqa: F841  (lives as long as the app)
    windows = AppWindows(QSettings())
    install_crash_hook(lambda: windows.window)
    start = workspace
    if start is None:
        last = windows.qsettings.value("lastWorkspace")
        if last and Path(str(last)).is_dir() and (Path(str(last)) / ".git").exists():
            start = Path(str(last))
    if not windows.open(start):
        return 2
    return app.exec()


class AppWindows:
    """The app's one main window, and opening another workspace in its place."""

    def __init__(self, qsettings, warm_up: bool = True):
        self.qsettings = qsettings
        self.window = None
        self._warm_up = warm_up
        self._opening = 0  # the newest request to open another workspace; older ones are dropped

    def open(self, path: Path | None) -> bool:
        """Open *path* (None: the sample workspace) in a new window that replaces the
        current one. False only when the very first window cannot open. With a window
        open, the folder is opened in its background tasks (git never runs on the GUI
        thread) and the new window replaces it when that is done."""
        from PySide6.QtWidgets import QMessageBox

        from promptbench.core.errors import PromptbenchError
        from promptbench.core.store.promptstore import PromptStore
        from promptbench.core.store.workspace import ensure_sample_workspace
        from promptbench.gui.workspace.picker import open_store

        old = self.window
        if old is not None and path is not None:
            self._opening += 1
            ticket = self._opening
            open_store(old, old.services.tasks, path, lambda store: self._on_store_opened(store, ticket))
            return True
        try:
            store = ensure_sample_workspace() if path is None else PromptStore(path)
        except PromptbenchError as exc:
            if old is None:
                print(f"promptbench: error: {exc}", file=sys.stderr)
                return False
            QMessageBox.warning(old, "Cannot open workspace", str(exc))
            return True
        self._show(store)
        return True

    def _on_store_opened(self, store, ticket: int) -> None:
        if store is not None and ticket != self._opening:  # another workspace was asked for meanwhile
            store.close()
        elif store is not None:
            self._show(store)

    def _show(self, store) -> None:
        """A new main window on ``store``, in place of the current one."""
        from PySide6.QtCore import QTimer

        from promptbench.core.applog import install_file_log
        from promptbench.core.errors import PromptbenchError
        from promptbench.gui.mainwindow import MainWindow
        from promptbench.gui.services import Services
        from promptbench.gui.workspace.picker import remember_workspace

        old = self.window
        remember_workspace(self.qsettings, store.root)
        services = Services(store)
        with contextlib.suppress(PromptbenchError):
            store.private_dir()  # before anything writes there: keep it out of git
        install_file_log(services.log_dir)
        window = MainWindow(services, self.qsettings)
        window.workspace_requested.connect(lambda p: self.switch(Path(p)))
        self.window = window
        window.show()
        if old is not None:
            old.close()
        if os.environ.get("PROMPTBENCH_STARTUP_REPORT"):
            # perf_counter is CLOCK_MONOTONIC: a parent process can subtract its own reading.
            print(f"PROMPTBENCH_SHOWN {time.perf_counter():.6f} litellm_imported={'litellm' in sys.modules}", file=sys.stderr, flush=True)
        if self._warm_up:
            QTimer.singleShot(0, lambda: warm_up(window.services))

    def switch(self, path: Path) -> None:
        """Open another workspace once the open prompt's unsaved edits are saved or
        discarded; a cancel (or a failed save) keeps this one open as it is."""
        if self.window is None:
            self.open(path)
            return
        self.window.leave_prompt(lambda: self.open(path), "open another workspace")


def warm_up(services):
    """Right after the window shows, load in the background what the first run would
    otherwise load while streams come in: litellm, the engine, tiktoken's two encodings. Their
    imports hold the GIL for long stretches (a C call is never interrupted), which stalls
    the GUI once here instead of in the middle of a comparison. Returns litellm's thread."""
    from promptbench.core.providers.litellm_setup import warm_up_in_background

    litellm_thread = warm_up_in_background()

    def engine_and_counters():
        from promptbench.core.providers.tokens import load_tiktoken

        services.engine()
        load_tiktoken()  # o200k_base and cl100k_base: the faster counter for a long session

    services.tasks.run(engine_and_counters, key="warm-engine")
    return litellm_thread
