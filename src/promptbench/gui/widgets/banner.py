"""A slim, non-modal message strip with optional action buttons (info / warning / error)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

_TINTS = {"info": "#1e88e5", "warning": "#f9a825", "error": "#e53935"}


class Banner(QFrame):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.kind = "info"
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(self.label.textInteractionFlags())
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(10, 6, 6, 6)
        self._row.setSpacing(6)
        self._row.addWidget(self.label, 1)
        self._buttons: list[QPushButton] = []
        self.hide()

    def show_message(self, text: str, kind: str = "info",
                     actions: list[tuple[str, Callable[[], None]]] | None = None) -> None:
        self.kind = kind
        self.label.setText(text)
        for button in self._buttons:
            self._row.removeWidget(button)
            button.deleteLater()
        self._buttons = []
        for title, callback in actions or []:
            button = QPushButton(title)
            button.clicked.connect(callback)
            self._row.addWidget(button)
            self._buttons.append(button)
        self.update()
        self.show()

    def button_texts(self) -> list[str]:
        return [b.text() for b in self._buttons]

    def click(self, title: str) -> None:
        """Press the action called *title* (for keyboard users' menus and tests)."""
        for button in self._buttons:
            if button.text() == title:
                button.click()
                return
        raise KeyError(title)

    def paintEvent(self, event) -> None:  # noqa: N802
        # Painted, not style-sheeted: a style sheet would change the palette it is computed from.
        tint = QColor(_TINTS.get(self.kind, _TINTS["info"]))
        base = self.palette().color(QPalette.ColorRole.Window)
        mix = 0.22 if base.lightness() < 128 else 0.14
        fill = QColor.fromRgbF(*(b + (t - b) * mix for b, t in zip(base.getRgbF()[:3], tint.getRgbF()[:3])))
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(tint)
        painter.setBrush(fill)
        painter.drawRoundedRect(self.rect().adjusted(0, 0, -1, -1), 4, 4)
        painter.end()
