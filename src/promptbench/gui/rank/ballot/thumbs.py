"""Thumbs up / down on one output, written in a task; reusable by any pane that shows a run.

``ThumbsButtons(services, run_id=..., contestant=...)``: with only a run id the core takes
the prompt, version and model from the run. The buttons show "saving" while the write
runs, stay checked once it is on disk, and turn red with the error (click again to
retry) if it failed. Thumbs are added, never replaced: each click is one more thumb.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPalette, QPixmap, QTransform
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.votes import VoteStore

_ICON_PX = 32


def thumb_icon(color: QColor, up: bool = True) -> QIcon:
    """A thumb drawn with a painter path (no emoji font needed)."""
    pixmap = QPixmap(_ICON_PX, _ICON_PX)
    pixmap.fill(Qt.GlobalColor.transparent)
    path = QPainterPath()
    path.addRoundedRect(QRectF(3, 14, 6, 15), 1.5, 1.5)                    # cuff
    hand = QPainterPath()
    hand.moveTo(11, 14)
    hand.lineTo(16, 4.5)
    hand.cubicTo(QPointF(17.5, 2), QPointF(21.5, 3), QPointF(20.5, 7))    # thumb tip
    hand.lineTo(19, 13)
    hand.lineTo(27, 13)
    hand.cubicTo(QPointF(30, 13), QPointF(30.5, 16), QPointF(29.5, 18))
    hand.lineTo(26.5, 27)
    hand.cubicTo(QPointF(26, 28.5), QPointF(25, 29), QPointF(23.5, 29))
    hand.lineTo(11, 29)
    hand.closeSubpath()
    path.addPath(hand)
    if not up:
        path = QTransform(1, 0, 0, -1, 0, _ICON_PX).map(path)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillPath(path, color)
    painter.end()
    return QIcon(pixmap)


class ThumbsButtons(QWidget):
    thumb_recorded = Signal(str, int)   # thumb id, +1 / -1
    thumb_failed = Signal(str)          # error message

    def __init__(self, services, run_id: str | None = None, contestant: Contestant | None = None,
                 test_case: str | int | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.run_id, self.contestant, self.test_case = run_id, contestant, test_case
        self._generation = 0
        color = self.palette().color(QPalette.ColorRole.ButtonText)
        self.up = self._button(thumb_icon(color, True), "Good output: add a thumb up")
        self.down = self._button(thumb_icon(color, False), "Bad output: add a thumb down")
        self.up.clicked.connect(lambda: self._on_clicked(1))
        self.down.clicked.connect(lambda: self._on_clicked(-1))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.up)
        layout.addWidget(self.down)
        self._update_enabled()

    def _button(self, icon: QIcon, tip: str) -> QToolButton:
        button = QToolButton(icon=icon, checkable=True, autoRaise=True)
        button.setIconSize(QSize(16, 16))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        button.setProperty("base_tip", tip)
        return button

    def set_target(self, run_id: str | None = None, contestant: Contestant | None = None,
                   test_case: str | int | None = None) -> None:
        """Point the buttons at another output (results of writes for the old one are ignored)."""
        self.run_id, self.contestant, self.test_case = run_id, contestant, test_case
        self._generation += 1
        for button in (self.up, self.down):
            button.setChecked(False)
            button.setStyleSheet("")
            button.setToolTip(button.property("base_tip"))
        self._update_enabled()

    def _update_enabled(self) -> None:
        self.setEnabled(self.run_id is not None or self.contestant is not None)

    def _on_clicked(self, value: int) -> None:
        button = self.up if value > 0 else self.down
        button.setChecked(False)          # checked only once the thumb is on disk
        button.setToolTip("Saving…")
        generation, runs = self._generation, self.services.runs
        run_id, contestant, test_case = self.run_id, self.contestant, self.test_case

        def write() -> str:
            return VoteStore(runs()).record_thumb(value=value, run_id=run_id, contestant=contestant,
                                                  test_case=test_case)

        self.services.tasks.run(write, on_done=lambda tid: self._on_written(generation, value, tid),
                                on_error=lambda exc: self._on_failed(generation, value, exc))

    def _on_written(self, generation: int, value: int, thumb_id: str) -> None:
        if generation == self._generation:
            button = self.up if value > 0 else self.down
            button.setChecked(True)
            button.setStyleSheet("")
            button.setToolTip(f"{button.property('base_tip')} — saved ✓")
        self.thumb_recorded.emit(thumb_id, value)

    def _on_failed(self, generation: int, value: int, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if generation == self._generation:
            button = self.up if value > 0 else self.down
            button.setStyleSheet("QToolButton { background: #c62828; border-radius: 3px; }")
            button.setToolTip(f"Not saved: {message}\nClick again to retry.")
        self.thumb_failed.emit(message)
