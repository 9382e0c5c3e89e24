"""Past comparisons: filter them, and reopen one read-only in run panes.

Everything is read from the run store in tasks; the list refreshes by itself when a
comparison finishes (ComparisonFinished on the engine bridge). The "Show" box chooses
the kinds of runs listed: a person's comparisons and eval cells unless asked for judge
calls, ranking generations, warm-ups or connection tests (core/run_kinds.py); the Kind
column says which each row is.
"""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.engine import events as ev
from promptbench.core.engine.run_kinds import DEFAULT_KINDS, NAMES, count_text, kinds_label
from promptbench.core.figures import (DASH, fmt_cost, fmt_ms, local_mode_label, local_time, short_version,
                                      test_case_label)
from promptbench.gui.compare.pane_grid import PaneGrid
from promptbench.gui.compare.run_pane import RunPane
from promptbench.gui.compare.run_summary import Filters, summarize
from promptbench.gui.widgets.filters import day_filter, filter_combo
from promptbench.gui.widgets.flow_layout import flow_row, together
from promptbench.gui.widgets.kind_box import KindBox

COLUMNS = ("Date", "Prompt", "Version", "Models", "Statuses", "Best TTFT", "Total cost", "Kind")
JUDGE_PREFIX = "judge:"  # core/eval_judge.JUDGE_PREFIX: the prompt_path of judge calls
STATUSES = ("finished", "error", "cancelled", "interrupted")
ID_ROLE = Qt.ItemDataRole.UserRole
REFRESH_DELAY_MS = 300


class RunsView(QWidget):
    comparison_opened = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.rows = []
        self._open_id: str | None = None

        self.kind_box = KindBox()
        self.prompt_box = filter_combo("All prompts", "Only comparisons of this prompt", 10)
        self.version_edit = QLineEdit()
        self.version_edit.setPlaceholderText("Version")
        self.version_edit.setClearButtonEnabled(True)
        self.version_edit.setToolTip("Only comparisons whose prompt version starts with this (a sha, or draft)")
        self.version_edit.setMaximumWidth(150)
        self.model_box = filter_combo("All models", "Only comparisons that ran this model", 10)
        self.status_box = filter_combo("Any status", "Only comparisons with a run that ended like this", 10)
        for status in STATUSES:
            self.status_box.addItem(status, status)
        self.since_check, self.since_edit = day_filter("From", -30)
        self.until_check, self.until_edit = day_filter("To", 0)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        # wraps onto a second row in a narrow window instead of widening it
        filters = flow_row(self.kind_box, self.prompt_box, self.version_edit, self.model_box, self.status_box,
                           together(self.since_check, self.since_edit), together(self.until_check, self.until_edit),
                           self.refresh_button)  # fmt: skip

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.currentCellChanged.connect(self._on_current_cell_changed)
        self.count_label = QLabel()

        self.detail_label = QLabel("Select a comparison to see its runs.")
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grid = PaneGrid()
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 4, 0, 0)
        detail_layout.addWidget(self.detail_label)
        detail_layout.addWidget(self.grid, 1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.count_label)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(detail)
        split.setStretchFactor(1, 2)
        split.setSizes([260, 440])
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(filters)
        layout.addWidget(split, 1)

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_DELAY_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        for box in (self.kind_box, self.prompt_box, self.model_box, self.status_box):
            box.currentIndexChanged.connect(self._refresh_timer.start)
        self.version_edit.textChanged.connect(self._refresh_timer.start)
        for check, edit in ((self.since_check, self.since_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._refresh_timer.start)
            edit.dateChanged.connect(self._refresh_timer.start)
        services.bridge.events_arrived.connect(self._on_events_arrived)
        self.refresh()

    # -- loading -------------------------------------------------------------------------
    def show_filtered(self, wanted: dict) -> None:
        """Set the filters from a dict (e.g. a dashboard click): prompt_path, prompt_version,
        model_name, status, since, until (ISO dates), kinds (absent: comparisons and eval
        cells). Keys the view has no filter for are ignored."""

        def pick(box, value):
            if value is None:
                box.setCurrentIndex(0)
                return
            index = box.findData(value)
            if index < 0:
                box.addItem(str(value), value)
                index = box.count() - 1
            box.setCurrentIndex(index)

        self.kind_box.set_kinds(wanted.get("kinds", DEFAULT_KINDS))
        pick(self.prompt_box, wanted.get("prompt_path"))
        pick(self.model_box, wanted.get("model_name"))
        pick(self.status_box, wanted.get("status"))
        self.version_edit.setText(wanted.get("prompt_version") or "")
        for key, check, edit in (("since", self.since_check, self.since_edit), ("until", self.until_check, self.until_edit)):
            value = wanted.get(key)
            check.setChecked(bool(value))
            if value:
                edit.setDate(QDate.fromString(str(value)[:10], "yyyy-MM-dd"))
        self.refresh()

    def filters(self) -> Filters:
        def day(edit: QDateEdit, extra: int) -> datetime:
            return datetime.combine(edit.date().toPython() + timedelta(days=extra), time.min).astimezone()
        return Filters(prompt=self.prompt_box.currentData(), version=self.version_edit.text().strip() or None,
                       model=self.model_box.currentData(), status=self.status_box.currentData(),
                       since=day(self.since_edit, 0) if self.since_check.isChecked() else None,
                       until=day(self.until_edit, 1) if self.until_check.isChecked() else None)

    def kinds(self) -> tuple[str, ...] | None:
        """The kinds of runs listed (None: every kind)."""
        return self.kind_box.kinds()

    def refresh(self) -> None:
        self._refresh_timer.stop()
        services, filters, kinds = self.services, self.filters(), self.kinds()
        self.count_label.setText("Loading…")
        services.tasks.run(lambda: load_listing(services.runs(), filters, kinds), on_done=self._on_rows_loaded,
                           on_error=self._on_load_failed, key=f"runs.list:{id(self)}")

    def _on_load_failed(self, exc: Exception) -> None:
        self.count_label.setText(f"Could not read the runs: {exc}")

    def _on_rows_loaded(self, result) -> None:
        rows, prompts, models, kind_of, variables, kinds = result
        self._fill_combo(self.prompt_box, prompts)
        self._fill_combo(self.model_box, models)
        self.rows = rows
        self.table.blockSignals(True)
        self.table.setRowCount(len(rows))
        selected = None
        for i, row in enumerate(rows):
            version = row.prompt_version or ""
            cost = fmt_cost(row.total_cost_usd) if row.total_cost_usd is not None else "unknown price"
            if row.unknown_cost and row.total_cost_usd is not None:
                cost += f" (+{row.unknown_cost} unknown)"
            kind = kind_of.get(row.comparison_id, "comparison")
            prompt, prompt_tip = _prompt_text(row.prompt_path, kind, variables.get(row.comparison_id) or {})
            cells = (local_time(row.started_at), prompt, short_version(version), ", ".join(row.models),
                     row.statuses_text(), fmt_ms(row.best_ttft_ms), cost, NAMES[kind][0].capitalize())
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, row.comparison_id)
                if col in (5, 6):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 1 and prompt_tip:
                    item.setToolTip(prompt_tip)
                if col == 2:
                    item.setToolTip(version)
                self.table.setItem(i, col, item)
            if row.comparison_id == self._open_id:
                selected = i
        self.table.blockSignals(False)
        if selected is not None:
            self.table.selectRow(selected)
        self.count_label.setText(_count_text(rows, kind_of, kinds))

    def _fill_combo(self, box: QComboBox, values: list[str]) -> None:
        current = box.currentData()
        known = [box.itemData(i) for i in range(1, box.count())]
        if known == values:
            return
        box.blockSignals(True)
        while box.count() > 1:
            box.removeItem(1)
        for value in values:
            box.addItem(value, value)
        index = box.findData(current) if current is not None else 0
        box.setCurrentIndex(max(0, index))
        box.blockSignals(False)

    def _on_events_arrived(self, batch: list) -> None:
        if any(isinstance(e, ev.ComparisonFinished) for e in batch):
            self._refresh_timer.start()

    # -- opening -------------------------------------------------------------------------
    def _on_current_cell_changed(self, row: int, _col: int, _prev_row: int, _prev_col: int) -> None:
        item = self.table.item(row, 0) if row >= 0 else None
        if item is not None and item.data(ID_ROLE) != self._open_id:
            self.open_comparison(item.data(ID_ROLE))

    def open_comparison(self, comparison_id: str) -> None:
        """Show the comparison's runs read-only: output as Markdown, final metrics, errors."""
        self._open_id = comparison_id
        runs = self.services.runs
        self.detail_label.setText("Loading…")
        self.services.tasks.run(lambda: runs().get_comparison(comparison_id), on_done=self._on_comparison_loaded,
                                on_error=self._on_load_failed, key=f"runs.open:{id(self)}")

    def _on_comparison_loaded(self, comparison: dict | None) -> None:
        if comparison is None:
            self.detail_label.setText("This comparison is no longer in the database.")
            self.grid.clear()
            return
        panes = []
        for run in comparison["runs"]:
            pane = RunPane(run.get("model_name") or run.get("model") or "?", read_only=True)
            pane.show_record(run)
            panes.append(pane)
        self.grid.set_panes(panes)
        self.detail_label.setText(_describe(comparison))
        self.comparison_opened.emit(comparison["id"])


def load_listing(runs_store, filters: Filters, kinds, limit: int = 500, scan: int = 20000) -> tuple:
    """(rows, prompt paths, model names, comparison id -> kind, comparison id -> variables,
    kinds) for runs of ``kinds`` (RunStore reads; runs in a task). Judge calls name no
    prompt of the workspace: their "judge:<evaluator>" paths are not offered as prompts."""
    runs_store.flush()
    runs = runs_store.list_runs(prompt_path=filters.prompt or None, since=filters.since, until=filters.until,
                                limit=scan, kinds=kinds)  # fmt: skip
    catalog = runs_store.list_comparisons(limit=1000, kinds=kinds)
    prompts = sorted({c["prompt_path"] for c in catalog if c.get("prompt_path") and c.get("kind") != "judge"})
    models = sorted({m for c in catalog for m in c.get("models") or []})
    kind_of = {r.get("comparison_id") or r["id"]: r.get("kind") or "comparison" for r in runs}
    variables = {c["id"]: c.get("variables") for c in catalog if c.get("kind") == "judge"}
    return summarize(runs, filters, limit), prompts, models, kind_of, variables, kinds


def _prompt_text(prompt_path: str | None, kind: str, variables: dict) -> tuple[str, str]:
    """What the Prompt column says for a row, and its tooltip: a judge call names its
    evaluator and the eval it judged for, not a "judge:" prompt path."""
    if kind == "judge" or (prompt_path or "").startswith(JUDGE_PREFIX):
        evaluator = variables.get("evaluator") or (prompt_path or "").removeprefix(JUDGE_PREFIX) or "?"
        eval_id = variables.get("eval_id")
        tip = f"LLM judge {evaluator!r}" + (f" of eval {eval_id}, judging run {variables.get('run_id')}"
                                            if eval_id else "")  # fmt: skip
        return f"judge: {evaluator}" + (f" (eval {eval_id[:8]})" if eval_id else ""), tip
    if prompt_path:
        return prompt_path, ""
    return ("(no prompt)" if kind in ("warmup", "connection_test") else DASH), ""


def _count_text(rows: list, kind_of: dict, kinds) -> str:
    """ "3 comparisons", "3 comparisons, 2 eval cells", "0 judge calls"."""
    if not rows:
        plural = "comparisons" if kinds is None or "comparison" in kinds else kinds_label(kinds)
        return f"0 {plural}"
    counts: dict[str, int] = {}
    for row in rows:
        kind = kind_of.get(row.comparison_id, "comparison")
        counts[kind] = counts.get(kind, 0) + 1
    return count_text(counts)


def _describe(c: dict) -> str:
    kind = c.get("kind") or "comparison"
    if kind == "judge":
        v = c.get("variables") or {}
        parts = [f"<b>Judge call</b> · evaluator {html.escape(str(v.get('evaluator') or c.get('prompt_path') or '?'))}"]
        if v.get("eval_id"):
            parts.append(html.escape(f"eval {v['eval_id']}, judging run {v.get('run_id')}"))
        parts.append(local_time(c.get("created_at")))
        return " · ".join(parts)
    parts = [f"<b>{html.escape(c.get('prompt_path') or DASH)}</b> @ {short_version(c.get('prompt_version'))}"]
    if kind != "comparison":
        parts.append(NAMES.get(kind, (kind,))[0])
    if c.get("test_case") is not None:
        parts.append(test_case_label(c["test_case"]))
    if c.get("variables"):
        values = ", ".join(f"{k}={v}" for k, v in c["variables"].items())
        parts.append(html.escape(f"values: {values[:120]}{'…' if len(values) > 120 else ''}"))
    if any(r.get("provider") == "local" for r in c.get("runs") or []):
        parts.append(f"local models: {local_mode_label(c.get('local_mode'))}")
    parts.append(local_time(c.get("created_at")))
    return " · ".join(parts)
