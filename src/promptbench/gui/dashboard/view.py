"""The monitoring dashboard: charts over the whole run history, filtered, live.

Nothing happens until the tab is first shown: then pyqtgraph is imported in a task
(~0.3 s of imports kept off the GUI thread), the cards are built one per event-loop
turn, and the aggregates are read in a task (core.dashboard_queries). Results are
drawn one chart per turn, so the GUI thread never does more than one chart's work at
a time. When runs end (RunFinished / RunFailed / RunCancelled / ComparisonFinished on
the engine bridge) an incremental read folds in only what ended since the last one,
at most once a second. Runs announced by an event but not yet committed by the
writer are looked for again (up to 10 times). Clicking a point emits
``runs_requested(filters)`` and lists the runs behind it. The filter bar's "Show" box
chooses the kinds of runs counted (comparisons and eval cells unless asked).
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QGridLayout, QLabel, QListWidget, QListWidgetItem, QPushButton,
                               QScrollArea, QSplitter, QVBoxLayout, QWidget)

from promptbench.core.engine import events as ev
from promptbench.core.engine.run_kinds import kinds_label
from promptbench.gui.dashboard import jobs
from promptbench.gui.dashboard.filter_bar import FilterBar
from promptbench.gui.dashboard.specs import SPECS

LIVE_INTERVAL_MS = 1000  # at most one live update a second
FILTER_DELAY_MS = 300
PAINT_GAP_MS = 16  # between two charts: each is painted on its own, never all in one go
MAX_RETRIES = 10  # looks for runs announced but not yet committed
COLUMNS = 2
SLOT_HEIGHT = 340  # a chart card's height (more for long lists of models or versions)
LIVE_EVENTS = (ev.RunFinished, ev.RunFailed, ev.RunCancelled)


def _import_pyqtgraph() -> None:
    import pyqtgraph  # noqa: F401  (imported off the GUI thread; later imports are free)


def _plain(text: str) -> str:
    return html.unescape(re.sub(r"<br>", " — ", re.sub(r"<(?!br>)[^>]+>", "", text)))


class DashboardView(QWidget):
    runs_requested = Signal(dict)  # the run filter behind a clicked point
    charts_updated = Signal()  # every chart shows the latest result

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.data = None
        self.last_result: jobs.Result | None = None
        self.cards: dict = {}
        self._started = self._ready = self._busy = False
        self._want_full = self._want_update = False
        self._pending_ids: set[str] = set()
        self._retries = 0
        self._waiting = None  # a result that arrived before the cards were built
        self._build_queue: list = []
        self._apply_queue: list = []
        self._last_point: dict | None = None

        self.filter_bar = FilterBar()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Read everything again (runs imported from elsewhere appear after this)")
        self.refresh_button.clicked.connect(self.refresh)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        self.filter_bar.add_trailing(self.refresh_button)

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        # one placeholder per chart, as tall as the chart will be: a chart taking its place
        # moves nothing else (moving cards would repaint them all)
        self._slots = []
        for i, spec in enumerate(SPECS):
            slot = QLabel(f"{spec.title}\n\nloading…")
            slot.setAlignment(Qt.AlignmentFlag.AlignCenter)
            slot.setFrameShape(QLabel.Shape.StyledPanel)
            slot.setMinimumHeight(SLOT_HEIGHT)
            slot.setStyleSheet("color: palette(placeholder-text);")
            self.grid.addWidget(slot, i // COLUMNS, i % COLUMNS)
            self._slots.append(slot)
        self.grid.setRowStretch(len(SPECS) // COLUMNS + 1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.grid_host)

        self.point_label = QLabel("Click a point or bar to list the runs behind it.")
        self.point_label.setWordWrap(True)
        self.run_list = QListWidget()
        self.run_list.setToolTip("The newest 200 runs behind the clicked point")
        self.open_button = QPushButton("Show in Runs")
        self.open_button.setToolTip("Open the Runs view filtered to these runs")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._on_open_clicked)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(self.point_label)
        side_layout.addWidget(self.run_list, 1)
        side_layout.addWidget(self.open_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(side)
        split.setStretchFactor(0, 5)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 240])
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(split, 1)

        self._filter_timer = self._timer(FILTER_DELAY_MS, self.refresh)
        self._live_timer = self._timer(LIVE_INTERVAL_MS, self._on_live_timer)
        self._build_timer = self._timer(PAINT_GAP_MS, self._build_next)
        self._apply_timer = self._timer(PAINT_GAP_MS, self._apply_next)
        self.filter_bar.filters_changed.connect(self._filter_timer.start)
        services.bridge.events_arrived.connect(self._on_events_arrived)

    def _timer(self, ms: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(slot)
        return timer

    # -- start: pyqtgraph in the background, then one card per turn ------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.services.tasks.run(_import_pyqtgraph, on_done=self._on_pyqtgraph_loaded,
                                    on_error=self._on_task_failed, key=f"dashboard.pyqtgraph:{id(self)}")  # fmt: skip
        elif self._want_update and not self._live_timer.isActive():
            self._live_timer.start()

    def _on_pyqtgraph_loaded(self, _result) -> None:
        self._build_queue = list(SPECS)
        self._build_timer.start()

    def _build_next(self) -> None:
        from promptbench.gui.dashboard.card import ChartCard

        spec = self._build_queue.pop(0)
        card = ChartCard(spec)
        card.setMinimumHeight(SLOT_HEIGHT)
        card.point_clicked.connect(self._on_point_clicked)
        card.options_changed.connect(self._on_options_changed)
        slot = self._slots[len(self.cards)]
        self.grid.replaceWidget(slot, card)
        slot.deleteLater()
        self.cards[spec.id] = card
        if self._build_queue:
            self._build_timer.start()
            return
        self._ready = True
        if self._waiting is not None:
            result, self._waiting = self._waiting, None
            self._apply(result)
        elif not self._busy and self.data is None:
            self.refresh()  # read once the cards exist: reading while building slows both (the GIL)

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read every aggregate again for the current filters."""
        self._filter_timer.stop()
        if not self._ready:
            return  # the first read starts once the cards are built
        if self._busy:
            self._want_full = True
            return
        self._start_job(full=True)

    def _options(self) -> dict:
        return {cid: card.options() for cid, card in self.cards.items()}

    def _start_job(self, full: bool) -> None:
        self._busy = True
        services, options, pending = self.services, self._options(), frozenset(self._pending_ids)
        if full or self.data is None or self.data.filters != self.filter_bar.filters():
            filters = self.filter_bar.filters()
            self.status_label.setText("Reading the run history…")
            fn = lambda: jobs.full_job(services, filters, options, pending)  # noqa: E731
        else:
            data = self.data
            fn = lambda: jobs.update_job(services, data, options, pending)  # noqa: E731
        services.tasks.run(fn, on_done=self._on_job_done, on_error=self._on_job_failed, key=f"dashboard:{id(self)}")

    def _on_job_failed(self, exc: Exception) -> None:
        self._busy = False
        self._on_task_failed(exc)
        self._next_job()

    def _on_task_failed(self, exc: Exception) -> None:
        self.status_label.setText(f"Could not read the run history: {exc}")

    def _on_job_done(self, result: jobs.Result) -> None:
        self._busy = False
        self._pending_ids -= result.seen
        if not self._want_full:
            self._apply(result)
            if self._pending_ids and self._retries < MAX_RETRIES:
                self._retries += 1
                self._want_update = True
        self._next_job()

    def _next_job(self) -> None:
        if self._want_full:
            self._want_full = False
            self._start_job(full=True)
        elif self._want_update and not self._live_timer.isActive():
            self._live_timer.start()

    def _on_events_arrived(self, batch: list) -> None:
        if not self._started:
            return  # never shown yet: the first showing reads everything anyway
        ids = {e.run_id for e in batch if isinstance(e, LIVE_EVENTS)}
        if not ids and not any(isinstance(e, ev.ComparisonFinished) for e in batch):
            return
        self._pending_ids |= ids
        self._retries = 0
        self._want_update = True
        if not self._live_timer.isActive():
            self._live_timer.start()

    def _on_live_timer(self) -> None:
        if not self._want_update or self._busy or not self._started or not self.isVisible():
            return  # a running job re-arms the timer; a hidden view updates when shown
        self._want_update = False
        self._start_job(full=False)

    # -- drawing, one chart per turn ---------------------------------------------------------
    def _apply(self, result: jobs.Result) -> None:
        if not self._ready:
            self._waiting = result
            return
        self.data, self.last_result = result.data, result
        versions: dict = {}
        for (prompt, version), v in result.data.versions.items():
            versions.setdefault(prompt, {})[version] = v[5] or ""
        models = sorted({k[1] for k in result.data.time}, key=str)
        providers = sorted({k[2] for k in result.data.time}, key=str)
        self.filter_bar.add_options(versions, models, providers)
        self._apply_queue = [(self.cards[cid], series, result.data.filters) for cid, series in result.series.items()]
        self._apply_timer.start()

    def _apply_next(self) -> None:
        if not self._apply_queue:
            return
        card, series, base = self._apply_queue.pop(0)
        card.show_series(series, base)
        if self._apply_queue:
            self._apply_timer.start()
            return
        data, result = self.data, self.last_result
        what = "full read" if result.full else f"+{data.new_runs} run{'s' if data.new_runs != 1 else ''}"
        self.status_label.setText(
            f"{data.total_runs():,} ended runs ({kinds_label(data.filters.kinds)}) · "
            f"{'hourly' if data.bucket == 'hour' else 'daily'} buckets (UTC) · "
            f"updated {datetime.now():%H:%M:%S} ({what}, queries {data.query_ms:.0f} ms) · live")  # fmt: skip
        self.charts_updated.emit()

    def _on_options_changed(self, chart_id: str) -> None:
        card = self.cards[chart_id]
        if self.data is not None:
            card.show_series(jobs.series_for(chart_id, self.data, card.options()), self.data.filters)

    def is_idle(self) -> bool:
        """Charts built, nothing being read or drawn, no live update waiting."""
        return (self._ready and not self._busy and not self._apply_queue and not self._want_full
                and not self._want_update and self.data is not None)  # fmt: skip

    # -- the runs behind a point -----------------------------------------------------------------
    def _on_point_clicked(self, filters: dict, text: str) -> None:
        self._last_point = filters
        self.point_label.setText(_plain(text))
        self.open_button.setEnabled(True)
        self.run_list.clear()
        self.runs_requested.emit(dict(filters))
        path = self.services.db_path
        self.services.tasks.run(lambda: jobs.run_ids_job(path, filters), on_done=self._on_run_ids_loaded,
                                on_error=self._on_task_failed, key=f"dashboard.runs:{id(self)}")  # fmt: skip

    def _on_run_ids_loaded(self, rows: list) -> None:
        self.run_list.clear()
        for run_id, started, model, status in rows:
            item = QListWidgetItem(f"{run_id}  {model}  {status}  {started[:16].replace('T', ' ')}")
            item.setData(Qt.ItemDataRole.UserRole, run_id)
            self.run_list.addItem(item)
        if not rows:
            self.run_list.addItem("(no runs)")

    def run_ids_shown(self) -> list[str]:
        items = (self.run_list.item(i) for i in range(self.run_list.count()))
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i.data(Qt.ItemDataRole.UserRole)]

    def _on_open_clicked(self) -> None:
        if self._last_point is not None:
            self.runs_requested.emit(dict(self._last_point))
