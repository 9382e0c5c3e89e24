"""The live side-by-side compare view: pick models, run the prompt, watch them stream.

The view asks core for everything: ``core.compare`` builds the request (from the
editor's text, saved or not) and the estimate, ``services.engine()`` runs it, and
engine events come back in 30 ms batches from the bridge. Building the request and
starting the engine happen in tasks, never on the GUI thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QToolBar, QVBoxLayout, QWidget

from promptbench.gui.compare.estimates import Estimator, build_request
from promptbench.core.figures import local_mode_label, short_version
from promptbench.core.ids import is_draft_version
from promptbench.gui.compare.model_picker import ModelPicker
from promptbench.gui.compare.pane_grid import PaneGrid
from promptbench.gui.compare.routing import EventRouter, Launch
from promptbench.gui.compare.run_pane import RunPane
from promptbench.gui.widgets.elided import ElidedLabel

TICK_MS = 100
PANES_PER_SLICE = 2
MAX_PANES = 8
_BANNER = "QLabel { background: #b71c1c; color: white; border-radius: 4px; padding: 6px 10px; }"


class CompareView(QWidget):
    comparison_started = Signal(str)
    comparison_finished = Signal(str)
    settings_requested = Signal(str)  # a model whose key must be set (from a pane's auth error)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._source = None
        self._router = EventRouter()
        self._backlog: deque = deque()   # (pane, its run id then, events) routed, not applied yet
        self._finished_backlog: list[str] = []
        self._slice_due = False
        self._fed = False
        self._closed = False

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.run_action = QAction("▶ Run", self, toolTip="Run the prompt against the checked models (Ctrl+Enter)")
        self.run_action.triggered.connect(self.run)
        self.cancel_action = QAction("■ Cancel all", self, toolTip="Stop every run in progress (Esc)")
        self.cancel_action.triggered.connect(self.cancel_all)
        self.models_action = QAction("Models", self, checkable=True, checked=True,
                                     toolTip="Show or hide the model list")
        self.toolbar.addAction(self.run_action)
        self.toolbar.addAction(self.cancel_action)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.models_action)
        self.toolbar.addSeparator()
        self.summary = ElidedLabel(tooltip=False)  # long names elide: the toolbar never widens the window
        self.summary.setContentsMargins(8, 0, 8, 0)
        self.toolbar.addWidget(self.summary)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(_BANNER)
        self.banner.hide()

        self.picker = ModelPicker(services)
        self.picker.setMinimumWidth(280)
        self.models_action.toggled.connect(self.picker.setVisible)
        self.grid = PaneGrid()
        self.placeholder = QLabel("Check the models to compare, then press Run (Ctrl+Enter).\n"
                                  "Each model streams into its own pane, side by side.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.grid)
        split = self.split = QSplitter()
        split.addWidget(self.picker)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([340, 1000])
        split.setChildrenCollapsible(False)
        self._sized = False
        self._divider_moved = False
        split.splitterMoved.connect(lambda *_: setattr(self, "_divider_moved", True))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._on_ticker_timeout)
        self._estimator = Estimator(services, self.picker, self)
        self.picker.selection_changed.connect(self.refresh_estimate)
        self.picker.local_mode_box.currentIndexChanged.connect(self.refresh_estimate)
        services.bridge.events_arrived.connect(self._on_events_arrived)
        self.picker.models_loaded.connect(lambda: self._sized and self._fit_picker())
        self.picker.models_loaded.connect(self._warm_local_models)
        self.picker.selection_changed.connect(self._warm_local_models)
        self.picker.load()
        self._update_actions()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._warm_local_models()
        if not self._sized and self.width() > 0:
            # The model list takes about a third, more on a wide window so long names fit.
            self._sized = True
            self._fit_picker()

    def _fit_picker(self, for_panes: bool = False) -> None:
        """Until a person moves the divider: before a run the model list takes about a third,
        more (up to half) when its names need it; once answers stream, the panes get the room
        (each pane shows its model's whole name)."""
        if self._divider_moved or self.width() <= 0:
            return
        wanted = self.picker.wanted_width() if self.picker.is_loaded() and not for_panes else 0
        picker = max(300, min(int(self.width() * 0.3), 480), min(wanted, self.width() // 2))
        self.split.setSizes([picker, max(1, self.width() - picker)])

    # -- public API ----------------------------------------------------------------------
    def set_source(self, fn) -> None:
        """``fn() -> (rel, content_bytes, PromptFile, test_case, values)``: what Run runs."""
        self._source = self._estimator.source = fn
        self.refresh_estimate()

    def panes(self) -> list[RunPane]:
        return self.grid.panes()

    def is_running(self) -> bool:
        return self._router.inflight > 0 or any(not p.state.terminal for p in self.panes())

    def refresh_estimate(self) -> None:
        """Recompute the per-model estimate soon (debounced): call when the prompt changed."""
        self._estimator.schedule()

    def run(self) -> None:
        names = self.picker.selected_names()
        source = self._read_source()
        if source is None:
            return
        if not names:
            self._show_banner("Check at least one model to run (Models)." if self.picker.is_loaded()
                              else "The model list is still loading; try again in a moment.")
            return
        if len(names) > MAX_PANES:
            self._show_banner(f"{len(names)} models are checked; compare at most {MAX_PANES} at once.")
            return
        self._show_banner("")
        self._retire_panes()
        panes = [self._new_pane(name) for name in names]
        self.grid.set_panes(panes)
        self.stack.setCurrentWidget(self.grid)
        self._fit_picker(for_panes=True)
        self.summary.setText("Preparing the request…")
        self._launch(panes, partial(build_request, self.services, source, names, self.picker.local_mode()), full=True)

    def cancel_all(self) -> None:
        for pane in self.panes():
            self._cancel_pane(pane)

    def shutdown(self) -> None:
        """Cancel everything; late results and events are ignored from now on."""
        if self._closed:
            return
        self.cancel_all()
        self._closed = True
        self._ticker.stop()
        self._estimator.stop()
        try:
            self.services.bridge.events_arrived.disconnect(self._on_events_arrived)
        except (RuntimeError, TypeError):
            pass

    # -- launching -----------------------------------------------------------------------
    def _read_source(self):
        if self._source is None:
            self._show_banner("Open a prompt to compare it.")
            return None
        try:
            source = self._source()
        except Exception as exc:  # the editor's text does not parse, etc.
            self._show_banner(f"Cannot run this prompt: {exc}")
            return None
        if source is None:
            self._show_banner("Open a prompt to compare it.")
        return source

    def _new_pane(self, name: str) -> RunPane:
        from promptbench.gui.rank.ballot.thumbs import ThumbsButtons

        pane = RunPane(name)
        pane.thumbs = ThumbsButtons(self.services)
        pane.thumbs.setEnabled(False)  # until the run has ended
        pane.add_footer_widget(pane.thumbs)
        pane.cancel_clicked.connect(partial(self._on_pane_cancel_clicked, pane))
        pane.rerun_clicked.connect(partial(self._on_pane_rerun_clicked, pane))
        pane.settings_requested.connect(self.settings_requested)
        return pane

    def _launch(self, panes: list[RunPane], make_request, full: bool) -> None:
        launch = Launch(panes, full)
        for pane in panes:
            pane.binding = launch
        services = self.services

        def work():  # building the request reads files; the first engine() imports and starts it
            request = make_request()
            services.engine()
            return request
        self._router.launching()
        services.tasks.run(work, on_done=partial(self._on_launched, launch), on_error=partial(self._on_launch_failed, launch))
        self._update_actions()

    def _on_launched(self, launch: Launch, request) -> None:
        """Start the comparison here, on the GUI thread: its run ids are bound to panes before
        the bridge can deliver any of its events (they arrive on this thread, later)."""
        if self._closed:
            self._router.launch_failed()
            return
        shown = set(self.panes())
        live = [p for p in launch.panes if p.binding is launch and p in shown and not p.state.terminal]
        if len(live) < len(launch.panes):  # replaced or cancelled while the request was being prepared
            keep = [m for p, m in zip(launch.panes, request.models) if p in live]
            launch.panes = live
            request = dataclasses.replace(request, models=keep)
        if not live:
            self._router.launch_failed()
            self._update_actions()
            return
        try:
            comparison = self.services.engine().compare(request)
        except Exception as exc:  # noqa: BLE001 - the engine is shutting down
            self._on_launch_failed(launch, exc)
            return
        for pane, run_id, model in zip(live, comparison.run_ids, request.models):
            pane.request = request
            pane.bind(run_id, model)
        self._router.launched(comparison.id, dict(zip(comparison.run_ids, live)))
        if launch.full:
            self._show_summary(request)
        self._update_local_notes()
        self._update_actions()
        self.comparison_started.emit(comparison.id)

    def _on_launch_failed(self, launch: Launch, exc: Exception) -> None:
        self._router.launch_failed()
        if self._closed:
            return
        message = str(exc) or type(exc).__name__
        for pane in launch.panes:
            if pane.binding is launch and not pane.state.terminal:
                pane.mark_failed("not started", message)
        if launch.full:
            self.summary.setText("")
        self._show_banner(f"Could not start the comparison: {message}")
        self._update_actions()

    # -- pane buttons --------------------------------------------------------------------
    def _on_pane_cancel_clicked(self, pane: RunPane) -> None:
        self._cancel_pane(pane)

    def _cancel_pane(self, pane: RunPane) -> None:
        if pane.state.terminal:
            return
        if pane.run_id and self.services.has_engine():
            self.services.engine().cancel(pane.run_id)
        else:  # still being prepared: the launch will cancel it in the engine
            pane.binding = None
            pane.mark_cancelled()
            self._update_actions()

    def _on_pane_rerun_clicked(self, pane: RunPane) -> None:
        if self._closed:
            return
        if pane.run_id and not pane.state.terminal:
            self._cancel_pane(pane)
        self._router.unbind(pane.run_id)
        request, model = pane.request, pane.model
        pane.reset()
        self._show_banner("")
        if request is not None and model is not None:
            make = partial(dataclasses.replace, request, models=[model], comparison_id=None)
        else:  # never started: build it again from the current source
            source = self._read_source()
            if source is None:
                return
            make = partial(build_request, self.services, source, [pane.state.model_name], self.picker.local_mode())
        self._launch([pane], make, full=False)

    # -- events --------------------------------------------------------------------------
    def _on_events_arrived(self, batch: list) -> None:
        if self._closed:
            return
        groups, finished = self._router.route(batch)
        self._backlog.extend((pane, pane.run_id, events) for pane, events in groups.items())
        self._finished_backlog.extend(finished)
        if not self._slice_due:
            self._deliver_slice()

    def _deliver_slice(self) -> None:
        """Feed PANES_PER_SLICE panes their events, then let the event loop turn (a key press,
        a heartbeat, a paint) before the next ones: with 8 panes streaming, one batch for all
        of them at once is the GUI thread's longest busy stretch (benchmarks/gui.py)."""
        self._slice_due = False
        if self._closed:
            return
        now = time.perf_counter_ns()
        for _ in range(min(PANES_PER_SLICE, len(self._backlog))):
            pane, run_id, events = self._backlog.popleft()
            if pane.run_id != run_id:
                continue  # re-run or retired since these events were routed to it
            pane.apply_events(events, now)
            thumbs = getattr(pane, "thumbs", None)
            if thumbs is not None and pane.state.terminal and pane.run_id and thumbs.run_id != pane.run_id:
                thumbs.set_target(run_id=pane.run_id)
                thumbs.setEnabled(True)
            self._fed = True
        if self._backlog:
            self._slice_due = True
            QTimer.singleShot(0, self._deliver_slice)
            return
        if self._fed:
            self._fed = False
            self._update_badges()
            self._update_local_notes()
            self._update_actions()
        finished, self._finished_backlog = self._finished_backlog, []
        for comparison_id in finished:
            self.comparison_finished.emit(comparison_id)

    def _on_ticker_timeout(self) -> None:
        now = time.perf_counter_ns()
        active = [p for p in self.panes() if p.state.started_ns is not None and not p.state.terminal]
        for pane in active:
            pane.tick(now)
        if not active and not self._router.inflight:
            self._ticker.stop()

    def _update_actions(self) -> None:
        running = self.is_running()
        self.cancel_action.setEnabled(running)
        if running and not self._ticker.isActive() and not self._closed:
            self._ticker.start()

    def _update_badges(self) -> None:
        panes = self.panes()
        done = [p for p in panes if p.state.status == "done"]
        badges: dict[RunPane, list[str]] = {p: [] for p in panes}
        if len(done) >= 2:
            for label, key, best in (("lowest TTFT", lambda s: s.ttft_ms, min),
                                     ("fastest tok/s", lambda s: s.tokens_per_s, max),
                                     ("cheapest", lambda s: s.cost_usd, min)):
                values = [(key(p.state), p) for p in done if key(p.state) is not None]
                if len(values) >= 2 and len({v for v, _ in values}) > 1:
                    winner = best(v for v, _ in values)
                    for value, pane in values:
                        if value == winner:
                            badges[pane].append(label)
        for pane, labels in badges.items():
            pane.set_badges(labels)

    def _warm_local_models(self) -> None:
        """While Compare shows, the checked local models' servers start in the background, so
        pressing Run does not wait for a model to load (a server that runs is left alone)."""
        if self._closed or not self.isVisible() or not self.picker.is_loaded():
            return
        from promptbench.core.settings.config import resolve_model

        settings = self.services.settings()
        local = []
        for name in self.picker.selected_names():
            try:
                model = resolve_model(settings, name)
            except Exception:  # noqa: BLE001 - an unknown name: Run says so
                continue
            if model.is_local:
                local.append(model.model)
        self.services.local().warm_only(local)  # a model unchecked before its turn is not loaded

    def _update_local_notes(self) -> None:
        """Say why a local run has no text yet: its server is starting, or it waits its turn."""
        local = [p for p in self.panes() if p.model is not None and p.model.is_local and not p.state.terminal]
        if not local:
            return
        alive: set | None = None
        for pane in local:
            if pane.state.status == "queued" and pane.request is not None and pane.request.local_mode == "sequential":
                pane.set_waiting_note("queued: one local model at a time")
            elif pane.state.status == "waiting":
                if alive is None:  # a dict of a few entries; no I/O
                    alive = {mid for mid, s in self.services.local().status().items() if s.get("alive")}
                pane.set_waiting_note("waiting for first token" if pane.model.model in alive else "starting local model")
            else:
                pane.set_waiting_note("")

    # -- display -------------------------------------------------------------------------
    def _show_summary(self, request) -> None:
        version = short_version(request.prompt_version)
        if is_draft_version(request.prompt_version):
            version += " (unsaved)"
        parts = [f"{request.prompt_path or ''} @ {version}"]
        if request.test_case is not None:
            parts.append(f"Test case {request.test_case + 1}")  # as the editor numbers them
        parts.append(f"{len(request.models)} model{'s' if len(request.models) != 1 else ''}")
        if any(m.is_local for m in request.models):
            parts.append(f"local models: {local_mode_label(request.local_mode)}")
        self.summary.setText(" · ".join(parts))
        self.summary.setToolTip(" · ".join(parts) + f"\nprompt version {request.prompt_version}"
                                f"\nlocal models: {local_mode_label(request.local_mode)}")

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    def _retire_panes(self) -> None:
        """The shown runs are about to be replaced: cancel what still runs, drop their events."""
        for pane in self.panes():
            self._cancel_pane(pane)
            self._router.unbind(pane.run_id)
            pane.binding = None
