"""One grid cell in full: each repeat's output (Markdown) and every evaluator's verdict and reason
(a judge whose two readings disagree shows both: "✗ fail (strict reading: pass)")."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QHeaderView, QLabel, QSizePolicy, QSplitter, QTabBar, QTreeWidget, QTreeWidgetItem,
                               QVBoxLayout, QWidget)

from promptbench.core.figures import DASH, fmt_cost, fmt_ms
from promptbench.gui.widgets.markdown import OutputView
from promptbench.core.eval.judging import READING_NAMES, verdict_word
from promptbench.gui.evalview.cells import BINARY_KINDS, CellView, change_text, disagreement_text, repeat_verdict

COL_NAME, COL_RESULT, COL_SCORE, COL_REASON = range(4)
_PASS, _FAIL, _ERROR = "#2da44e", "#e5534b", "#d4a72c"


def _result_text(r: dict) -> tuple[str, str]:
    if r["passed"] is None:
        return "? could not decide", _ERROR
    text, color = ("✓ pass", _PASS) if r["passed"] else ("✗ fail", _FAIL)
    other = r.get("other_reading")
    if other and other["passed"] != r["passed"]:
        text += f" ({READING_NAMES[other['mode']]}: {verdict_word(other['passed'])})"
    return text, color


class DetailPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._view: CellView | None = None
        self.title = QLabel("Click a cell of the grid to see its output and why each evaluator passed or failed.")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.repeats = QTabBar()
        self.repeats.setDrawBase(False)
        self.repeats.setExpanding(False)
        self.repeats.currentChanged.connect(self._on_repeats_current_changed)
        self.meta = QLabel()
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.changes.hide()

        self.output = OutputView()
        self.evaluators = QTreeWidget()
        self.evaluators.setHeaderLabels(["Evaluator", "Result", "Score", "Reason"])
        self.evaluators.setRootIsDecorated(False)
        self.evaluators.setWordWrap(True)
        self.evaluators.setAlternatingRowColors(True)
        header = self.evaluators.header()
        header.setStretchLastSection(True)
        for col in (COL_NAME, COL_RESULT, COL_SCORE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.output)
        split.addWidget(self.evaluators)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)
        self.body = split

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.repeats)
        layout.addWidget(self.meta)
        layout.addWidget(self.changes)
        layout.addWidget(split, 1)
        layout.addStretch(0)  # takes the space only while the body is hidden
        self._set_body_visible(False)

    # -- showing -----------------------------------------------------------------------
    def show_cell(self, title: str, view: CellView | None, changes: list[dict] | None = None) -> None:
        self._view = view
        self.title.setText(title)
        self.repeats.blockSignals(True)
        while self.repeats.count():
            self.repeats.removeTab(0)
        cells = view.repeats if view else []
        for i, cell in enumerate(cells):
            verdict = repeat_verdict(cell)
            mark = "✓" if verdict else "✗" if verdict is False else "⚠" if cell.get("status") == "error" else "?"
            self.repeats.addTab(f"Repeat {i + 1} {mark}")
        self.repeats.setVisible(len(cells) > 1)
        self.repeats.blockSignals(False)
        if changes:
            self.changes.setText("Against the baseline:<br>" + "<br>".join(html.escape(change_text(c)) for c in changes))
            self.changes.show()
        else:
            self.changes.hide()
        self._set_body_visible(bool(cells))
        if cells:
            self.repeats.setCurrentIndex(0)
            self._show_repeat(0)

    def clear(self) -> None:
        self.show_cell("Click a cell of the grid to see its output and why each evaluator passed or failed.", None)

    def current_output(self) -> str:
        return self.output.text()

    def reasons(self) -> list[str]:
        return [self.evaluators.topLevelItem(i).text(COL_REASON) for i in range(self.evaluators.topLevelItemCount())]

    # -- internals ---------------------------------------------------------------------
    def _set_body_visible(self, visible: bool) -> None:
        self.meta.setVisible(visible)
        self.body.setVisible(visible)
        if not visible:
            self.repeats.hide()

    def _on_repeats_current_changed(self, index: int) -> None:
        if index >= 0:
            self._show_repeat(index)

    def _show_repeat(self, index: int) -> None:
        cell = self._view.repeats[index]
        self.meta.setText(self._meta_text(cell))
        self.output.clear_output()
        output = cell.get("output")
        if output:
            self.output.append(output)
        self.output.complete(output or "")
        self.evaluators.clear()
        for r in cell.get("evaluators") or ():
            text, color = _result_text(r)
            graded = r["kind"] not in BINARY_KINDS
            score = f"{r['score']:.2f}" if graded and r["score"] is not None else DASH
            name = r["name"] + (f"  ({r['kind']})" if r["kind"] else "")
            reason = r.get("error") or r.get("reason") or ""
            if r.get("judge_model"):
                reason += f"  [judge {r['judge_model']}]"
            item = QTreeWidgetItem([name, text, score, reason])
            item.setForeground(COL_RESULT, QColor(color))
            item.setToolTip(COL_REASON, reason)
            if r.get("other_reading"):
                item.setToolTip(COL_RESULT, disagreement_text(r))
            item.setTextAlignment(COL_SCORE, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.evaluators.addTopLevelItem(item)

    @staticmethod
    def _meta_text(cell: dict) -> str:
        status = cell.get("status") or DASH
        if status == "error":
            return f"⚠ the run failed ({cell.get('error_class') or 'unknown'}): {cell.get('error') or ''}".strip()
        if status in ("pending", "cancelled"):
            return "This cell did not run (the eval was cancelled or stopped): Resume runs it."
        out = cell.get("output_tokens")
        parts = [f"TTFT {fmt_ms(cell.get('ttft_ms'))}", f"total {fmt_ms(cell.get('total_ms'))}",
                 f"{out} tokens out" if out is not None else None, fmt_cost(cell.get("cost_usd")),
                 f"run {cell['run_id'][:8]}" if cell.get("run_id") else None]
        if not cell.get("evaluated"):
            parts.insert(0, "not evaluated yet")
        return " · ".join(p for p in parts if p)
