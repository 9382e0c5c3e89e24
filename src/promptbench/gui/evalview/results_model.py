"""The results grid as a Qt table model: test cases down, version x model across.

Below the test cases, summary rows per column (pass rate, mean score, p50 TTFT,
tokens, cost, errors) read straight from the report's ``columns``. A baseline's
regressions tint their cells red and improvements green (with ▼/▲ in the text, so the
colour is not the only sign).
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from promptbench.core.figures import DASH, fmt_cost, fmt_ms, short_version
from promptbench.gui.evalview.cells import (ERROR, FAIL, MIXED, PASS, CellView, baseline_marks, cell_view, change_text,
                                            version_title)
from promptbench.gui.evalview.jobs import case_title

SUMMARY_ROWS = ("Pass rate", "Mean score", "p50 TTFT", "Tokens", "Cost", "Errors")
_TONES_LIGHT = {PASS: "#1a7f37", FAIL: "#cf222e", MIXED: "#9a6700", ERROR: "#bc4c00"}
_TONES_DARK = {PASS: "#3fb950", FAIL: "#f85149", MIXED: "#d29922", ERROR: "#db6d28"}
_TINT_LIGHT = {"regression": "#ffd8d3", "improvement": "#d2f5dc"}
_TINT_DARK = {"regression": "#5a1e24", "improvement": "#1b4a2c"}
KEY_ROLE = Qt.ItemDataRole.UserRole + 1    # (test case, version, model) of a result cell
TONE_ROLE = Qt.ItemDataRole.UserRole + 2


def _pct(value: float | None) -> str:
    return DASH if value is None else f"{value:.0%}"


class ResultsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.dark = False
        self._report: dict | None = None
        self._rows: list[int | None] = []            # test case indexes
        self._cols: list[tuple[str, str]] = []        # (version, model)
        self._col_titles: list[tuple[str, str]] = []  # (header text, tooltip)
        self._cells: dict[tuple, CellView] = {}
        self._columns: dict[tuple[str, str], dict] = {}
        self._case_labels: list[str] = []
        self._undecided: dict[tuple[str, str], int] = {}  # (version, model) -> evaluator errors on evaluated cells

    # -- filling -----------------------------------------------------------------------
    def set_report(self, report: dict | None, case_labels: list[str]) -> None:
        self.beginResetModel()
        self._report, self._case_labels = report, list(case_labels)
        self._rows, self._cols, self._col_titles, self._cells, self._columns = [], [], [], {}, {}
        if report is not None:
            self._fill(report)
        self.endResetModel()

    def _fill(self, report: dict) -> None:
        self._rows = list(report.get("test_cases") or [None])
        versions = report.get("versions") or []
        one = len(versions) <= 1
        for v in versions:
            vt = version_title(v, one)
            for m in report.get("models") or []:
                self._cols.append((v["version"], m))
                self._col_titles.append((f"{m}\n{vt}" if vt else m, f"{m}\nversion {short_version(v['version'])}"
                                         + (f" ({v['rev']})" if v.get("rev") else " (working copy)")))
        groups: dict[tuple, list[dict]] = {}
        for c in report.get("cells") or []:
            groups.setdefault((c["test_case"], c["version"], c["model"]), []).append(c)
        marks = baseline_marks(report)
        running = report.get("status") == "running"
        self._undecided = {}
        for key, cells in groups.items():
            col = (key[1], key[2])
            self._undecided[col] = self._undecided.get(col, 0) + sum(
                r["passed"] is None for c in cells if c.get("evaluated") for r in c["evaluators"])
            view = cell_view(cells, running)
            mark = marks.get((key[0], key[2]))
            if mark is not None:
                view.baseline = mark[0]
                view.text += "  ▼" if mark[0] == "regression" else "  ▲"
                view.tooltip = "\n".join(change_text(c) for c in mark[1]) + "\n\n" + view.tooltip
            self._cells[key] = view
        self._columns = {(c["version"], c["model"]): c for c in report.get("columns") or []}

    # -- reading -----------------------------------------------------------------------
    def report(self) -> dict | None:
        return self._report

    def key_at(self, index: QModelIndex) -> tuple | None:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        version, model = self._cols[index.column()]
        return (self._rows[index.row()], version, model)

    def index_of(self, test_case: int | None, model: str, version: str | None = None) -> QModelIndex:
        for c, (v, m) in enumerate(self._cols):
            if m == model and (version is None or v == version) and test_case in self._rows:
                return self.index(self._rows.index(test_case), c)
        return QModelIndex()

    def cell(self, key: tuple) -> CellView | None:
        return self._cells.get(key)

    def case_label(self, test_case: int | None) -> str:
        return case_title(test_case, self._case_labels)

    def column_title(self, column: int) -> str:
        return self._col_titles[column][1] if 0 <= column < len(self._col_titles) else ""

    # -- QAbstractTableModel -----------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() or not self._cols else len(self._rows) + len(SUMMARY_ROWS)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._cols)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if 0 <= section < len(self._col_titles):
                if role == Qt.ItemDataRole.DisplayRole:
                    return self._col_titles[section][0]
                if role == Qt.ItemDataRole.ToolTipRole:
                    return self._col_titles[section][1]
            return None
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self._rows):  # the whole label when elided
            return self.case_label(self._rows[section])
        if role == Qt.ItemDataRole.DisplayRole:
            if section < len(self._rows):
                return self.case_label(self._rows[section])
            return SUMMARY_ROWS[section - len(self._rows)]
        if role == Qt.ItemDataRole.FontRole and section >= len(self._rows):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def flags(self, index: QModelIndex):
        if index.isValid() and index.row() < len(self._rows):
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.row() >= len(self._rows):
            return self._summary_data(index.row() - len(self._rows), self._cols[index.column()], role)
        key = self.key_at(index)
        view = self._cells.get(key)
        if role == KEY_ROLE:
            return key
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if view is None:
            return DASH if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return view.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return view.tooltip
        if role == TONE_ROLE:
            return view.tone
        if role == Qt.ItemDataRole.ForegroundRole:
            color = (_TONES_DARK if self.dark else _TONES_LIGHT).get(view.tone)
            return QColor(color) if color else None
        if role == Qt.ItemDataRole.BackgroundRole and view.baseline:
            return QColor((_TINT_DARK if self.dark else _TINT_LIGHT)[view.baseline])
        if role == Qt.ItemDataRole.FontRole and view.tone in (PASS, FAIL, MIXED):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _summary_data(self, which: int, col: tuple[str, str], role):
        column = self._columns.get(col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if column is None:
            return DASH if role == Qt.ItemDataRole.DisplayRole else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._summary_text(which, column, self._undecided.get(col, 0))
        if role == Qt.ItemDataRole.ToolTipRole and which == 0:
            return f"{column['passed']} passed, {column['failed']} failed (evaluator verdicts over every test case " \
                   "and repeat; verdicts that could not be decided are left out)"
        if role == Qt.ItemDataRole.ToolTipRole and which == len(SUMMARY_ROWS) - 1:
            return "Runs that failed, and evaluators that ran but could not decide (a judge that is down, " \
                   "a missing variable)"
        if role == Qt.ItemDataRole.ForegroundRole and which == 0 and column.get("pass_rate") is not None:
            rate = column["pass_rate"]
            tone = PASS if rate >= 1 else FAIL if rate <= 0 else MIXED
            return QColor((_TONES_DARK if self.dark else _TONES_LIGHT)[tone])
        if role == Qt.ItemDataRole.FontRole and which == 0:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @staticmethod
    def _summary_text(which: int, c: dict, undecided: int) -> str:
        if which == 0:
            decided = c["passed"] + c["failed"]
            return f"{_pct(c['pass_rate'])}  ({c['passed']}/{decided})" if decided else DASH
        if which == 1:
            return DASH if c.get("mean_score") is None else f"{c['mean_score']:.2f}"
        if which == 2:
            return fmt_ms(c.get("p50_ttft_ms"))
        nothing_yet = not c.get("tokens") and not c.get("cost_usd")  # no run of the column ended yet
        if which == 3:
            return DASH if nothing_yet else f"{c['tokens']:,}"
        if which == 4:
            return DASH if nothing_yet else fmt_cost(c.get("cost_usd"))
        runs = c.get("run_errors") or 0
        parts = ([f"{runs} run{'s' if runs > 1 else ''} failed"] if runs else []) + \
            ([f"{undecided} undecided"] if undecided else [])
        return " · ".join(parts) or "none"
