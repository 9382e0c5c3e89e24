"""Choosing a workspace folder: recent list, folder dialog, and offering ``git init``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from promptbench.core.errors import PromptbenchError
from promptbench.core.store.gitrepo import run_git
from promptbench.core.store.promptstore import PromptStore
from promptbench.core.store.workspace import init_workspace

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


def open_store(parent: QWidget, folder: Path, confirm_init=None) -> PromptStore | None:
    """A PromptStore for ``folder``, offering to ``git init`` it; None if the user declined."""
    if run_git(folder, "rev-parse", "--git-dir", check=False).returncode != 0:
        ask = confirm_init or (lambda: QMessageBox.question(
            parent, "Not a git repository",
            f"{folder} is not a git repository.\n\npromptbench keeps every version of your prompts in git. "
            "Initialise a repository here?") == QMessageBox.StandardButton.Yes)
        if not ask():
            return None
        return init_workspace(folder)
    try:
        return PromptStore(folder)
    except PromptbenchError as exc:
        QMessageBox.warning(parent, "Cannot open workspace", str(exc))
        return None
