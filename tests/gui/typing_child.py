"""The victim of the SIGKILL journey test: the real main window, a person typing into it.

Usage: ``python tests/gui/typing_child.py WORKSPACE QSETTINGS TEXT`` (QT_QPA_PLATFORM set by
the parent). Opens WORKSPACE in the app's MainWindow, clicks into the first message of the
prompt it opens and types TEXT at its end, one key every 40 ms. Prints, flushed:

- ``READY <prompt>``           the prompt is open
- ``TYPED <json text>``        the last key went in; the editor's text as a save would write it
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from promptbench.core.store.promptstore import PromptStore
from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    workspace, qsettings, text = Path(argv[1]), argv[2], argv[3]
    app = QApplication(argv[:1])
    window = MainWindow(Services(PromptStore(workspace), key_lookup=lambda m: None),
                        QSettings(qsettings, QSettings.Format.IniFormat))
    window.show()
    editor = window.editor
    keys = list(text)

    def start() -> None:
        if editor.current_rel() is None or editor._loading or not editor.structured.messages.cards:
            QTimer.singleShot(50, start)
            return
        say(f"READY {editor.current_rel()}")
        box = editor.structured.messages.cards[0].content
        box.setFocus()
        box.moveCursor(QTextCursor.MoveOperation.End)
        QTimer.singleShot(40, lambda: press(box))

    def press(box) -> None:
        if not keys:
            say("TYPED " + json.dumps(editor.current_text()))
            return
        key = keys.pop(0)
        if key == "\n":
            QTest.keyClick(box, Qt.Key.Key_Return)
        else:
            QTest.keyClicks(box, key)
        QTimer.singleShot(40, lambda: press(box))

    QTimer.singleShot(0, start)
    QTimer.singleShot(120_000, app.quit)  # never outlives a parent that failed to kill it
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
