"""Helpers for journey tests: a real main window on a real workspace, answering its dialogs
the way a person does (clicking the button by its text)."""

from __future__ import annotations

import gc
from collections.abc import Callable

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services


def open_window(qtbot, store, qsettings_path, instance: str | None = None, select: str | None = None) -> MainWindow:
    services = Services(store, key_lookup=lambda m: None, instance=instance)
    settings = QSettings(str(qsettings_path), QSettings.Format.IniFormat)
    if select:
        settings.setValue(f"lastPrompt/{store.root}", select)
    window = MainWindow(services, settings)
    qtbot.addWidget(window, before_close_func=lambda w: w.editor.discard_edits())
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.waitUntil(lambda: window.editor.current_rel() is not None and not window.editor._loading, timeout=15000)
    return window


def close_window(window: MainWindow) -> None:
    while QApplication.activeModalWidget() is not None:  # a question a failed test left open
        QApplication.activeModalWidget().reject()
    window.editor.discard_edits()
    window.close()
    gc.collect()


def answer_dialog(button: str, fill: Callable[[QWidget], None] | None = None, seen: list | None = None) -> None:
    """Click *button* in the next modal dialog, after *fill*(dialog) if given. Records the
    dialog's texts in *seen*."""
    def act(tries: int = 0) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            if tries < 500:
                QTimer.singleShot(10, lambda: act(tries + 1))
            return
        if seen is not None:
            seen.append(dialog_text(dialog))
        if fill is not None:
            fill(dialog)
        for candidate in dialog.findChildren(QAbstractButton):
            if candidate.text().replace("&", "") == button and candidate.isVisible():
                candidate.click()
                return
        raise AssertionError(f"no button {button!r} in {dialog.windowTitle()!r}: "
                             f"{[b.text() for b in dialog.findChildren(QAbstractButton)]}")
    QTimer.singleShot(0, act)


def dialog_text(dialog: QWidget) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in dialog.findChildren(QLabel) if label.text())


def type_into(qtbot, widget, text: str) -> None:
    """Type *text* key by key (Enter for a line break), as a person at the keyboard."""
    from PySide6.QtCore import Qt

    from PySide6.QtWidgets import QLineEdit

    widget.setFocus()
    if isinstance(widget, QLineEdit):
        widget.end(False)  # a person clicks after the last character (a field shows its text from the start)
    for char in text:
        if char == "\n":
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        else:
            qtbot.keyClicks(widget, char)
