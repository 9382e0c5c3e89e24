"""The test-data table: one row per test case, one column per variable."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QRect, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLineEdit, QPlainTextEdit, QPushButton,
                               QStyledItemDelegate, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.prompts.promptfile import PromptFile
from promptbench.gui.editor.forms import edits
from promptbench.gui.widgets.flow_layout import flow_row
from promptbench.gui.editor.forms.params_form import parse_value, value_text

MISSING_TINT = QColor(229, 57, 53, 40)


class _CellDelegate(QStyledItemDelegate):
    """Multi-line values are edited in a plain-text box; single-line ones in a line edit."""

    def createEditor(self, parent, option, index: QModelIndex):  # noqa: N802
        if "\n" in (index.data() or ""):
            editor = QPlainTextEdit(parent)
            editor.setTabChangesFocus(True)
            return editor
        return super().createEditor(parent, option, index)

    def setEditorData(self, editor, index: QModelIndex) -> None:  # noqa: N802
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(index.data() or "")
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index: QModelIndex) -> None:  # noqa: N802
        if isinstance(editor, QPlainTextEdit):
            model.setData(index, editor.toPlainText())
        else:
            super().setModelData(editor, model, index)

    def updateEditorGeometry(self, editor, option, index: QModelIndex) -> None:  # noqa: N802
        rect = QRect(option.rect)
        if isinstance(editor, QPlainTextEdit):
            rect.setHeight(max(rect.height(), editor.fontMetrics().lineSpacing() * 5 + 8))
        editor.setGeometry(rect)


class TestDataTable(QWidget):
    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = QTableWidget(0, 0)
        self.table.setItemDelegate(_CellDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setMinimumSectionSize(90)
        self.table.setWordWrap(True)
        self.table.itemChanged.connect(self._on_item_changed)
        self.column_name = QLineEdit(placeholderText="new column name")
        self.column_name.setMinimumWidth(150)
        self.column_name.setMaximumWidth(220)
        self.column_name.returnPressed.connect(self._on_add_column_clicked)
        add_row = QPushButton("Add test case")
        add_row.clicked.connect(self._on_add_row_clicked)
        remove_row = QPushButton("Remove test case")
        remove_row.clicked.connect(self._on_remove_row_clicked)
        add_column = QPushButton("Add column")
        add_column.clicked.connect(self._on_add_column_clicked)
        remove_column = QPushButton("Remove column")
        remove_column.clicked.connect(self._on_remove_column_clicked)
        # One row when there is room, two on a narrow window: never a clipped button.
        buttons = flow_row(add_row, remove_row, self.column_name, add_column, remove_column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.columns: list[str] = []
        self.variables: list[str] = []
        self._cases: list[dict] = []
        self._extra: list[str] = []  # columns added here that no test case has a value for yet

    # -- showing -------------------------------------------------------------------------
    def forget_added_columns(self) -> None:
        """Drop columns added here but never filled (when another file is loaded)."""
        self._extra = []

    def set_prompt(self, prompt: PromptFile) -> None:
        self.variables = prompt.variables
        self._cases = prompt.test_data
        keys = list(dict.fromkeys(k for case in self._cases for k in case))
        columns = list(dict.fromkeys(self.variables + keys + self._extra))
        rows = [[value_text(case[c]) if c in case else "" for c in columns] for case in self._cases]
        if columns == self.columns and len(rows) == self.table.rowCount():
            self._update_cells(rows)
        else:
            self._rebuild(columns, rows)

    def _rebuild(self, columns: list[str], rows: list[list[str]]) -> None:
        self.columns = columns
        self.table.blockSignals(True)
        self.table.clear()
        self.table.setColumnCount(len(columns))
        self.table.setRowCount(len(rows))
        for col, name in enumerate(columns):
            header = QTableWidgetItem(name)
            if name not in self.variables:
                font = QFont(header.font())
                font.setItalic(True)
                header.setFont(font)
                header.setToolTip(f"{name}: not used by the messages (evaluators may read it, e.g. 'expected')")
            else:
                header.setToolTip(f"{{{{{name}}}}} in the messages")
            self.table.setHorizontalHeaderItem(col, header)
        self.table.setVerticalHeaderLabels([str(r + 1) for r in range(len(rows))])
        self.table.blockSignals(False)
        self._update_cells(rows, resize=False)
        for col in range(len(columns)):
            self.table.setColumnWidth(col, max(120, min(320, self.table.sizeHintForColumn(col) + 16)))
        self._fit_rows()
        self._fit_height()

    def _update_cells(self, rows: list[list[str]], resize: bool = True) -> None:
        self.table.blockSignals(True)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)
                missing = self.columns[c] in self.variables and self.columns[c] not in self._cases[r]
                item.setBackground(QBrush(MISSING_TINT) if missing else QBrush())
                item.setToolTip(f"missing: no value for {{{{{self.columns[c]}}}}}" if missing else "")
        self.table.blockSignals(False)
        if resize:
            self._fit_rows()

    def _fit_rows(self) -> None:
        self.table.resizeRowsToContents()
        for row in range(self.table.rowCount()):  # a little air around wrapped text
            self.table.setRowHeight(row, self.table.rowHeight(row) + 6)

    def _fit_height(self) -> None:
        rows = min(self.table.rowCount(), 10)
        height = self.table.horizontalHeader().height() + self.table.frameWidth() * 2 + 4
        height += sum(self.table.rowHeight(r) for r in range(rows)) if rows else self.table.verticalHeader().defaultSectionSize()
        if self.table.rowCount() > rows:
            height += self.table.horizontalScrollBar().sizeHint().height()
        self.table.setMinimumHeight(height)
        self.table.setMaximumHeight(max(height, 320))

    # -- editing ---------------------------------------------------------------------------
    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row, col = item.row(), item.column()
        if row >= len(self._cases) or col >= len(self.columns):
            return
        key, text = self.columns[col], item.text()
        case = self._cases[row]
        if text == "":
            if key in case:
                self.edited.emit(edits.set_test_value(row, key, None))
            return
        self.edited.emit(edits.set_test_value(row, key, _typed(case.get(key), text)))

    def _on_add_row_clicked(self) -> None:
        self.edited.emit(edits.add_test_case({name: "" for name in self.variables}))

    def _on_remove_row_clicked(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self._cases):
            self.edited.emit(edits.remove_test_case(row))

    def _on_add_column_clicked(self) -> None:
        name = self.column_name.text().strip()
        if not name or name in self.columns:
            return
        self.column_name.clear()
        self._extra.append(name)
        self._rebuild(self.columns + [name], [[self.table.item(r, c).text() if self.table.item(r, c) else ""
                                               for c in range(len(self.columns))] + [""] for r in range(len(self._cases))])

    def _on_remove_column_clicked(self) -> None:
        col = self.table.currentColumn()
        if not 0 <= col < len(self.columns):
            return
        key = self.columns[col]
        if key in self._extra:
            self._extra.remove(key)
        if any(key in case for case in self._cases):
            self.edited.emit(edits.remove_test_key(key))
        else:
            columns = [c for c in self.columns if c != key]
            self._rebuild(columns, [[value_text(case[c]) if c in case else "" for c in columns] for case in self._cases])


def _typed(old: Any, text: str) -> Any:
    """Keep a number or boolean a number or boolean when the new text still reads as one."""
    if old is None or isinstance(old, str):
        return text
    parsed = parse_value(text)
    return parsed if type(parsed) is type(old) or (isinstance(old, (int, float)) and isinstance(parsed, (int, float)) and not isinstance(parsed, bool)) else text
