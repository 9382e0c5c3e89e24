"""Ratings with their intervals: one row per contestant, best at the top (pyqtgraph).

A dot at the rating and a horizontal bar for the interval; a dashed line at 1000, the
average of the board. Hovering a row shows its exact figures.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QPalette
from PySide6.QtWidgets import QToolTip, QVBoxLayout, QWidget

from promptbench.core.ranking.leaderboard import RATING_BASE, Rating

_ROW_HIT = 0.45   # how far from a row (in rows) the pointer may be and still hover it
_AXIS_MAX = 360   # pixels for the row names


class RatingChart(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        palette = self.palette()
        self._fg = palette.color(QPalette.ColorRole.Text)
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        self._accent = QColor("#42a5f5") if dark else QColor("#1565c0")
        self.plot = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base))
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(self._fg))
            axis.setTextPen(pg.mkPen(self._fg))
        item.setLabel("bottom", "rating (95% interval)", color=self._fg.name())
        self.bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), pen=pg.mkPen(self._accent, width=2), beam=0.18)
        self.dots = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(self._accent), pen=pg.mkPen(self._fg, width=1))
        self.mean_line = pg.InfiniteLine(RATING_BASE, angle=90,
                                         pen=pg.mkPen(self._fg, width=1, style=Qt.PenStyle.DashLine))
        self.mean_line.setOpacity(0.4)
        for graphic in (self.mean_line, self.bars, self.dots):
            self.plot.addItem(graphic)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.rows: list[Rating] = []
        self.labels: list[str] = []
        self.ticks: list[str] = []

    def set_ratings(self, rows: list[Rating], labels: list[str], ticks: list[str] | None = None) -> None:
        """Rows in any order; drawn sorted by rating, best at the top. ``ticks``: shorter labels
        for the axis (the whole ``labels`` show on hover)."""
        order = sorted(range(len(rows)), key=lambda i: -rows[i].rating)
        self.rows, self.labels = [rows[i] for i in order], [labels[i] for i in order]
        self.ticks = [(ticks or labels)[i] for i in order]
        n = len(self.rows)
        ys = np.arange(n - 1, -1, -1, dtype=float)
        xs = np.array([r.rating for r in self.rows], dtype=float)
        self.bars.setData(x=xs, y=ys, left=xs - np.array([r.ci_low for r in self.rows], dtype=float),
                          right=np.array([r.ci_high for r in self.rows], dtype=float) - xs)
        self.dots.setData(x=xs, y=ys)
        axis = self.plot.getPlotItem().getAxis("left")
        metrics = QFontMetrics(axis.font() if hasattr(axis, "font") else self.font())
        # pyqtgraph leaves out a tick label wider than the axis: cut them to fit (whole on hover)
        ticks = [metrics.elidedText(t, Qt.TextElideMode.ElideRight, _AXIS_MAX - 20) for t in self.ticks]
        axis.setTicks([[(float(y), tick) for y, tick in zip(ys, ticks)], []])
        axis.setWidth(min(_AXIS_MAX, max([metrics.horizontalAdvance(t) for t in ticks] + [40]) + 16))
        if n:
            low = min(min(r.ci_low for r in self.rows), RATING_BASE)
            high = max(max(r.ci_high for r in self.rows), RATING_BASE)
            pad = max(20.0, 0.08 * (high - low))
            self.plot.setXRange(low - pad, high + pad, padding=0)
            self.plot.setYRange(-0.7, n - 0.3, padding=0)

    def points(self) -> list[tuple[str, float, float, float]]:
        """(label, rating, low, high) as drawn, top to bottom."""
        return [(label, r.rating, r.ci_low, r.ci_high) for label, r in zip(self.labels, self.rows)]

    def tooltip_text(self, i: int) -> str:
        r = self.rows[i]
        label = self.labels[i].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return (f"<b>{label}</b><br>rating {r.rating:.1f}<br>95% interval [{r.ci_low:.1f}, {r.ci_high:.1f}]"
                f"<br>rank {r.rank} · {r.votes} votes ({r.wins} W / {r.ties} T / {r.losses} L, {r.both_bad} both bad)")

    def row_at(self, x: float, y: float) -> int | None:
        """The row under a point in data coordinates, if any."""
        n = len(self.rows)
        i = round(n - 1 - y)
        if not 0 <= i < n or abs((n - 1 - i) - y) > _ROW_HIT:
            return None
        r = self.rows[i]
        slack = 0.03 * max(1.0, self.plot.viewRange()[0][1] - self.plot.viewRange()[0][0])
        return i if r.ci_low - slack <= x <= r.ci_high + slack else None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        view = self.plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            QToolTip.hideText()
            return
        point = view.mapSceneToView(scene_pos)
        i = self.row_at(point.x(), point.y())
        if i is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(QCursor.pos(), self.tooltip_text(i), self.plot)
