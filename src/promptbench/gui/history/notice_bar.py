"""A one-line message above the diff, with an optional action button (e.g. Undo)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from promptbench.gui.history.theme import change_color


class NoticeBar(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._on_action_clicked)
        close = QToolButton(text="✕", autoRaise=True, toolTip="Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(close)
        self._action: Callable[[], None] | None = None
        self.hide()

    def show_notice(self, text: str, *, error: bool = False, action_text: str = "",
                    action: Callable[[], None] | None = None) -> None:
        self.label.setText(text)
        palette = self.label.palette()
        default = self.palette().color(QPalette.ColorRole.WindowText)
        palette.setColor(QPalette.ColorRole.WindowText, change_color("removed", self.palette()) if error else default)
        self.label.setPalette(palette)
        self._action = action
        self.action_button.setText(action_text)
        self.action_button.setVisible(bool(action))
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def has_action(self) -> bool:
        return self._action is not None

    def dismiss(self) -> None:
        self._action = None
        self.hide()

    def _on_action_clicked(self) -> None:
        action, self._action = self._action, None
        self.action_button.hide()
        if action:
            action()
