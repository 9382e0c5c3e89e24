"""Run panes side by side: one row for up to 4, two rows beyond (2 to 8 panes).

The grid sits in a scroll area: panes share the width evenly and keep a readable
minimum width, so a narrow window scrolls sideways instead of crushing the text.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QScrollArea, QWidget

ONE_ROW_MAX = 4


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, columns) for ``count`` panes."""
    if count <= 0:
        return 0, 0
    rows = 1 if count <= ONE_ROW_MAX else 2
    return rows, math.ceil(count / rows)


class PaneGrid(QScrollArea):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._inner = QWidget()
        self._layout = QGridLayout(self._inner)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(8)
        self.setWidget(self._inner)
        self._panes: list[QWidget] = []

    def panes(self) -> list:
        return list(self._panes)

    def set_panes(self, panes: list) -> list:
        """Show ``panes`` instead of the current ones (which are deleted)."""
        for pane in self._panes:
            self._layout.removeWidget(pane)
            pane.hide()
            pane.deleteLater()
        self._panes = list(panes)
        self._reflow()
        return self.panes()

    def clear(self) -> None:
        self.set_panes([])

    def _reflow(self) -> None:
        for col in range(self._layout.columnCount()):
            self._layout.setColumnStretch(col, 0)
        for row in range(self._layout.rowCount()):
            self._layout.setRowStretch(row, 0)
        rows, cols = grid_shape(len(self._panes))
        for i, pane in enumerate(self._panes):
            self._layout.addWidget(pane, i // cols, i % cols)
            pane.show()
        for col in range(cols):
            self._layout.setColumnStretch(col, 1)
        for row in range(rows):
            self._layout.setRowStretch(row, 1)
