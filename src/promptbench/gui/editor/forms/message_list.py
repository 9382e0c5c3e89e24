"""The messages section of the structured view: one card per message (role + content),
with add / remove / move up / move down."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QComboBox, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy,
                               QToolButton,
                               QVBoxLayout, QWidget)

from promptbench.core.prompts.promptfile import ROLES, Message
from promptbench.gui.editor.forms import edits
from promptbench.gui.editor.raw.yaml_highlighter import VariableHighlighter, is_dark


class GrowingTextEdit(QPlainTextEdit):
    """A plain-text box as tall as its text, between *min_lines* and *max_lines*."""

    def __init__(self, min_lines: int = 2, max_lines: int = 14, parent: QWidget | None = None):
        super().__init__(parent)
        self.min_lines, self.max_lines = min_lines, max_lines
        self.setTabChangesFocus(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self.updateGeometry())

    def sizeHint(self) -> QSize:  # noqa: N802
        lines = max(self.min_lines, min(self.max_lines, int(self.document().size().height()) or 1))
        margins = self.contentsMargins()
        frame = round(self.document().documentMargin() * 2) + margins.top() + margins.bottom()
        return QSize(super().sizeHint().width(), QFontMetrics(self.font()).lineSpacing() * lines + frame + 2)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(100, self.sizeHint().height())

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        # Lines are wrapped lazily, at paint time: grow or shrink once they are known.
        if self.sizeHint().height() != self.height():
            self.updateGeometry()


class MessageCard(QFrame):
    edited = Signal(object)

    def __init__(self, index: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = index
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.number = QLabel()
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.role.setMinimumContentsLength(9)
        self.role.currentTextChanged.connect(self._on_role_changed)
        self.up = QToolButton(text="▲", toolTip="Move up", autoRaise=True)
        self.down = QToolButton(text="▼", toolTip="Move down", autoRaise=True)
        self.remove = QToolButton(text="✕", toolTip="Remove this message", autoRaise=True)
        self.up.clicked.connect(lambda: self.edited.emit(edits.move_message(self.index, -1)))
        self.down.clicked.connect(lambda: self.edited.emit(edits.move_message(self.index, +1)))
        self.remove.clicked.connect(lambda: self.edited.emit(edits.remove_message(self.index)))
        self.content = GrowingTextEdit()
        self.content.setPlaceholderText("Message text; use {{name}} for variables")
        self._highlighter = VariableHighlighter(self.content.document(), is_dark(self.palette()))
        self.content.textChanged.connect(self._on_content_changed)
        head = QHBoxLayout()
        head.setSpacing(4)
        head.addWidget(self.number)
        head.addWidget(self.role)
        head.addStretch(1)
        for button in (self.up, self.down, self.remove):
            head.addWidget(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 8)
        column.setSpacing(4)
        column.addLayout(head)
        column.addWidget(self.content)

    def show_message(self, index: int, message: Message, count: int) -> None:
        self.index = index
        self.number.setText(f"#{index + 1}")
        self.up.setEnabled(index > 0)
        self.down.setEnabled(index < count - 1)
        self.role.blockSignals(True)
        if self.role.findText(message.role) < 0:
            self.role.addItem(message.role)
        self.role.setCurrentText(message.role)
        self.role.blockSignals(False)
        if self.content.toPlainText() != message.content:
            self.content.blockSignals(True)
            self.content.setPlainText(message.content)
            self.content.blockSignals(False)

    def _on_role_changed(self, role: str) -> None:
        if role in ROLES:
            self.edited.emit(edits.set_message(self.index, role=role))

    def _on_content_changed(self) -> None:
        self.edited.emit(edits.set_message(self.index, content=self.content.toPlainText()))


class MessageList(QWidget):
    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.cards: list[MessageCard] = []
        self._column = QVBoxLayout()
        self._column.setSpacing(8)
        self.add_role = QComboBox()
        self.add_role.addItems(ROLES)
        self.add_role.setCurrentText("user")
        add = QPushButton("Add message")
        add.clicked.connect(lambda: self.edited.emit(edits.add_message(self.add_role.currentText(), "")))
        footer = QHBoxLayout()
        footer.addWidget(add)
        footer.addWidget(self.add_role)
        footer.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._column)
        layout.addLayout(footer)

    def set_messages(self, messages: list[Message]) -> None:
        """Show *messages*, reusing the cards already there (keeps focus and cursor)."""
        while len(self.cards) > len(messages):
            card = self.cards.pop()
            self._column.removeWidget(card)
            card.deleteLater()
        while len(self.cards) < len(messages):
            card = MessageCard(len(self.cards))
            card.edited.connect(self.edited)
            self._column.addWidget(card)
            self.cards.append(card)
        for index, (card, message) in enumerate(zip(self.cards, messages)):
            card.show_message(index, message, len(messages))
