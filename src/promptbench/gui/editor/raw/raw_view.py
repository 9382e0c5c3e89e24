"""The Raw YAML page: code editor, find bar (Ctrl+F) and the problems list under it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSplitter, QStyle,
                               QVBoxLayout, QWidget)

from promptbench.core.errors import Problem
from promptbench.core.prompts.fixes import fix_label
from promptbench.gui.editor.raw.code_editor import CodeEditor
from promptbench.gui.editor.raw.find_bar import FindBar

_LINE_ROLE = Qt.ItemDataRole.UserRole
_PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1


class RawView(QWidget):
    fix_requested = Signal(object)  # the Problem whose one-click fix the person pressed

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = CodeEditor()
        self.find_bar = FindBar(self.editor)
        self.summary = QLabel()
        self.summary.setContentsMargins(6, 4, 6, 2)
        self.problem_list = QListWidget()
        self.problem_list.setAlternatingRowColors(True)
        self.problem_list.setWordWrap(True)
        self.problem_list.itemActivated.connect(self._on_problem_activated)
        self.problem_list.itemClicked.connect(self._on_problem_activated)
        self.problem_list.currentItemChanged.connect(self._on_current_problem_changed)
        self.fix_button = QPushButton()
        self.fix_button.setToolTip("Apply the fix for the selected problem (one undoable edit: Ctrl+Z takes it back)")
        self.fix_button.clicked.connect(self._on_fix_clicked)
        self.fix_button.hide()

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(0)
        top_layout.addWidget(self.editor, 1)
        top_layout.addWidget(self.find_bar)
        bottom = self._bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(0)
        summary_row = QHBoxLayout()
        summary_row.setContentsMargins(0, 0, 4, 0)
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.fix_button)
        bottom_layout.addLayout(summary_row)
        bottom_layout.addWidget(self.problem_list, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(top)
        self.split.addWidget(bottom)
        self.split.setStretchFactor(0, 1)
        self.split.setCollapsible(0, False)
        self.split.setSizes([600, 110])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)
        QShortcut(QKeySequence.StandardKey.Find, self, self.find_bar.open_bar,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.set_problems([], [])

    def text(self) -> str:
        return self.editor.toPlainText()

    def replace_text(self, text: str) -> None:
        """Put *text* in the editor as one undoable edit that touches only the changed span,
        so the cursor and scroll position stay where they were."""
        old = self.editor.toPlainText()
        if old == text:
            return
        start = common_prefix(old, text)
        tail = common_prefix(old[start:][::-1], text[start:][::-1])
        end_old, end_new = len(old) - tail, len(text) - tail
        cursor = QTextCursor(self.editor.document())
        cursor.setPosition(start)
        cursor.setPosition(end_old, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(text[start:end_new])

    def set_problems(self, errors: list[Problem], warnings: list[Problem]) -> None:
        self.editor.set_problems(errors, warnings)
        self.problem_list.clear()
        style = self.style()
        for problems, icon, kind in ((errors, QStyle.StandardPixmap.SP_MessageBoxCritical, "error"),
                                     (warnings, QStyle.StandardPixmap.SP_MessageBoxWarning, "warning")):
            for problem in problems:
                where = f"Line {problem.line}" if problem.line else "File"
                what = f"{problem.field}: {problem.message}" if problem.field else problem.message
                item = QListWidgetItem(style.standardIcon(icon), f"{where}  ·  {what}")
                item.setData(_LINE_ROLE, problem.line or 0)
                item.setData(_PROBLEM_ROLE, problem)
                label = fix_label(problem)
                item.setToolTip(f"{kind}: {what}" + (f"\nOne-click fix: {label}" if label else ""))
                if label:
                    item.setText(f"{item.text()}  ·  fix: {label}")
                self.problem_list.addItem(item)
        parts = []
        if errors:
            parts.append(f"{len(errors)} problem{'s' if len(errors) != 1 else ''}")
        if warnings:
            parts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
        fixable = sum(1 for p in [*errors, *warnings] if fix_label(p))
        if fixable:
            parts.append(f"{fixable} with a one-click fix: select one")
        self.summary.setText(", ".join(parts) if parts else "No problems")
        first = next((i for i in range(self.problem_list.count())
                      if fix_label(self.problem_list.item(i).data(_PROBLEM_ROLE))), None)
        if first is not None:
            self.problem_list.setCurrentRow(first)  # so the fix button offers something at once
        self._on_current_problem_changed(self.problem_list.currentItem())
        self.problem_list.setVisible(bool(parts))
        # Without problems the lower pane is just the one-line summary.
        self._bottom.setMaximumHeight(16777215 if parts else self.summary.sizeHint().height())
        if parts and self.split.sizes()[1] < 80:
            total = sum(self.split.sizes())
            self.split.setSizes([max(total - 130, 100), 130])

    def current_problem(self) -> Problem | None:
        item = self.problem_list.currentItem()
        return None if item is None else item.data(_PROBLEM_ROLE)

    def _on_current_problem_changed(self, item: QListWidgetItem | None) -> None:
        label = fix_label(item.data(_PROBLEM_ROLE)) if item is not None else None
        self.fix_button.setText(f"Fix: {label}" if label else "")
        self.fix_button.setVisible(bool(label))

    def _on_fix_clicked(self) -> None:
        problem = self.current_problem()
        if problem is not None and fix_label(problem):
            self.fix_requested.emit(problem)

    def _on_problem_activated(self, item: QListWidgetItem) -> None:
        line = int(item.data(_LINE_ROLE) or 0)
        if line:
            self.editor.go_to_line(line)


def common_prefix(a: str, b: str) -> int:
    """Length of the common prefix of *a* and *b*, by bisection over C-level slice
    comparisons (a character loop in Python costs milliseconds on a 40 kB prompt)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low
