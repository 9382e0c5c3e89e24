"""One chart of the dashboard: title, options, the pyqtgraph plot, legend, hover and click.

Hovering shows the exact values behind the nearest point or bar; a click emits
``point_clicked(filters, description)`` with the run filter behind it. PNG and CSV
buttons export what is drawn (the card as an image; the series' table as CSV). Time
axes show local dates at round times, costs read as dollars, an empty chart says why.
The wheel scrolls the page; Ctrl+wheel (or the wheel after a click) zooms, a drag moves
along, and "Reset zoom" (or a double click) shows everything again.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QMessageBox, QToolButton,
                               QToolTip, QVBoxLayout)

from promptbench.core.dashboard.sql import Filters
from promptbench.core.errors import PromptbenchError
from promptbench.core.db.exports import write_table_csv
from promptbench.gui.dashboard import drawing
from promptbench.gui.dashboard.axes import MoneyAxis, NumberAxis, TimeAxis
from promptbench.gui.dashboard.chart_view import ZOOM_HINT, ZOOM_TIP, ChartView
from promptbench.gui.dashboard.hits import Hits
from promptbench.gui.dashboard.specs import ChartSpec, empty_reason
from promptbench.gui.widgets.elided import ElidedLabel

PLOT_HEIGHT = 240
ROW_PX = 22  # per row of the horizontal charts (models, versions)
HORIZONTAL = ("ttft", "tps", "length")
LEFT_AXIS_MAX_PX = 220  # model and version names on the horizontal charts
FAR = 1e307  # pyqtgraph's own "no limit" (None breaks its log-scale axes)


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
        self._home: tuple | None = None  # ((x0, x1), (y0, y1)): everything drawn
        self._drawn_options: dict | None = None
        self.zoomed = False

        self.title = ElidedLabel(spec.title, tooltip=False, mode=Qt.TextElideMode.ElideRight)  # "…" when the card is narrow; the whole title in the tip
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setToolTip(f"<b>{html.escape(spec.title)}</b><br>{html.escape(spec.tip)}")
        header = QHBoxLayout()
        header.setSpacing(6)
        header.addWidget(self.title, 1)
        self.option_boxes: dict[str, QComboBox] = {}
        for name, tip, choices in spec.options:
            box = QComboBox()
            box.setToolTip(tip)
            for label, value in choices:
                box.addItem(label, value)
            box.currentIndexChanged.connect(lambda _i: self.options_changed.emit(self.spec.id))
            self.option_boxes[name] = box
        options = QHBoxLayout()  # a line of its own: the title keeps its width in a narrow card
        options.setSpacing(6)
        for box in self.option_boxes.values():
            options.addWidget(box)
        options.addStretch(1)
        self.png_button = self._tool("PNG", "Save this chart as a PNG image", self._on_png_clicked)
        self.csv_button = self._tool("CSV", "Save the numbers behind this chart as CSV", self._on_csv_clicked)
        header.addWidget(self.png_button)
        header.addWidget(self.csv_button)

        horizontal = spec.id in HORIZONTAL
        axes = {"left": MoneyAxis("left") if spec.id == "cost" else NumberAxis("left")}
        if spec.time_axis:
            axes["bottom"] = TimeAxis("bottom")
        elif horizontal:
            axes["bottom"] = NumberAxis("bottom")
        self.plot_widget = ChartView(axisItems=axes)
        self.plot_widget.setMinimumHeight(PLOT_HEIGHT)  # grows to fill the card
        self.plot_widget.setMenuEnabled(False)
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=horizontal, y=not horizontal, alpha=0.15)
        if horizontal:
            self.plot.invertY(True)  # first model / oldest version at the top
        self.plot.hideButtons()
        along_x = self._zooms_along_x()  # zoom and drag along the axis that has the data's spread
        self.plot.setMouseEnabled(x=along_x, y=not along_x)
        self.plot.getViewBox().sigRangeChangedManually.connect(self._on_zoomed)
        self._apply_palette()
        scene = self.plot_widget.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)

        # legend (two lines, more when a narrow card needs them) and the note line keep their
        # height whatever they say, so redrawing a chart never moves the cards around it
        line = self.fontMetrics().lineSpacing()
        self._legend_min = 2 * line + 2
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.legend.setFixedHeight(self._legend_min)
        self.note = ElidedLabel(mode=Qt.TextElideMode.ElideRight)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.zoom_hint = QLabel(ZOOM_HINT)
        self.zoom_hint.setToolTip(ZOOM_TIP)
        self.zoom_hint.setStyleSheet("color: palette(placeholder-text);")
        self.reset_button = self._tool("Reset zoom", "Show the whole chart again (or double-click the chart)",
                                       self.reset_zoom)  # fmt: skip
        self.reset_button.hide()
        footer = QHBoxLayout()
        footer.setSpacing(6)
        footer.addWidget(self.note, 1)
        footer.addWidget(self.zoom_hint)
        footer.addWidget(self.reset_button)
        footer_box = QFrame()
        footer_box.setLayout(footer)
        footer.setContentsMargins(0, 0, 0, 0)
        footer_box.setFixedHeight(max(line + 2, self.reset_button.sizeHint().height()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        if self.option_boxes:
            layout.addLayout(options)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.legend)
        layout.addWidget(footer_box)
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

    def empty_text(self) -> str:
        """What the chart says instead of axes when it has nothing to show ("" when it has)."""
        return self.plot_widget.message_text()

    # -- drawing -------------------------------------------------------------------------
    def show_series(self, series, base: Filters, keep_zoom: bool | None = None) -> None:
        """Draw ``series``. A person's zoom is kept (``keep_zoom`` None) when the filters
        are the same: a live update or a refresh; on a time axis also when an option
        changes (the time range means the same). New filters show everything again."""
        if keep_zoom is None:
            keep_zoom = base == self._base and (self.spec.time_axis or self.options() == self._drawn_options)
        along = 0 if self._zooms_along_x() else 1
        zoomed = self.plot.getViewBox().viewRange()[along] if keep_zoom and self.zoomed else None
        self.series, self._base, self._drawn_options = series, base, self.options()
        self.plot.clear()
        self.plot.getAxis("bottom").setTicks(None)
        self.plot.getAxis("left").setTicks(None)
        if sid_rows := {"ttft": "names", "tps": "names", "length": "labels"}.get(self.spec.id):
            labels = [str(x) for x in getattr(series, sid_rows)]
            self.plot_widget.setMinimumHeight(max(PLOT_HEIGHT, 50 + ROW_PX * len(labels)))
            metrics = self.plot_widget.fontMetrics()  # the axis does not widen itself before its first paint
            widest = max([metrics.horizontalAdvance(t) for t in labels], default=30) + 16
            self.plot.getAxis("left").setWidth(min(widest, LEFT_AXIS_MAX_PX))
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
        if "mode" in self.option_boxes and getattr(series, "bucket", None):  # "per hour" when buckets are hours
            box = self.option_boxes["mode"]
            box.setItemText(box.findData("daily"), "per hour" if series.bucket == "hour" else "per day")
        empty = not len(hits)
        self.legend.setText("" if empty else "  ".join(
            f'<span style="color:{c}">■</span>&nbsp;{html.escape(str(name))}' for name, c in legend))  # fmt: skip
        self._fit_legend()
        self.note.setText("" if empty else getattr(series, "note", ""))
        for name in ("left", "bottom"):
            self.plot.showAxis(name, not empty)
        self.plot_widget.show_message(empty_reason(sid, base, series) if empty else "")
        self._home = None if empty else self._home_range(series)
        self._set_zoomed(False)
        vb = self.plot.getViewBox()
        if self._home is None:  # nothing to zoom: a blank area behind the message
            vb.setLimits(xMin=-FAR, xMax=FAR, yMin=-FAR, yMax=FAR, minXRange=None, maxXRange=None,
                         minYRange=None, maxYRange=None)  # fmt: skip
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        (x0, x1), (y0, y1) = self._home
        sx, sy = x1 - x0, y1 - y0
        if self._zooms_along_x():  # zoom along x, never past the data's neighbourhood
            min_x = min(sx, getattr(series, "width", sx)) / 2 if self.spec.time_axis else sx / 100
            vb.setLimits(xMin=x0 - sx, xMax=x1 + sx, minXRange=min_x, maxXRange=3 * sx, yMin=-FAR, yMax=FAR,
                         minYRange=None, maxYRange=None)  # fmt: skip
        else:
            vb.setLimits(yMin=y0 - sy, yMax=y1 + sy, minYRange=sy / 100, maxYRange=3 * sy, xMin=-FAR, xMax=FAR,
                         minXRange=None, maxXRange=None)  # fmt: skip
        self._go_home()
        lo, hi = self._home[along]
        if zoomed is not None and zoomed[0] < hi and zoomed[1] > lo:
            (self.plot.setXRange if along == 0 else self.plot.setYRange)(*zoomed, padding=0)
            self._set_zoomed(True)

    def _zooms_along_x(self) -> bool:
        return self.spec.time_axis or self.spec.id in HORIZONTAL

    def _home_range(self, series) -> tuple:
        """The x and y ranges that show everything drawn, worked out from the data (never
        from pyqtgraph's auto range, which takes a one-point time series back to 1970)."""
        h, sid = self.hits, self.spec.id
        ys = np.concatenate([h.ylo, h.yhi])
        ylo, yhi = float(np.min(ys)), float(np.max(ys))
        if self.spec.time_axis:
            width = float(series.width)
            x0, x1 = float(np.min(series.x)), float(np.max(series.x)) + width
            if x1 - x0 <= width * 1.01:  # one bucket: show its neighbours too
                x0, x1 = x0 - width, x1 + width
            pad = (x1 - x0) * 0.02
            if sid == "latency":  # log10(ms)
                ypad = max((yhi - ylo) * 0.08, 0.1)
                return (x0 - pad, x1 + pad), (ylo - ypad, yhi + ypad)
            if sid in ("thumbs", "evals"):  # percent
                return (x0 - pad, x1 + pad), (-3.0, 103.0)
            top = yhi if yhi > 0 else (0.01 if sid == "cost" else 1.0)
            return (x0 - pad, x1 + pad), (-top * 0.03, top * 1.08)
        if sid in HORIZONTAL:
            rows = len(series.names if sid != "length" else series.labels)
            xlo = 0.0 if sid == "length" else float(np.min(h.xlo))
            xhi = float(np.max(h.xhi))
            pad = (xhi - xlo) * 0.05 if xhi > xlo else max(abs(xhi) * 0.1, 1.0)
            return (xlo - pad, xhi + pad), (-0.6, max(rows, 1) - 0.4)
        k = len(series.providers)  # errors
        top = yhi if yhi > 0 else 1.0
        return (-0.6, max(k, 1) - 0.4), (0.0, top * 1.12)

    def _go_home(self) -> None:
        if self._home is not None:
            (x0, x1), (y0, y1) = self._home
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def reset_zoom(self) -> None:
        """Show everything drawn again."""
        self._go_home()
        self._set_zoomed(False)

    def _set_zoomed(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        self.reset_button.setVisible(zoomed)
        self._fit_footer()

    def _fit_footer(self) -> None:
        """The zoom hint gives way to the chart's note when both do not fit on the line."""
        if self.zoomed or self._home is None:
            self.zoom_hint.setVisible(False)
            return
        metrics = self.note.fontMetrics()
        need = metrics.horizontalAdvance(self.note.text()) + 12 + metrics.horizontalAdvance(ZOOM_HINT)
        self.zoom_hint.setVisible(not self.note.text() or need <= self.width() - 16)

    def _on_zoomed(self, _mask) -> None:
        if self._home is not None:
            self._set_zoomed(True)

    def _fit_legend(self) -> None:
        """Two lines, or as many as the legend needs at the card's width (narrow cards). The
        height changes only when it must: a change re-lays out, and repaints, every card."""
        if not self.isVisible():
            return  # measured once shown, at its real width
        height = self._legend_min
        if self.legend.isVisibleTo(self) and self.legend.text():
            margins = self.layout().contentsMargins()
            width = max(self.width() - margins.left() - margins.right(), 50)
            height = max(height, self.legend.heightForWidth(width))
        if self.legend.minimumHeight() != height or self.legend.maximumHeight() != height:
            self.legend.setFixedHeight(height)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._fit_legend()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_legend()
        self._fit_footer()

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
        if event.double():
            self.reset_zoom()
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
