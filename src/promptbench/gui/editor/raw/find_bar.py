"""A small find bar for a QPlainTextEdit: next / previous, wraps around, Esc closes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor, QTextDocument
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QToolButton, QWidget


class FindBar(QWidget):
    closed = Signal()

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = editor
        self.field = QLineEdit(placeholderText="Find")
        self.field.setClearButtonEnabled(True)
        self.field.setMinimumWidth(220)
        self.field.textEdited.connect(self._on_text_edited)
        self.field.returnPressed.connect(self.find_next)
        self.case = QCheckBox("Match case")
        self.status = QLabel()
        self.status.setMinimumWidth(80)
        previous = QToolButton(text="▲", toolTip="Previous match (Shift+Enter)", autoRaise=True)
        previous.clicked.connect(self.find_previous)
        following = QToolButton(text="▼", toolTip="Next match (Enter)", autoRaise=True)
        following.clicked.connect(self.find_next)
        close = QToolButton(text="✕", toolTip="Close (Esc)", autoRaise=True)
        close.clicked.connect(self.close_bar)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(6)
        row.addWidget(QLabel("Find:"))
        row.addWidget(self.field, 1)
        row.addWidget(previous)
        row.addWidget(following)
        row.addWidget(self.case)
        row.addWidget(self.status)
        row.addStretch(0)
        row.addWidget(close)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close_bar, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Shift+Return"), self.field, self.find_previous, context=Qt.ShortcutContext.WidgetShortcut)
        self.hide()

    def open_bar(self) -> None:
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.field.setText(selected)
        self.show()
        self.field.setFocus()
        self.field.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.editor.setFocus()
        self.closed.emit()

    def find_next(self) -> bool:
        return self._find(backward=False)

    def find_previous(self) -> bool:
        return self._find(backward=True)

    def _on_text_edited(self, _text: str) -> None:
        cursor = self.editor.textCursor()
        cursor.setPosition(cursor.selectionStart())  # search again from where the match began
        self.editor.setTextCursor(cursor)
        self.find_next()

    def _find(self, backward: bool) -> bool:
        needle = self.field.text()
        if not needle:
            self._show_status("")
            return False
        flags = QTextDocument.FindFlag(0)
        if backward:
            flags |= QTextDocument.FindFlag.FindBackward
        if self.case.isChecked():
            flags |= QTextDocument.FindFlag.FindCaseSensitively
        original = self.editor.textCursor()
        if self.editor.find(needle, flags):
            self._show_status("")
            return True
        # Wrap around once.
        cursor = self.editor.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End if backward else QTextCursor.MoveOperation.Start)
        self.editor.setTextCursor(cursor)
        if self.editor.find(needle, flags):
            self._show_status("wrapped")
            return True
        self.editor.setTextCursor(original)
        self._show_status("no matches", error=True)
        return False

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #e53935;" if error else "")
