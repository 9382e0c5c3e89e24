"""Optional 1–5 scores per criterion: one compact row of segmented buttons per criterion.

Never required: a row left alone records nothing; clicking the chosen score again clears
it. The buttons take no keyboard focus, so the number keys keep voting.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QLabel, QToolButton, QWidget

DEFAULT_CRITERIA = ("correctness", "clarity", "safety", "relevance", "style")
SCORE_TIPS = {1: "1 — poor", 2: "2 — weak", 3: "3 — acceptable", 4: "4 — good", 5: "5 — excellent"}


def workspace_criteria(settings) -> list[str]:
    """The workspace's rubric criteria (a ``rubric_criteria`` setting when there is one)."""
    configured = getattr(settings, "rubric_criteria", None)
    if configured:
        return [str(c) for c in configured if str(c).strip()]
    return list(DEFAULT_CRITERIA)


class RubricPanel(QWidget):
    scores_changed = Signal()

    def __init__(self, criteria=DEFAULT_CRITERIA, parent: QWidget | None = None):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(0)
        self._grid.setVerticalSpacing(2)
        self._groups: dict[str, QButtonGroup] = {}
        self._widgets: list[QWidget] = []
        self.set_criteria(criteria)

    def set_criteria(self, criteria) -> None:
        for widget in self._widgets:
            self._grid.removeWidget(widget)
            widget.deleteLater()
        self._widgets, self._groups = [], {}
        for row, criterion in enumerate(criteria):
            label = QLabel(criterion.capitalize())
            label.setToolTip(f"Optional: score {criterion} from 1 (poor) to 5 (excellent)")
            self._grid.addWidget(label, row, 0)
            self._widgets.append(label)
            group = QButtonGroup(self)
            group.setExclusive(False)           # exclusive by hand, so a second click clears
            for score in range(1, 6):
                button = QToolButton(text=str(score), checkable=True)
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setToolTip(f"{criterion}: {SCORE_TIPS[score]}")
                button.setFixedSize(24, 20)
                group.addButton(button, score)
                self._grid.addWidget(button, row, score)
                self._widgets.append(button)
            group.idToggled.connect(lambda score, on, g=group: self._on_id_toggled(g, score, on))
            self._groups[criterion] = group
        self._grid.setColumnStretch(0, 1)
        self._grid.setColumnMinimumWidth(0, 84)

    def criteria(self) -> list[str]:
        return list(self._groups)

    def _on_id_toggled(self, group: QButtonGroup, score: int, on: bool) -> None:
        if on:
            for other in group.buttons():
                if group.id(other) != score and other.isChecked():
                    other.setChecked(False)
        self.scores_changed.emit()

    def scores(self) -> dict[str, int]:
        """Criterion -> score for the rows that were scored."""
        out = {}
        for criterion, group in self._groups.items():
            checked = next((b for b in group.buttons() if b.isChecked()), None)
            if checked is not None:
                out[criterion] = group.id(checked)
        return out

    def clear(self) -> None:
        for group in self._groups.values():
            for button in group.buttons():
                button.setChecked(False)
