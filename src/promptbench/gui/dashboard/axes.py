"""The dashboard's axes: numbers, dollars and local dates as ticks.py writes them.

pyqtgraph's own axes write 1.5e-05 and its date axis counts from 1970 when a chart has
one point or none; these never do. Imported only once pyqtgraph is loaded.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetricsF

from promptbench.gui.dashboard import ticks


class NumberAxis(pg.AxisItem):
    """Tick labels as 0.25, 950, 12k, 1.5M (and the same on a log scale), never 1e+06."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if self.logMode:  # on many ticks label 1, 2 and 5 times powers of ten only: the rest crowd together
            values = [float(f"{10**v:.3g}") for v in values]
            leads = [round(v / 10 ** math.floor(math.log10(v)), 6) if v > 0 else 0 for v in values]
            sparse = sum(lead in (1, 2, 5) for lead in leads) >= 3
            return [ticks.plain(v) if not sparse or lead in (1, 2, 5) else "" for v, lead in zip(values, leads)]
        return ticks.number_ticks([v * scale for v in values], spacing * scale)


class MoneyAxis(pg.AxisItem):
    """Tick labels in dollars: $0, $0.000005, $0.50, $1,000."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        return ticks.money_ticks([v * scale for v in values], spacing * scale)


class TimeAxis(pg.AxisItem):
    """Epoch seconds as local dates and times at round steps ("6 Dec 14:00", "Mon 7 Dec"),
    measured in the font they are drawn in: labels never overlap, and no tick is placed
    where its label would be cut off (the axis would hide it, and with it the date)."""

    def __init__(self, orientation: str = "bottom", **kwargs):
        super().__init__(orientation, **kwargs)
        self.unit = "day"
        self._labels: dict[float, str] = {}

    def _font(self) -> QFont:
        if self.style.get("tickFont") is not None:
            return self.style["tickFont"]
        views = self.scene().views() if self.scene() is not None else []
        return views[0].viewport().font() if views else QFont()  # what the view paints with

    def tickValues(self, minVal, maxVal, size):  # noqa: N802
        metrics = QFontMetricsF(self._font())
        self.unit, _count, values, labels = ticks.fit_time_ticks(
            minVal, maxVal, size, lambda text: metrics.horizontalAdvance(text) + 2)
        self._labels = dict(zip(values, labels))
        spacing = (values[1] - values[0]) if len(values) > 1 else max(maxVal - minVal, 1.0)
        return [(spacing, values)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802
        if values and all(v in self._labels for v in values):
            return [self._labels[v] for v in values]
        return ticks.time_labels(values, self.unit)
