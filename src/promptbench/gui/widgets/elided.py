"""A one-line label that shows "…" when it is too narrow instead of cutting text off."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """Never asks for more width than it has, so a long model or prompt name does not widen
    the window. ``text()`` keeps the whole text, ``shown_text()`` is what fits; with
    ``tooltip`` the whole text is also its tooltip. ``mode``: where the "…" goes."""

    def __init__(self, text: str = "", parent: QWidget | None = None, tooltip: bool = True,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle):  # fmt: skip
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.mode = mode
        self._tooltip = tooltip
        if tooltip:
            self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        if self._tooltip:
            self.setToolTip(text)

    def minimumSizeHint(self):  # noqa: N802
        hint = super().minimumSizeHint()
        hint.setWidth(min(hint.width(), QFontMetrics(self.font()).horizontalAdvance("…" * 6)))
        return hint

    def shown_text(self) -> str:
        return QFontMetrics(self.font()).elidedText(self.text(), self.mode, max(self.contentsRect().width(), 0))

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        align = self.alignment() | Qt.AlignmentFlag.AlignVCenter  # the palette's colour, style sheets included
        self.style().drawItemText(painter, self.contentsRect(), int(align), self.palette(), self.isEnabled(),
                                  self.shown_text(), self.foregroundRole())
        painter.end()
