"""Which eval of the prompt the grid shows, and which earlier eval it is compared with."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolBar, QWidget

from promptbench.core.figures import fmt_cost, local_time



def eval_text(row: dict, running_here: bool = False) -> str:
    status = row.get("status") or "?"
    if status == "running" and not running_here:
        status = "stopped"  # left running by a process that ended: resume it
    total, done = row.get("total_cells") or 0, row.get("finished_cells") or 0
    cost = row.get("cost_usd")
    figures = f"{done}/{total} cells" + (f" · {fmt_cost(cost)}" if cost else "")
    return f"{local_time(row.get('created_at'))} · {status} · {figures}"


class EvalPicker(QWidget):
    shown_changed = Signal(str)
    baseline_changed = Signal(object)  # an eval id, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.shown = QComboBox()
        self.shown.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.shown.setToolTip("The evals of this prompt, newest first: the grid shows the one picked here")
        self.baseline = QComboBox()
        self.baseline.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.baseline.setToolTip("Compare with an earlier eval: regressions are tinted red (▼), improvements green (▲)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Eval"))
        layout.addWidget(self.shown)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Baseline"))
        layout.addWidget(self.baseline)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self._rows: list[dict] = []
        self._running: set[str] = set()
        self.shown.currentIndexChanged.connect(self._on_shown_current_index_changed)
        self.baseline.currentIndexChanged.connect(self._on_baseline_current_index_changed)
        self.set_evals([], set())

    def set_evals(self, rows: list[dict], running: set[str], show: str | None = None) -> None:
        """Fill both lists; keep what was picked when it is still there (or show *show*)."""
        keep_shown, keep_base = show or self.shown_id(), self.baseline_id()
        self._rows, self._running = list(rows), set(running)
        self.shown.blockSignals(True)
        self.shown.clear()
        for row in rows:
            self.shown.addItem(eval_text(row, row["id"] in running), row["id"])
        if not rows:
            self.shown.addItem("no evals yet", None)
        index = self.shown.findData(keep_shown) if keep_shown else -1
        self.shown.setCurrentIndex(max(0, index))
        self.shown.setEnabled(bool(rows))
        self.shown.blockSignals(False)
        self._fill_baselines(keep_base)
        if self.shown_id() != keep_shown or show:
            self.shown_changed.emit(self.shown_id() or "")

    def _fill_baselines(self, keep: str | None) -> None:
        shown = self.shown_id()
        self.baseline.blockSignals(True)
        self.baseline.clear()
        self.baseline.addItem("none", None)
        for row in self._rows:
            if row["id"] != shown:
                self.baseline.addItem(eval_text(row, row["id"] in self._running), row["id"])
        index = self.baseline.findData(keep) if keep else 0
        self.baseline.setCurrentIndex(max(0, index))
        self.baseline.setEnabled(self.baseline.count() > 1)
        self.baseline.blockSignals(False)

    def shown_id(self) -> str | None:
        return self.shown.currentData()

    def baseline_id(self) -> str | None:
        return self.baseline.currentData()

    def row(self, eval_id: str | None) -> dict | None:
        return next((r for r in self._rows if r["id"] == eval_id), None)

    def set_baseline(self, eval_id: str | None) -> None:
        self.baseline.setCurrentIndex(max(0, self.baseline.findData(eval_id)))

    def _on_shown_current_index_changed(self, _index: int) -> None:
        before = self.baseline_id()
        self._fill_baselines(before)
        self.shown_changed.emit(self.shown_id() or "")
        if self.baseline_id() != before:
            self.baseline_changed.emit(self.baseline_id())

    def _on_baseline_current_index_changed(self, _index: int) -> None:
        self.baseline_changed.emit(self.baseline_id())


class EvalToolbar(QToolBar):
    """Run / Cancel / Resume, then which eval is shown and its baseline."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.run_action = QAction("▶ Run eval", self, toolTip="Run every checked cell and score it with the evaluators")
        self.cancel_action = QAction("■ Cancel", self, toolTip="Stop the eval; finished cells keep their results")
        self.resume_action = QAction("⟳ Resume", self, toolTip="Run the cells that did not finish (and evaluate "
                                     "finished ones that were not evaluated); finished cells never run again")
        for action in (self.run_action, self.cancel_action, self.resume_action):
            self.addAction(action)
        self.addSeparator()
        self.picker = EvalPicker()
        self.addWidget(self.picker)
