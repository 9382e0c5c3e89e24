"""The whole main window on a real workspace: select, edit, save, roll back, close cleanly."""

from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QSettings, Qt

from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"


@pytest.fixture
def window(qtbot, workspace, tmp_path):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    services = Services(workspace, key_lookup=lambda m: None)
    settings = QSettings(str(tmp_path / "qsettings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(services, settings)
    qtbot.addWidget(win)
    with qtbot.waitActive(win):
        win.show()
        win.activateWindow()
    qtbot.waitUntil(lambda: win.editor.current_rel() == P and win.editor.current_text() == SIMPLE_PROMPT, timeout=10000)
    yield win
    win.close()
    del services
    gc.collect()


def test_opens_first_prompt_and_lists_tree(window):
    assert window.tree.paths() == [P]
    assert window.tree.current() == P


def test_ctrl_s_saves_a_commit_and_history_shows_it(qtbot, window, workspace):
    raw = window.editor.raw.editor
    raw.setPlainText(SIMPLE_PROMPT.replace("friendly", "concise"))
    raw.setFocus()
    qtbot.keyClick(raw, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(workspace.history(P)) == 2, timeout=10000)
    assert "concise" in (workspace.root / P).read_text()
    qtbot.waitUntil(lambda: "Saved" in window.status.text(), timeout=5000)


def test_rollback_from_history_reloads_editor(qtbot, window, workspace):
    workspace.save(P, SIMPLE_PROMPT.replace("friendly", "rude"), "v2")
    with qtbot.waitSignal(window.history.history_loaded, timeout=10000):
        window.history.refresh()
    qtbot.waitUntil(lambda: window.editor.current_text() != SIMPLE_PROMPT, timeout=10000)  # reloaded from disk
    v1 = workspace.history(P)[-1].sha
    with qtbot.waitSignal(window.history.rolled_back, timeout=10000):
        window.history.rollback_to(v1)
    qtbot.waitUntil(lambda: (workspace.root / P).read_text() == SIMPLE_PROMPT, timeout=10000)
    qtbot.waitUntil(lambda: window.editor.current_text() == SIMPLE_PROMPT, timeout=10000)
    assert len(workspace.history(P)) == 3


def test_close_leaves_no_engine_thread(qtbot, window):
    window.services.engine()  # started, as after a compare
    assert any(t.name == "promptbench-engine" for t in threading.enumerate())
    window.close()
    assert not any(t.name == "promptbench-engine" and t.is_alive() for t in threading.enumerate())



@pytest.mark.local_model
def test_close_stops_local_model_servers(qtbot, window):
    import os

    window.services.local().ensure("local/smollm2-135m-instruct")
    pid = window.services.local().status()["local/smollm2-135m-instruct"]["pid"]
    os.kill(pid, 0)  # running
    window.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
