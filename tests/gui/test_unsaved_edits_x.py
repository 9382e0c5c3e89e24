"""What is drawn, on a real X server at 1024x700: the recovery bar and its buttons fit, the
unsaved-edits question takes the focus and gives it back, the identity dialog fits."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QPushButton

from tests.conftest import SIMPLE_PROMPT
from tests.gui.test_unsaved_edits import A, B, write_orphan_draft
from tests.gui.unsaved_helpers import close_window, open_window, type_into

pytestmark = [pytest.mark.xserver, pytest.mark.journey]


@pytest.fixture
def ws(workspace):
    workspace.save(A, SIMPLE_PROMPT, "alpha v1")
    workspace.save(B, SIMPLE_PROMPT.replace("Greeter", "Other"), "beta v1")
    return workspace


def inside(widget, window) -> bool:
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return QRect(top_left, widget.size()) == QRect(top_left, widget.size()).intersected(window.rect())


def not_clipped(widget) -> bool:
    if isinstance(widget, QLabel) and widget.wordWrap():
        return widget.height() >= widget.heightForWidth(widget.width())
    hint = widget.sizeHint()
    return widget.width() >= hint.width() and widget.height() >= hint.height() - 2


def test_the_recovery_bar_fits_at_1024x700(qtbot, ws, tmp_path):
    write_orphan_draft(ws, A, SIMPLE_PROMPT.replace("Says hello", "Recovered " * 30), SIMPLE_PROMPT)
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        win.resize(1024, 700)
        qtbot.waitUntil(lambda: win.width() == 1024, timeout=5000)
        qtbot.wait(200)
        banner = win.editor.banner
        assert banner.isVisible() and win.editor.banner_reason() == "recovered"
        assert not_clipped(banner.label), "the recovery text is cut off"
        buttons = [b for b in banner.findChildren(QPushButton) if b.isVisible()]
        assert [b.text() for b in buttons] == ["Keep", "Discard", "Show diff"]
        for button in buttons:
            assert inside(button, win) and not_clipped(button), button.text()
        assert win.windowTitle().startswith(f"{A}*") or "*" in win.windowTitle()  # X draws the modified mark
    finally:
        close_window(win)


def test_the_unsaved_question_takes_the_focus_and_cancel_gives_it_back(qtbot, ws, tmp_path):
    win = open_window(qtbot, ws, tmp_path / "q.ini", select=A)
    try:
        win.resize(1024, 700)
        field = win.editor.structured.name
        type_into(qtbot, field, "!")
        seen = {}

        def look() -> None:
            box = QApplication.activeModalWidget()
            if box is None or not box.isActiveWindow():  # a real window manager activates it a little later
                QTimer.singleShot(20, look)
                return
            seen["title"] = box.windowTitle()
            seen["buttons"] = sorted(b.text().replace("&", "") for b in box.findChildren(QAbstractButton) if b.isVisible())
            seen["focus"] = QApplication.focusWidget().text().replace("&", "") if isinstance(QApplication.focusWidget(), QAbstractButton) else None
            seen["on_screen"] = box.screen().geometry().contains(box.frameGeometry())
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
        QTimer.singleShot(0, look)
        qtbot.keyClick(field, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: "focus" in seen, timeout=10000)
        assert seen["title"] == "Unsaved edits" and seen["buttons"] == ["Cancel", "Discard", "Save"]
        assert seen["focus"] == "Save" and seen["on_screen"]
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=5000)
        assert win.isVisible() and win.editor.is_dirty()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=5000)
    finally:
        close_window(win)


def test_the_identity_dialog_fits_and_starts_in_the_name_field(qtbot, ws, tmp_path):
    from PySide6.QtCore import QSettings

    from promptbench.gui.workspace.identity_dialog import IdentityDialog

    dialog = IdentityDialog(str(ws.root), QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    assert dialog.width() <= 1024 and dialog.height() <= 700
    for widget in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton):
        if widget.isVisible():
            assert not_clipped(widget), widget.text()
    assert isinstance(QApplication.focusWidget(), QLineEdit) and QApplication.focusWidget() is dialog.name
    dialog.reject()
