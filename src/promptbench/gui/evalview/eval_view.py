"""The Eval tab: run a prompt's evaluators over test cases x versions x models and read the grid.

The view asks core for everything (core/eval_run.py runs and judges, core/eval_report.py
builds the grid's numbers) in tasks; the runner reports progress on its own threads into
a :class:`ProgressBox` that a 100 ms timer reads, so the bar moves at most ten times a
second and the GUI thread never waits for a run, a judge, git or SQLite.
"""

from __future__ import annotations

import time
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from promptbench.gui.evalview import jobs, texts
from promptbench.gui.evalview.cells import baseline_marks
from promptbench.gui.evalview.eval_picker import EvalToolbar
from promptbench.gui.evalview.progress_strip import ProgressBox, ProgressStrip
from promptbench.gui.evalview.results_area import ResultsArea
from promptbench.gui.evalview.setup_panel import SetupPanel

POLL_MS = 100              # progress repaints at most 10 times a second
REPORT_EVERY_S = 1.0       # while running, the grid refreshes at most once a second
ESTIMATE_DELAY_MS = 250    # debounce: re-plan once the person stops clicking
_BANNER = "QLabel { background: #b71c1c; color: white; border-radius: 4px; padding: 6px 10px; }"


class EvalView(QWidget):
    eval_started = Signal(str)
    eval_finished = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._holder = jobs.RunnerHolder(services)
        self._rel: str | None = None
        self._box: ProgressBox | None = None   # the running start/resume's progress
        self._running_id: str | None = None
        self._report_at = 0.0
        self._report_due = False
        self._evaluated_seen = -1
        self._closed = False

        self.toolbar = EvalToolbar(self)
        self.run_action, self.cancel_action, self.resume_action = (self.toolbar.run_action, self.toolbar.cancel_action,
                                                                   self.toolbar.resume_action)
        self.picker = self.toolbar.picker
        self.run_action.triggered.connect(self.run)
        self.cancel_action.triggered.connect(self.cancel)
        self.resume_action.triggered.connect(self.resume)

        self.estimate = QLabel()
        self.estimate.setWordWrap(True)
        self.estimate.setContentsMargins(8, 0, 8, 0)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(_BANNER)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.progress = ProgressStrip()

        self.setup_panel = SetupPanel()
        self.setup_panel.setMinimumWidth(240)
        self.results = ResultsArea()
        self.grid, self.detail, self.agreement, self.tabs = (self.results.grid, self.results.detail,
                                                             self.results.agreement, self.results.tabs)
        self.model = self.grid.results
        self.grid.cell_clicked.connect(self._on_grid_cell_clicked)
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.setSpacing(4)
        right_box.addWidget(self.toolbar)
        right_box.addWidget(self.estimate)
        right_box.addWidget(self.banner)
        right_box.addWidget(self.progress)
        right_box.addWidget(self.results, 1)
        self.split = QSplitter()
        self.split.addWidget(self.setup_panel)
        self.split.addWidget(right)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([290, 1000])
        self._sized = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)

        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self._estimate_timer = QTimer(self, singleShot=True, interval=ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self._on_estimate_timer_timeout)
        self.setup_panel.choice_changed.connect(self._on_choice_changed)
        self.picker.shown_changed.connect(self._on_shown_changed)
        self.picker.baseline_changed.connect(self._on_baseline_changed)
        services.settings_changed.connect(self._on_settings_changed)
        self._show_report(None)
        self._update_actions()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._sized and self.width() > 0:
            # the setup takes about a quarter: wider windows show whole version subjects and test cases
            self._sized = True
            setup = max(290, min(460, self.width() // 4))
            self.split.setSizes([setup, max(1, self.width() - setup)])

    # -- public API ----------------------------------------------------------------------
    def set_prompt(self, rel: str | None) -> None:
        """Evaluate *rel* (a workspace-relative prompt path); loads its setup and evals in tasks."""
        if rel == self._rel:
            return
        self._rel = rel
        self._show_report(None)
        self.picker.set_evals([], set())
        self.agreement.show_rows([])
        self.banner.hide()
        if self._running_id is None:
            self.progress.reset()
        self._load_setup()
        self._load_evals()
        self._load_agreement()

    def refresh(self) -> None:
        """Read the prompt's setup, evals and judge agreement again (e.g. when the tab is shown after votes)."""
        if self._rel is not None and not self._closed:
            self._load_setup()
            self._load_evals()
            self._load_agreement()

    def prompt(self) -> str | None:
        return self._rel

    def is_loaded(self) -> bool:
        return self.setup_panel.is_loaded() and not self.services.tasks.is_busy()

    def is_running(self) -> bool:
        return self._running_id is not None or self._box is not None

    def shown_eval(self) -> str | None:
        return self.picker.shown_id()

    def run(self) -> None:
        if self.is_running() or not self.setup_panel.can_run() or self._rel is None:
            return
        choice, rel = self.setup_panel.choice(), self._rel
        box = ProgressBox()
        self._begin(box, "Planning and starting…")
        holder = self._holder
        self.services.tasks.run(lambda: jobs.start(holder, rel, choice, box.put),
                                on_done=partial(self._on_started, box), on_error=partial(self._on_start_failed, box))

    def resume(self) -> None:
        eval_id = self.picker.shown_id()
        if self.is_running() or eval_id is None:
            return
        box = ProgressBox(eval_id)
        self._begin(box, "Resuming…")
        holder = self._holder
        self.services.tasks.run(lambda: jobs.resume(holder, eval_id, box.put),
                                on_done=partial(self._on_started, box), on_error=partial(self._on_start_failed, box))

    def cancel(self) -> None:
        eval_id = self._running_id
        if eval_id is None:
            return
        self.cancel_action.setEnabled(False)
        self.progress.show_text("Cancelling…")
        holder = self._holder
        self.services.tasks.run(lambda: jobs.cancel(holder, eval_id), on_error=self._on_task_failed)

    def select_cell(self, test_case: int | None, model: str, version: str | None = None) -> bool:
        """Select a grid cell and show it in the detail panel (as a click does)."""
        key = self.grid.select(test_case, model, version)
        if key is not None:
            self._on_grid_cell_clicked(key)
        return key is not None

    def shutdown(self) -> None:
        """Cancel a running eval and stop listening (the window is closing); blocks briefly."""
        if self._closed:
            return
        self._closed = True
        self._poll.stop()
        self._estimate_timer.stop()
        self._holder.close()

    # -- running ---------------------------------------------------------------------------
    def _begin(self, box: ProgressBox, text: str) -> None:
        self._box = box
        self._evaluated_seen = -1
        self.banner.hide()
        self.progress.starting(text)
        self._poll.start()
        self._update_actions()

    def _on_started(self, box: ProgressBox, eval_id: str) -> None:
        if self._closed:
            return
        box.eval_id = eval_id
        self.eval_started.emit(eval_id)
        if box is self._box:  # else it already ended (its final progress came first) and is shown
            self._running_id = eval_id
            self._load_evals(show=eval_id)
            self._update_actions()

    def _on_start_failed(self, box: ProgressBox, exc: Exception) -> None:
        if self._closed or box is not self._box:
            return
        self._box = None
        self._poll.stop()
        self.progress.reset()
        self._show_banner(str(exc))
        self._update_actions()

    def _on_poll_timeout(self) -> None:
        box = self._box
        if box is None:
            self._poll.stop()
            return
        p = box.take()
        if p is not None:
            self.progress.show_progress(p)
            if p.evaluated != self._evaluated_seen:
                self._evaluated_seen = p.evaluated
                self._report_due = True
            if p.final:
                self._finished(box)
                return
        if self._report_due and time.monotonic() - self._report_at >= REPORT_EVERY_S:
            self._load_report()

    def _finished(self, box: ProgressBox) -> None:
        self._box, eval_id = None, box.eval_id
        self._running_id = None
        self._poll.stop()
        self._update_actions()
        self._load_evals(show=eval_id)
        self._load_agreement()
        self.eval_finished.emit(eval_id or "")

    # -- loading (tasks) -----------------------------------------------------------------
    def _load_setup(self) -> None:
        rel, services = self._rel, self.services
        if rel is None:
            return
        services.tasks.run(lambda: jobs.load_setup(services, rel), on_done=partial(self._on_setup_loaded, rel),
                           on_error=self._on_task_failed, key=f"eval-setup-{id(self)}")

    def _on_setup_loaded(self, rel: str, setup: jobs.Setup) -> None:
        if self._closed or rel != self._rel:
            return
        self.setup_panel.populate(setup)
        self._show_report(self.model.report())  # row titles from the file's test data
        self._update_actions()

    def _load_evals(self, show: str | None = None) -> None:
        rel, holder = self._rel, self._holder
        if rel is None:
            return
        self.services.tasks.run(lambda: jobs.list_evals(holder, rel), on_done=partial(self._on_evals_loaded, rel, show),
                                on_error=self._on_task_failed, key=f"eval-list-{id(self)}")

    def _on_evals_loaded(self, rel: str, show: str | None, result) -> None:
        if self._closed or rel != self._rel:
            return
        rows, running = result
        before = self.picker.shown_id()
        self.picker.set_evals(rows, set(running), show=show)
        if self.picker.shown_id() == before and not show:
            self._load_report()  # same eval shown: its status may have changed

    def _load_report(self) -> None:
        eval_id, baseline, holder = self.picker.shown_id(), self.picker.baseline_id(), self._holder
        self._report_due = False
        self._report_at = time.monotonic()
        if eval_id is None:
            self._show_report(None)
            return
        self.services.tasks.run(lambda: jobs.load_report(holder, eval_id, baseline),
                                on_done=partial(self._on_report_loaded, eval_id), on_error=self._on_task_failed,
                                key=f"eval-report-{id(self)}")

    def _on_report_loaded(self, eval_id: str, report: dict) -> None:
        if self._closed or eval_id != self.picker.shown_id():
            return
        self._show_report(report)

    def _load_agreement(self) -> None:
        rel, holder = self._rel, self._holder
        if rel is None:
            return
        self.services.tasks.run(lambda: jobs.judge_agreement(holder, rel), on_done=self._on_agreement_loaded,
                                on_error=self._on_task_failed, key=f"eval-agreement-{id(self)}")

    def _on_agreement_loaded(self, rows: list[dict]) -> None:
        if not self._closed:
            self.agreement.show_rows(rows)

    def _on_estimate_timer_timeout(self) -> None:
        rel, holder = self._rel, self._holder
        if rel is None or not self.setup_panel.can_run():
            self.estimate.setText(texts.why_not(self.setup_panel.setup(), self.setup_panel.choice()) if rel else "")
            return
        choice = self.setup_panel.choice()
        if not self.estimate.text() or self.estimate.styleSheet():
            self.estimate.setText("Estimating…")
            self.estimate.setStyleSheet("")
        self.services.tasks.run(lambda: jobs.estimate(holder, choice, rel), on_done=partial(self._on_estimated, choice),
                                on_error=self._on_estimate_failed, key=f"eval-estimate-{id(self)}")

    def _on_estimated(self, choice: jobs.EvalChoice, est: dict) -> None:
        if not self._closed:
            setup = self.setup_panel.setup()
            self.estimate.setText(texts.estimate_text(est, setup is not None and setup.has_judges))
            self.estimate.setStyleSheet("")

    def _on_estimate_failed(self, exc: Exception) -> None:
        if not self._closed:
            self.estimate.setText(f"Cannot run: {exc}")
            self.estimate.setStyleSheet("QLabel { color: #e5534b; }")

    # -- showing ---------------------------------------------------------------------------
    def _show_report(self, report: dict | None) -> None:
        setup = self.setup_panel.setup()
        key = self.grid.set_report(report, setup.test_cases if setup else [])
        self.results.show_grid(report is not None and self.model.columnCount() > 0)
        if key is not None:
            self._show_detail(key)
        else:
            self.detail.clear()
        if report is not None and not self.is_running():
            self.progress.show_text(texts.report_status(report))
        self._update_actions()

    def _on_grid_cell_clicked(self, key: tuple) -> None:
        self._show_detail(key)
        self.tabs.setCurrentWidget(self.detail)

    def _show_detail(self, key: tuple) -> None:
        test_case, version, model = key
        report = self.model.report() or {}
        changes = baseline_marks(report).get((test_case, model), (None, []))[1]
        column = self.model.column_title(self.model.index_of(test_case, model, version).column())
        title = f"{self.model.case_label(test_case)}  —  {column.replace(chr(10), ', ')}"
        self.detail.show_cell(title, self.model.cell(key), changes)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _update_actions(self) -> None:
        running = self.is_running()
        report = self.model.report()
        s = (report or {}).get("summary") or {}
        resumable = bool(report) and report.get("eval_id") == self.picker.shown_id() and (
            report.get("status") in ("cancelled", "interrupted", "running")
            or bool(s.get("not_run") or s.get("not_evaluated") or s.get("run_errors")))
        self.run_action.setEnabled(not running and self.setup_panel.can_run())
        self.cancel_action.setEnabled(self._running_id is not None)
        self.resume_action.setEnabled(not running and resumable)
        self.setup_panel.set_running(running)
        self.picker.setEnabled(not running)

    # -- slots -------------------------------------------------------------------------------
    def _on_choice_changed(self) -> None:
        self._update_actions()
        self._estimate_timer.start()

    def _on_shown_changed(self, _eval_id: str) -> None:
        self.detail.clear()
        self._load_report()

    def _on_baseline_changed(self, _eval_id) -> None:
        self._load_report()

    def _on_settings_changed(self) -> None:
        if not self._closed:
            self._load_setup()

    def _on_task_failed(self, exc: Exception) -> None:
        if not self._closed:
            self._show_banner(str(exc))
