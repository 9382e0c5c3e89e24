"""The foundation window on a real workspace: save commits, rollback restores."""

from __future__ import annotations

from PySide6.QtCore import Qt

from promptbench.gui.mainwindow import MainWindow
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"


def test_edit_save_and_rollback(qtbot, workspace, monkeypatch):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.editor.setFocus()
    assert window.prompt_list.currentItem().text() == P
    assert window.editor.toPlainText() == SIMPLE_PROMPT

    window.editor.setPlainText(SIMPLE_PROMPT.replace("friendly", "concise"))
    qtbot.keyClick(window.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    history = workspace.history(P)
    assert window.status.text().startswith("Saved"), window.status.text()
    assert len(history) == 2 and "concise" in workspace.read_at(P, history[0].sha).decode()
    assert window.history_list.count() == 2

    window.history_list.setCurrentRow(0)  # the new version: diff against v1
    assert "+    content: You are concise." in window.diff_view.toPlainText()
    window.history_list.setCurrentRow(1)  # v1
    window.rollback_selected()
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT
    assert window.editor.toPlainText() == SIMPLE_PROMPT
    assert len(workspace.history(P)) == 3


def test_invalid_edit_shows_error_and_keeps_text(qtbot, workspace, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    workspace.save(P, SIMPLE_PROMPT, "v1")
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    window.editor.setPlainText("name: [broken\n")
    window.save()
    assert shown and P in shown[0] and "invalid YAML" in shown[0]
    assert window.editor.toPlainText() == "name: [broken\n"
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT
