"""The "Show" filter of Runs and the Dashboard: which kinds of runs they count.

Comparisons and eval cells by default; judge calls, ranking generations, warm-ups and
connection tests when asked (core/run_kinds.py). A filter that is none of the presets
(e.g. from a dashboard click) is added as an item of its own.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from promptbench.core.engine.run_kinds import CHOICES, choice_label, kinds_label, resolve_kinds


class KindBox(QComboBox):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        for label, kinds in CHOICES:
            self.addItem(label, kinds)
        self.setToolTip("Which kinds of runs to show: a person's comparisons and eval cells, or also the judge calls "
                        "of evals (their cost is in each eval's report), ranking generations, warm-ups and "
                        "connection tests")  # fmt: skip
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

    def kinds(self) -> tuple[str, ...] | None:
        """The chosen kinds (None: every kind)."""
        return resolve_kinds(self.currentData())

    def set_kinds(self, kinds) -> None:
        """Choose ``kinds`` (a RUN_KINDS sequence, None or "all"), adding an item if no preset matches."""
        wanted = resolve_kinds(kinds)
        for i in range(self.count()):
            if resolve_kinds(self.itemData(i)) == wanted:
                self.setCurrentIndex(i)
                return
        self.addItem(choice_label(wanted), wanted)
        self.setItemData(self.count() - 1, f"Runs of these kinds: {kinds_label(wanted)}", Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(self.count() - 1)
