"""The right-hand side below the toolbar: the grid over a Cell / Judge agreement pane.

The grid gets the height its rows need (up to 60%) until the person moves the splitter.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from promptbench.gui.evalview.agreement_panel import AgreementPanel
from promptbench.gui.evalview.detail_panel import DetailPanel
from promptbench.gui.evalview.results_grid import ResultsGrid

_PLACEHOLDER = ("Check models (and versions), then press Run eval.\n"
                "Each cell shows ✓/✗ per test case; click it for the output and the reasons.")


class ResultsArea(QSplitter):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.grid = ResultsGrid()
        self.placeholder = QLabel(_PLACEHOLDER)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.detail = DetailPanel()
        self.agreement = AgreementPanel()
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.detail, "Cell")
        self.tabs.addTab(self.agreement, "Judge agreement")
        top = QWidget()
        box = QVBoxLayout(top)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.placeholder, 1)
        box.addWidget(self.grid, 1)
        self.addWidget(top)
        self.addWidget(self.tabs)
        self.setStretchFactor(0, 2)
        self.setStretchFactor(1, 3)
        self.setChildrenCollapsible(False)
        self._user_sized = False  # the person moved the splitter: keep their sizes
        self.splitterMoved.connect(self._on_splitter_moved)

    def show_grid(self, visible: bool) -> None:
        self.grid.setVisible(visible)
        self.placeholder.setVisible(not visible)
        if visible:
            self.fit()

    def fit(self) -> None:
        if not self._user_sized and self.grid.isVisibleTo(self):
            self.grid.fit_height(self)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self._user_sized = True
