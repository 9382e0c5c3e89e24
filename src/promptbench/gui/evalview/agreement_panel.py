"""How well each LLM judge agrees with people: percent agreement and Cohen's kappa over
pairwise votes (Rank tab) on two runs the judge scored."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from promptbench.core.figures import DASH

COLUMNS = ("Evaluator", "Judge model", "Votes", "Agreement", "Cohen's κ")
_EMPTY = ("No judge to compare yet. When an llm or github/… evaluator has scored two outputs that you also "
          "compared in the Rank tab, this shows how often the judge preferred the same one.")
_ABOUT = ("Per judge: on pairs of outputs you voted on, how often the judge's higher score picked your winner. "
          "κ corrects for chance: above 0.6 is substantial agreement, near 0 is no better than chance.")


def kappa_words(kappa: float | None) -> str:
    if kappa is None:
        return DASH
    for limit, words in ((0.8, "almost perfect"), (0.6, "substantial"), (0.4, "moderate"), (0.2, "fair"), (0.0, "slight")):
        if kappa > limit:
            return f"{kappa:.2f} ({words})"
    return f"{kappa:.2f} (none)"


class AgreementPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.about = QLabel(_ABOUT)
        self.about.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.empty = QLabel(_EMPTY)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.about)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)
        self.show_rows([])

    def show_rows(self, rows: list[dict]) -> None:
        self.tree.clear()
        for r in rows:
            percent = DASH if r.get("percent") is None else f"{r['percent']:.0f}%"
            item = QTreeWidgetItem([r["evaluator"], r.get("judge_model") or DASH, str(r.get("n") or 0), percent,
                                    kappa_words(r.get("kappa"))])
            for col in (2, 3):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.tree.setVisible(bool(rows))
        self.empty.setVisible(not rows)

    def rows(self) -> list[list[str]]:
        return [[self.tree.topLevelItem(i).text(c) for c in range(len(COLUMNS))]
                for i in range(self.tree.topLevelItemCount())]
