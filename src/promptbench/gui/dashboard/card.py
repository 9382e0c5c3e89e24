"""One chart of the dashboard: title, options, the pyqtgraph plot, legend, hover and click.

Hovering shows the exact values behind the nearest point or bar; a click emits
``point_clicked(filters, description)`` with the run filter behind it. PNG and CSV
buttons export what is drawn (the card as an image; the series' table as CSV).
"""

from __future__ import annotations

import html
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QCursor, QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton,
                               QToolTip, QVBoxLayout)

from promptbench.core.dashboard_sql import Filters
from promptbench.core.errors import PromptbenchError
from promptbench.core.exports import write_table_csv
from promptbench.gui.dashboard import drawing
from promptbench.gui.dashboard.hits import Hits
from promptbench.gui.dashboard.specs import ChartSpec

PLOT_MIN_HEIGHT = 230


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

        axis = {"bottom": pg.DateAxisItem(orientation="bottom", utcOffset=0)} if spec.time_axis else {}
        self.plot_widget = pg.PlotWidget(axisItems=axis)
        self.plot_widget.setMinimumHeight(PLOT_MIN_HEIGHT)
        self.plot_widget.setMenuEnabled(False)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self._apply_palette()
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)

        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.note)

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
        self.legend.setText("  ".join(
            f'<span style="color:{c}">■</span>&nbsp;{html.escape(str(name))}' for name, c in legend))  # fmt: skip
        self.legend.setVisible(bool(legend))
        empty = not len(hits)
        note = getattr(series, "note", "")
        self.note.setText("No data for these filters." if empty else note)
        self.note.setVisible(empty or bool(note))
        if sid not in ("ttft", "tps", "errors", "length"):
            self.plot.enableAutoRange()
        self.plot.enableAutoRange(axis="y")

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
        """Where hit ``i`` is drawn, in scene coordinates (its top end)."""
        vb = self.plot.getViewBox()
        return vb.mapViewToScene(QPointF(float(self.hits.x[i]), float(max(self.hits.ylo[i], self.hits.yhi[i]))))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        i = self.hit_at(scene_pos)
        text = self.hits.texts[i] if i is not None else ""
        if text != self.hover_text:
            self.hover_text = text
            if text:
                QToolTip.showText(QCursor.pos(), text, self.plot_widget)
            else:
                QToolTip.hideText()

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        i = self.hit_at(event.scenePos())
        if i is not None:
            self.point_clicked.emit(dict(self.hits.filters[i]), self.hits.texts[i])

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
