"""The lower half of the History tab: the base picker and the two views of one diff."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QTabWidget, QVBoxLayout, QWidget

from promptbench.core.store.history import Version
from promptbench.gui.history.diff_view import SideBySideDiffView
from promptbench.gui.history.jobs import DiffResult
from promptbench.gui.history.structured_diff_view import StructuredDiffView
from promptbench.gui.history.version_table import WORKTREE

PREVIOUS = "previous"


class DiffArea(QWidget):
    base_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.base_combo = QComboBox()
        self.base_combo.setMinimumContentsLength(28)
        self.base_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.base_combo.setToolTip("What the selected version is compared with (select two versions to compare them directly)")
        self.base_combo.currentIndexChanged.connect(lambda _i: self.base_changed.emit())
        self.compare_label = QLabel()
        self.compare_label.setTextFormat(Qt.TextFormat.PlainText)
        self.compare_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # long subjects: clip, don't widen
        self.side_by_side = SideBySideDiffView()
        self.structured_view = StructuredDiffView()
        self.tabs = QTabWidget(documentMode=True)
        self.tabs.addTab(self.side_by_side, "Side by side")
        self.tabs.addTab(self.structured_view, "Fields")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Compare with:"))
        bar.addWidget(self.base_combo)
        bar.addSpacing(12)
        bar.addWidget(self.compare_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        self.set_versions([])

    # -- base picker --------------------------------------------------------------------------
    def base(self) -> str:
        return self.base_combo.currentData() or PREVIOUS

    def set_base(self, rev: str) -> None:
        index = self.base_combo.findData(rev)
        if index >= 0:
            self.base_combo.setCurrentIndex(index)

    def set_versions(self, versions: list[Version]) -> None:
        """Offer: the previous version, the working copy, each label, each version."""
        current = self.base()
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        self.base_combo.addItem("Previous version", PREVIOUS)
        self.base_combo.addItem("Working copy (on disk)", WORKTREE)
        for version in versions:
            for label in version.labels:
                self.base_combo.addItem(f"{label} ({version.short})", version.sha)
        for version in versions:
            self.base_combo.addItem(f"{version.short} · {version.subject}", version.sha)
        self.base_combo.setCurrentIndex(max(self.base_combo.findData(current), 0))
        self.base_combo.blockSignals(False)

    # -- content ------------------------------------------------------------------------------
    def show_loading(self, old_title: str, new_title: str) -> None:
        self.compare_label.setText(f"{old_title}  →  {new_title}")

    def show_result(self, result: DiffResult, old_title: str, new_title: str) -> None:
        self.compare_label.setText(f"{old_title}  →  {new_title}")
        self.side_by_side.set_diff(result.rows, old_title, new_title)
        self.structured_view.set_structured(result.structured)
        if result.old_rev == result.new_rev:
            self.structured_view.show_message("Both sides are the same version.")

    def show_message(self, text: str) -> None:
        self.compare_label.setText("")
        self.side_by_side.show_message(text)
        self.structured_view.show_message(text)
