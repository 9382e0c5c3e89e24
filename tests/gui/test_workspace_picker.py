"""Opening another workspace from the app: git runs in background tasks, never on the GUI
thread; a folder that is no repository is initialised only when the person agrees."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QWidget

from promptbench.core.store import gitrepo
from promptbench.core.store import workspace as workspace_mod
from promptbench.core.store.promptstore import PromptStore
from promptbench.gui.runtime.tasks import TaskRunner
from promptbench.gui.workspace.picker import open_store
from tests.gui.unsaved_helpers import answer_dialog


@pytest.fixture
def git_threads(monkeypatch):
    """The thread of every git command run while opening (True: the GUI thread)."""
    seen: list[bool] = []
    for module in (gitrepo, workspace_mod):
        real = module.run_git

        def recording(*args, _real=real, **kw):
            seen.append(threading.current_thread() is threading.main_thread())
            return _real(*args, **kw)

        monkeypatch.setattr(module, "run_git", recording)
    return seen


def _open(qtbot, folder, confirm_init=None):
    parent, tasks, got = QWidget(), TaskRunner(), []
    qtbot.addWidget(parent)
    open_store(parent, tasks, folder, got.append, confirm_init)
    returned_first = not got  # the git work is still running in a task
    qtbot.waitUntil(lambda: bool(got), timeout=15000)
    tasks.close()
    return got[0], returned_first


def test_a_repository_opens_with_git_off_the_gui_thread(qtbot, workspace, git_threads):
    asked = []
    store, returned_first = _open(qtbot, workspace.root, confirm_init=lambda: asked.append(1) or True)
    try:
        assert isinstance(store, PromptStore) and store.root == workspace.root
        assert store.git_dir == workspace.root / ".git"
    finally:
        store.close()
    assert returned_first and not asked
    assert git_threads and not any(git_threads), git_threads  # git ran, never on the GUI thread


def test_a_plain_folder_is_initialised_only_when_the_person_agrees(qtbot, tmp_path, git_threads):
    folder = tmp_path / "notes"
    folder.mkdir()
    declined, _ = _open(qtbot, folder, confirm_init=lambda: False)
    assert declined is None and not (folder / ".git").exists()

    store, _ = _open(qtbot, folder, confirm_init=lambda: True)
    try:
        assert store.root == folder and store.git_dir == folder / ".git"
        assert (folder / "promptbench.toml").is_file() and ".promptbench/" in (folder / ".gitignore").read_text()
    finally:
        store.close()
    assert git_threads and not any(git_threads), git_threads


def test_a_folder_that_is_gone_is_said_so(qtbot, tmp_path):
    seen: list[str] = []
    answer_dialog("OK", seen=seen)
    store, _ = _open(qtbot, tmp_path / "gone", confirm_init=lambda: True)
    assert store is None
    assert seen and "does not exist" in seen[0], seen
    assert not (tmp_path / "gone").exists()
