"""One output to judge: a letter (or, unblinded, who wrote it), the text as Markdown,
its place in an N-way order, thumbs and optional rubric scores.

Blind cards carry no trace of the contestant in any visible text or tooltip. Unblinded,
the subtitle names the version as ``prompt @ 3f7107a2 · Edit system message · production``
with the whole commit message as its tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.gui.widgets.markdown import OutputView
from promptbench.gui.widgets.elided import ElidedLabel
from promptbench.gui.rank.items import Versions, identity, version_text
from promptbench.gui.rank.ballot.nway import ordinal
from promptbench.gui.rank.ballot.rubric import RubricPanel
from promptbench.gui.rank.ballot.thumbs import ThumbsButtons

_KEY_CHIP = ("QLabel {{ border: 1px solid palette(mid); border-radius: 4px; padding: 0px 5px;"
             " font-family: monospace; font-size: {size}pt; }}")
_PLACE_CHIP = "QLabel { background: #1565c0; color: white; border-radius: 8px; padding: 1px 8px; }"
_PLACE_LAST = "QLabel { background: #607d8b; color: white; border-radius: 8px; padding: 1px 8px; }"


class OutputCard(QFrame):
    pick_clicked = Signal()     # N-way: "this one next"

    def __init__(self, services, criteria, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("OutputCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(260)
        self.contestant: Contestant | None = None
        self.run_id: str | None = None
        self.letter = ""
        self.versions: Versions = {}
        self._blind = True
        small = max(7.0, (self.font().pointSizeF() if self.font().pointSizeF() > 0 else 9.0) * 0.85)

        self.title = ElidedLabel(tooltip=False, mode=Qt.TextElideMode.ElideRight)
        bold = QFont(self.font())
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.1 if bold.pointSizeF() > 0 else 10)
        self.title.setFont(bold)
        self.subtitle = ElidedLabel(tooltip=False, mode=Qt.TextElideMode.ElideRight)
        self.subtitle.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.key_chip = QLabel()
        self.key_chip.setStyleSheet(_KEY_CHIP.format(size=small))
        self.key_chip.setToolTip("Press this key to choose this output")
        self.place_chip = QLabel()
        self.place_chip.hide()
        self.pick_button = QToolButton(text="Pick next")
        self.pick_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pick_button.setAutoRaise(True)
        self.pick_button.setToolTip("Rank this output next (best remaining)")
        self.pick_button.clicked.connect(self.pick_clicked)
        header = QHBoxLayout()
        header.setSpacing(8)
        header.addWidget(self.key_chip)
        header.addWidget(self.title, 1)
        header.addWidget(self.place_chip)
        header.addWidget(self.pick_button)

        self.output = OutputView()
        self.output.setMinimumHeight(140)
        for view in (self.output.raw, self.output.rendered):
            view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)   # the number keys stay with the rank view

        self.thumbs = ThumbsButtons(services)
        self.rubric = RubricPanel(criteria)
        self.rubric_toggle = QToolButton(text="Rubric", checkable=True, autoRaise=True)
        self.rubric_toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.rubric_toggle.setToolTip("Optional 1–5 scores for this output")
        self.rubric_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.rubric_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.rubric_toggle.toggled.connect(self.set_rubric_visible)
        footer = QHBoxLayout()
        footer.setSpacing(4)
        footer.addWidget(self.rubric_toggle)
        footer.addStretch(1)
        footer.addWidget(self.thumbs)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.output, 1)
        layout.addLayout(footer)
        layout.addWidget(self.rubric)
        self.set_rubric_visible(False)

    def show_output(self, letter: str, key: str, contestant: Contestant, run_id: str | None, text: str,
                    test_case: str | None, *, blind: bool, nway: bool, versions: Versions | None = None) -> None:
        self.letter, self.contestant, self.run_id = letter, contestant, run_id
        self.versions = versions if versions is not None else self.versions
        self.key_chip.setText(key)
        self.key_chip.setVisible(bool(key))
        self.output.clear_output()
        self.output.complete(text)
        self.rubric.clear()
        self.thumbs.set_target(run_id, contestant, test_case)
        self.pick_button.setVisible(nway)
        self.set_place(None)
        self.set_blind(blind)

    def set_blind(self, blind: bool) -> None:
        self._blind = blind
        if self.contestant is None or blind:
            self.title.setText(f"Output {self.letter}")
            self.title.setToolTip("")
            self.subtitle.setText("Hidden until you vote")
            self.subtitle.setToolTip("")
        else:
            c = self.contestant
            info = self.versions.get((c.prompt, c.version))
            self.title.setText(f"{self.letter} · {c.model}")
            self.title.setToolTip(identity(c, versions=self.versions))
            self.subtitle.setText(f"{c.prompt} @ {version_text(c, self.versions)}")
            self.subtitle.setToolTip(info.tooltip() if info else f"version {c.version}")

    def set_versions(self, versions: Versions) -> None:
        """The subjects and labels of the versions arrived: show them (only when unblinded)."""
        self.versions = versions
        self.set_blind(self._blind)

    def set_place(self, place: int | None, *, last: bool = False) -> None:
        if place is None:
            self.place_chip.hide()
            self.pick_button.setEnabled(True)
            return
        self.place_chip.setText(ordinal(place) + (" (last)" if last else ""))
        self.place_chip.setStyleSheet(_PLACE_LAST if last else _PLACE_CHIP)
        self.place_chip.show()
        self.pick_button.setEnabled(False)

    def set_rubric_visible(self, visible: bool) -> None:
        if self.rubric_toggle.isChecked() != visible:
            self.rubric_toggle.setChecked(visible)
        self.rubric_toggle.setArrowType(Qt.ArrowType.DownArrow if visible else Qt.ArrowType.RightArrow)
        self.rubric.setVisible(visible)

    def set_criteria(self, criteria) -> None:
        if list(criteria) != self.rubric.criteria():
            self.rubric.set_criteria(criteria)


def arrange(grid, cards: list[OutputCard], n: int) -> None:
    """Lay the first n cards out in a grid (2 or 3 to a row), hide the rest."""
    columns = n if n <= 3 else (2 if n == 4 else 3)
    for i, card in enumerate(cards):
        grid.removeWidget(card)
        if i < n:
            grid.addWidget(card, i // columns, i % columns)
        card.setVisible(i < n)
