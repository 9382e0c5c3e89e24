"""The results grid widget: a table over :class:`ResultsModel` that keeps the picked cell
across refreshes and says which cell was clicked."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from promptbench.gui.evalview.results_model import KEY_ROLE, ResultsModel

MIN_COLUMN, MAX_COLUMN = 130, 300  # 300: a cell showing both readings of its judges


class ResultsGrid(QTableView):
    cell_clicked = Signal(object)  # (test case, version, model)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.results = ResultsModel(self)
        self.setModel(self.results)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setMinimumSectionSize(90)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setMaximumWidth(320)
        self.verticalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)  # "…", not a cut word, at 320 px
        self.clicked.connect(self._on_clicked)

    def set_report(self, report: dict | None, case_labels: list[str]) -> tuple | None:
        """Show *report*; returns the picked cell's key if it is still in the grid."""
        key = self.current_key()
        self.results.dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        self.results.set_report(report, case_labels)
        if self.results.columnCount():
            self.resizeColumnsToContents()
            for col in range(self.results.columnCount()):
                self.setColumnWidth(col, max(MIN_COLUMN, min(MAX_COLUMN, self.columnWidth(col) + 16)))
        if key is not None and self.results.cell(key) is not None:
            self.setCurrentIndex(self.results.index_of(key[0], key[2], key[1]))
            return key
        return None

    def fit_height(self, splitter) -> None:
        """Give the grid the height its rows need in *splitter* (up to 60%); the pane below the rest."""
        total = sum(splitter.sizes())
        if total <= 0:
            return
        needed = self.horizontalHeader().height() + self.verticalHeader().length() + 2 * self.frameWidth() + 6
        if self.horizontalHeader().length() + self.verticalHeader().width() > splitter.width():
            needed += self.horizontalScrollBar().sizeHint().height()
        top = min(needed, int(total * 0.6))
        splitter.setSizes([top, total - top])

    def current_key(self) -> tuple | None:
        index = self.currentIndex()
        return index.data(KEY_ROLE) if index.isValid() else None

    def select(self, test_case: int | None, model: str, version: str | None = None) -> tuple | None:
        index = self.results.index_of(test_case, model, version)
        if not index.isValid():
            return None
        self.setCurrentIndex(index)
        return self.results.key_at(index)

    def text_at(self, test_case: int | None, model: str, version: str | None = None) -> str | None:
        index = self.results.index_of(test_case, model, version)
        return index.data() if index.isValid() else None

    def summary_text(self, row_name: str, column: int) -> str | None:
        from promptbench.gui.evalview.results_model import SUMMARY_ROWS

        rows = self.results.rowCount() - len(SUMMARY_ROWS)
        return self.results.index(rows + SUMMARY_ROWS.index(row_name), column).data()

    def _on_clicked(self, index: QModelIndex) -> None:
        key = self.results.key_at(index)
        if key is not None:
            self.cell_clicked.emit(key)
