"""Choosing a workspace folder: recent list, folder dialog, and offering ``git init``."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from promptbench.core.errors import PromptbenchError
from promptbench.core.store.promptstore import PromptStore
from promptbench.core.store.workspace import init_workspace, is_repository

MAX_RECENT = 10


def recent_workspaces(settings: QSettings) -> list[str]:
    value = settings.value("recentWorkspaces", [])
    items = [value] if isinstance(value, str) else list(value or [])
    return [p for p in items if Path(p).is_dir()]


def remember_workspace(settings: QSettings, path: Path) -> None:
    items = [str(path)] + [p for p in recent_workspaces(settings) if p != str(path)]
    settings.setValue("recentWorkspaces", items[:MAX_RECENT])
    settings.setValue("lastWorkspace", str(path))


def ask_folder(parent: QWidget) -> Path | None:
    folder = QFileDialog.getExistingDirectory(parent, "Open workspace folder")
    return Path(folder) if folder else None


def open_store(parent: QWidget, tasks, folder: Path, done: Callable[[PromptStore | None], None],
               confirm_init=None) -> None:
    """Open ``folder`` as a workspace, offering to ``git init`` it first. Git runs in
    ``tasks`` (a TaskRunner), never on the GUI thread; ``done`` then gets the store, or None
    when the person declined or it could not be opened (a message box said why)."""
    def failed(exc: Exception) -> None:
        if not isinstance(exc, PromptbenchError):
            raise exc  # a bug, not a workspace problem: the crash hook reports it
        QMessageBox.warning(parent, "Cannot open workspace", str(exc))
        done(None)

    def probed(store: PromptStore | None) -> None:
        if store is not None:
            done(store)
            return
        ask = confirm_init or (lambda: QMessageBox.question(
            parent, "Not a git repository",
            f"{folder} is not a git repository.\n\npromptbench keeps every version of your prompts in git. "
            "Initialise a repository here?") == QMessageBox.StandardButton.Yes)
        if not ask():
            done(None)
            return
        tasks.run(lambda: init_workspace(folder), on_done=done, on_error=failed)

    tasks.run(lambda: _open_repository(folder), on_done=probed, on_error=failed)


def _open_repository(folder: Path) -> PromptStore | None:
    """The store of ``folder``, or None when it is a folder but no git repository (yet)."""
    if Path(folder).is_dir() and not is_repository(folder):
        return None
    return PromptStore(folder)  # a folder that is gone: PromptStore says so
