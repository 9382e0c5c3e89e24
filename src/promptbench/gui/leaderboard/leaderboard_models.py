"""Table models of the leaderboard: the ratings (sortable) and the win-rate heat map.

A version reads as ``3f2a1b0c · Edit system message · production``; its tooltip is the
whole commit message. Long row names in the heat map are cut in the middle, whole in
their tooltips.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QStyledItemDelegate

from promptbench.core.ranking.leaderboard import Rating
from promptbench.core.figures import DASH
from promptbench.gui.leaderboard.leaderboard_data import (ALL_PROMPTS, contestant_label, elide, version_label, version_tooltip,
                                                   win_rate)

SORT_ROLE = Qt.ItemDataRole.UserRole
BASE_COLUMNS = ("Rank", "Prompt", "Version", "Model", "Rating", "Interval", "Votes", "W / T / L", "Both bad")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_TIPS = {
    "Rank": "1 + how many contestants are surely better (their whole interval lies above this one)",
    "Rating": "1000 = the average of the contestants on the board; +400 = ten times the odds of winning",
    "Interval": "95% interval: bootstrap over test cases",
    "W / T / L": "Wins / ties / losses in the votes (an N-way ranking counts as its pairs)",
    "Both bad": "Votes where both outputs were judged bad",
    "Version": "Short commit id, commit subject and labels; hover a row for the whole commit message",
}


def fmt_rating(x: float) -> str:
    return f"{x:.0f}"


class RatingsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Rating] = []
        self.rubric: dict = {}
        self.criteria: list[str] = []
        self.versions: dict = {}

    def set_rows(self, rows: list[Rating], rubric: dict, criteria: list[str], versions: dict | None = None) -> None:
        self.beginResetModel()
        self.rows, self.rubric, self.criteria, self.versions = list(rows), rubric, list(criteria), versions or {}
        self.endResetModel()

    def columns(self) -> list[str]:
        return [*BASE_COLUMNS, *(c.capitalize() for c in self.criteria)]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(BASE_COLUMNS) + len(self.criteria)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        name = self.columns()[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            rubric = f"Mean rubric score (1–5) for {name.lower()}" if section >= len(BASE_COLUMNS) else None
            return _TIPS.get(name, rubric)
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r, col = self.rows[index.row()], index.column()
        c = r.contestant
        if col >= len(BASE_COLUMNS):
            mean = self.rubric.get(c, {}).get(self.criteria[col - len(BASE_COLUMNS)])
            if role == Qt.ItemDataRole.DisplayRole:
                return DASH if mean is None else f"{mean[0]:.2f}"
            if role == SORT_ROLE:
                return -1.0 if mean is None else mean[0]
            if role == Qt.ItemDataRole.ToolTipRole and mean is not None:
                return f"mean {mean[0]:.3f} over {mean[1]} score{'s' if mean[1] != 1 else ''}"
            return _RIGHT if role == Qt.ItemDataRole.TextAlignmentRole else None
        values = (r.rank, c.prompt, c.version, c.model, r.rating, r.ci_low, r.votes, r.wins, r.both_bad)
        if role == SORT_ROLE:
            return values[col]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 2:
                return DASH if c.prompt == ALL_PROMPTS else version_label(c, self.versions)
            if col == 4:
                return fmt_rating(r.rating)
            if col == 5:
                return f"[{fmt_rating(r.ci_low)}, {fmt_rating(r.ci_high)}]"
            if col == 7:
                return f"{r.wins} / {r.ties} / {r.losses}"
            return str(values[col])
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 2 and c.prompt != ALL_PROMPTS:
                return version_tooltip(c, self.versions)
            return (f"{contestant_label(c, with_prompt=True, versions=self.versions)}\nversion {c.version}\n"
                    f"rating {r.rating:.1f}, 95% interval [{r.ci_low:.1f}, {r.ci_high:.1f}]")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 4, 5, 6, 7, 8):
            return _RIGHT
        return None


class ElideDelegate(QStyledItemDelegate):
    """Cells of one column elided their own way (the table's mode is for the rest)."""

    def __init__(self, mode: Qt.TextElideMode, parent=None):
        super().__init__(parent)
        self.mode = mode

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = self.mode


class SortProxy(QSortFilterProxyModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)


def heat_color(rate: float, palette: QPalette) -> QColor:
    """Red (always loses) through the base colour (even) to green (always wins)."""
    dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
    good, bad = (QColor("#2e7d32"), QColor("#c62828")) if not dark else (QColor("#3fb950"), QColor("#f85149"))
    target, weight = (good, rate - 0.5) if rate >= 0.5 else (bad, 0.5 - rate)
    color = QColor(target)
    color.setAlphaF(min(1.0, 0.12 + 1.3 * weight))
    return color


class WinMatrixModel(QAbstractTableModel):
    """Row beats column: win rate (ties count half) and the number of votes between them."""

    def __init__(self, palette: QPalette, parent=None):
        super().__init__(parent)
        self.palette = palette
        self.keys: list[str] = []
        self.labels: list[str] = []
        self.matrix: dict = {}

    def set_matrix(self, keys: list[str], labels: list[str], matrix: dict) -> None:
        self.beginResetModel()
        self.keys, self.labels, self.matrix = list(keys), list(labels), matrix
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.keys)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.keys)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        """Rows: ``1. label``; columns just the number (the full label as a tooltip), so they stay narrow."""
        if section >= len(self.labels):
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.labels[section]
        if role == Qt.ItemDataRole.DisplayRole:
            horizontal = orientation == Qt.Orientation.Horizontal
            return f"{section + 1}" if horizontal else f"{section + 1}. {elide(self.labels[section])}"
        return None

    def cell(self, row: int, col: int) -> dict | None:
        return self.matrix.get((self.keys[row], self.keys[col]))

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        cell = self.cell(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if row == col:
            return DASH if role == Qt.ItemDataRole.DisplayRole else None
        if cell is None:
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{self.labels[row]} and {self.labels[col]} were never compared"
            return "" if role == Qt.ItemDataRole.DisplayRole else None
        rate = win_rate(cell)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{rate:.0%}  ({cell['n']})"
        if role == SORT_ROLE:
            return rate
        if role == Qt.ItemDataRole.BackgroundRole:
            return heat_color(rate, self.palette)
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{self.labels[row]} vs {self.labels[col]}: {cell['n']} votes\n"
                    f"{cell['wins']} won, {cell['ties']} tied, {cell['both_bad']} both bad, {cell['losses']} lost\n"
                    f"win rate {rate:.1%} (ties count half)")
        return None
