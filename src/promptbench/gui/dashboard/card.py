"""One chart of the dashboard: title, options, the pyqtgraph plot, legend, hover and click.

Hovering shows the exact values behind the nearest point or bar; a click emits
``point_clicked(filters, description)`` with the run filter behind it. PNG and CSV
buttons export what is drawn (the card as an image; the series' table as CSV).
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton,
                               QToolTip, QVBoxLayout)

from promptbench.core.dashboard_sql import Filters
from promptbench.core.errors import PromptbenchError
from promptbench.core.exports import write_table_csv
from promptbench.gui.dashboard import drawing
from promptbench.gui.dashboard.hits import Hits
from promptbench.gui.dashboard.specs import ChartSpec

PLOT_HEIGHT = 240
ROW_PX = 22  # per row of the horizontal charts (models, versions)
HORIZONTAL = ("ttft", "tps", "length")
EMPTY_TEXT = "No runs match these filters yet."


class CompactAxis(pg.AxisItem):
    """Tick labels as 950, 12k, 1.5M instead of 1e+06 (and the same on a log scale)."""

    @staticmethod
    def compact(v: float) -> str:
        a = abs(v)
        if a >= 1e6:
            return f"{v / 1e6:.3g}M"
        if a >= 1e4:
            return f"{v / 1e3:.3g}k"
        return f"{v:.6g}"

    def tickStrings(self, values, scale, spacing):
        if self.logMode:  # on many ticks label 1, 2 and 5 times powers of ten only: the rest crowd together
            values = [float(f"{10**v:.3g}") for v in values]
            leads = [round(v / 10 ** math.floor(math.log10(v)), 6) if v > 0 else 0 for v in values]
            sparse = sum(lead in (1, 2, 5) for lead in leads) >= 3
            return [self.compact(v) if not sparse or lead in (1, 2, 5) else "" for v, lead in zip(values, leads)]
        if max((abs(v * scale) for v in values), default=0) < 1e4:
            return super().tickStrings(values, scale, spacing)
        return [self.compact(v * scale) for v in values]


class _PlotWidget(pg.PlotWidget):
    """A plot that asks for its minimum height (a QGraphicsView asks for 480 px) and
    takes whatever more its card has."""

    def sizeHint(self) -> QSize:
        return QSize(420, self.minimumHeight())


class ChartCard(QFrame):
    point_clicked = Signal(dict, str)
    options_changed = Signal(str)  # chart id

    def __init__(self, spec: ChartSpec, parent=None):
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"chart-{spec.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.series = None
        self.hits = Hits()
        self.items: dict = {}
        self.hover_text = ""
        self._base = Filters()

        title = QLabel(f"<b>{html.escape(spec.title)}</b>")
        title.setToolTip(spec.tip)
        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(title)
        header.addStretch(1)
        self.option_boxes: dict[str, QComboBox] = {}
        for name, tip, choices in spec.options:
            box = QComboBox()
            box.setToolTip(tip)
            for label, value in choices:
                box.addItem(label, value)
            box.currentIndexChanged.connect(lambda _i: self.options_changed.emit(self.spec.id))
            self.option_boxes[name] = box
            header.addWidget(box)
        self.png_button = self._tool("PNG", "Save this chart as a PNG image", self._on_png_clicked)
        self.csv_button = self._tool("CSV", "Save the numbers behind this chart as CSV", self._on_csv_clicked)
        header.addWidget(self.png_button)
        header.addWidget(self.csv_button)

        horizontal = spec.id in HORIZONTAL
        axes = {"left": CompactAxis("left")}
        if spec.time_axis:
            axes["bottom"] = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        elif horizontal:
            axes["bottom"] = CompactAxis("bottom")
        self.plot_widget = _PlotWidget(axisItems=axes)
        self.plot_widget.setMinimumHeight(PLOT_HEIGHT)  # grows to fill the card
        self.plot_widget.setMenuEnabled(False)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=horizontal, y=not horizontal, alpha=0.15)
        if horizontal:
            self.plot.invertY(True)  # first model / oldest version at the top
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self._apply_palette()
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)

        # legend (two lines) and note (one line) keep their height whatever they say, so
        # redrawing a chart never moves the cards around it (a move repaints them all)
        line = self.fontMetrics().lineSpacing()
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.legend.setFixedHeight(2 * line + 2)
        self.note = QLabel()
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setFixedHeight(line + 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.note)
        self.legend.setVisible(spec.id not in ("ttft", "tps"))  # one box per model, named on the axis

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _apply_palette(self) -> None:
        pal = self.palette()
        self._fg = pal.color(QPalette.ColorRole.Text).name()
        self.plot_widget.setBackground(pal.color(QPalette.ColorRole.Base))
        muted = pal.color(QPalette.ColorRole.Text)
        muted.setAlpha(170)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(muted))
            axis.setTextPen(pg.mkPen(muted))
            axis.enableAutoSIPrefix(False)

    def option(self, name: str):
        box = self.option_boxes.get(name)
        return box.currentData() if box is not None else None

    def options(self) -> dict:
        return {name: box.currentData() for name, box in self.option_boxes.items()}

    # -- drawing -------------------------------------------------------------------------
    def show_series(self, series, base: Filters) -> None:
        self.series, self._base = series, base
        self.plot.clear()
        self.plot.getAxis("bottom").setTicks(None)
        self.plot.getAxis("left").setTicks(None)
        if sid_rows := {"ttft": "names", "tps": "names", "length": "labels"}.get(self.spec.id):
            labels = [str(x) for x in getattr(series, sid_rows)]
            self.plot_widget.setMinimumHeight(max(PLOT_HEIGHT, 50 + ROW_PX * len(labels)))
            metrics = self.plot_widget.fontMetrics()  # the axis does not widen itself before its first paint
            self.plot.getAxis("left").setWidth(max([metrics.horizontalAdvance(t) for t in labels], default=30) + 16)
        sid, fg = self.spec.id, self._fg
        if sid in ("ttft", "tps"):
            hits, legend, items = drawing.draw_boxes(self.plot, series, base, fg)
        elif sid == "latency":
            hits, legend, items = drawing.draw_band(self.plot, series, base, fg)
        elif sid == "errors":
            hits, legend, items = drawing.draw_errors(self.plot, series, base, fg)
        elif sid == "tokens":
            hits, legend, items = drawing.draw_tokens(self.plot, series, base, fg)
        elif sid == "length":
            hits, legend, items = drawing.draw_versions(self.plot, series, base, fg, self.option("field") or "chars")
        else:
            cumulative = self.option("mode") == "cumulative"
            hits, legend, items = drawing.draw_lines(self.plot, series, base, fg, cumulative=cumulative)
        self.hits, self.items = hits, items
        empty = not len(hits)
        self.legend.setText("" if empty else "  ".join(
            f'<span style="color:{c}">■</span>&nbsp;{html.escape(str(name))}' for name, c in legend))  # fmt: skip
        self.note.setText("" if empty else getattr(series, "note", ""))
        for name in ("left", "bottom"):
            self.plot.showAxis(name, not empty)
        if empty:  # a message instead of axes with meaningless ticks
            message = pg.TextItem(EMPTY_TEXT, color=self.palette().color(QPalette.ColorRole.PlaceholderText),
                                  anchor=(0.5, 0.5))  # fmt: skip
            self.plot.addItem(message)
            message.setPos(0.5, 0.5)
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        if sid in HORIZONTAL:
            self.plot.enableAutoRange(axis="x")
        elif sid == "errors":
            self.plot.enableAutoRange(axis="y")
        else:
            self.plot.enableAutoRange()
        self.plot.getViewBox().updateAutoRange()  # now, not at the next paint: hovering needs the range

    # -- hover and click -----------------------------------------------------------------
    def hit_at(self, scene_pos: QPointF) -> int | None:
        vb = self.plot.getViewBox()
        rect = vb.sceneBoundingRect()
        if not rect.contains(scene_pos):
            return None
        p = vb.mapSceneToView(scene_pos)
        view = vb.viewRect()
        if view.width() <= 0 or view.height() <= 0:
            return None
        return self.hits.nearest(p.x(), p.y(), rect.width() / view.width(), rect.height() / view.height())

    def scene_pos_of(self, i: int) -> QPointF:
        """The centre of hit ``i``, in scene coordinates."""
        x, y = self.hits.centre(i)
        return self.plot.getViewBox().mapViewToScene(QPointF(float(x), float(y)))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        i = self.hit_at(scene_pos)
        text = self.hits.text(i) if i is not None else ""
        if text != self.hover_text:
            self.hover_text = text
            if text:
                at = self.plot_widget.mapToGlobal(self.plot_widget.mapFromScene(scene_pos))
                QToolTip.showText(at, text, self.plot_widget)
            else:
                QToolTip.hideText()

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        i = self.hit_at(event.scenePos())
        if i is not None:
            text, filters = self.hits.describe(i)
            self.point_clicked.emit(dict(filters), text)

    # -- export --------------------------------------------------------------------------
    def export_png(self, path: Path) -> bool:
        return self.grab().save(str(path), "PNG")

    def export_csv(self, path: Path) -> None:
        if self.series is None:
            raise PromptbenchError("the chart has no data yet")
        header, rows = self.series.table()
        write_table_csv(Path(path), header, rows)

    def _on_png_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart as PNG", f"{self.spec.id}.png", "PNG images (*.png)")
        if path and not self.export_png(Path(path)):
            QMessageBox.warning(self, "Save chart", f"Could not write {path}.")

    def _on_csv_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart data as CSV", f"{self.spec.id}.csv", "CSV files (*.csv)")
        if not path:
            return
        try:
            self.export_csv(Path(path))
        except PromptbenchError as e:
            QMessageBox.warning(self, "Save chart data", str(e))
