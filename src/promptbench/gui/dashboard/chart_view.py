"""The plot widget of a dashboard card: it lives on a scrolling page, so the mouse wheel
scrolls the page. The chart zooms with Ctrl+wheel, or with the wheel once it has been
clicked (until the mouse leaves it or another widget takes the focus). An empty chart
shows why it is empty, centred, instead of axes with meaningless ticks.

Imported only once pyqtgraph is loaded.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel

ZOOM_HINT = "Ctrl+wheel to zoom"
ZOOM_TIP = ("Hold Ctrl and turn the mouse wheel over the chart to zoom in or out (or click the chart first, "
            "then use the wheel); drag to move along. Without Ctrl the wheel scrolls the page.")  # fmt: skip


class ChartView(pg.PlotWidget):
    def __init__(self, parent=None, **kwargs):
        super().__init__(parent, **kwargs)
        self.engaged = False  # clicked, and the mouse has not left since: the wheel zooms
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.message = QLabel(self)
        self.message.setObjectName("chart-empty")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(placeholder-text); background: transparent;")
        self.message.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.message.hide()

    def sizeHint(self) -> QSize:  # noqa: N802
        """Its minimum height (a QGraphicsView asks for 480 px); it takes whatever more its card has."""
        return QSize(420, self.minimumHeight())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(160, self.minimumHeight())

    # -- why it is empty --------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self._place_message()

    def message_text(self) -> str:
        return self.message.text() if self.message.isVisibleTo(self) else ""

    def _place_message(self) -> None:
        if "message" not in self.__dict__:  # PlotWidget.__init__ resizes before the label exists
            return
        margin = 16
        self.message.setGeometry(self.rect().adjusted(margin, margin, -margin, -margin))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._place_message()

    # -- the wheel: the page's unless asked --------------------------------------------------
    def zooms_on_wheel(self, modifiers) -> bool:
        return bool(modifiers & Qt.KeyboardModifier.ControlModifier) or (self.engaged and self.hasFocus())

    def wheelEvent(self, event) -> None:  # noqa: N802
        if not self.zooms_on_wheel(event.modifiers()):
            event.ignore()  # goes on to the scroll area around the cards
            return
        super().wheelEvent(event)
        event.accept()  # at the zoom limit the page still does not scroll under the mouse

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.engaged = True
        super().mousePressEvent(event)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.engaged = False
        super().leaveEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.engaged = False
        super().focusOutEvent(event)
