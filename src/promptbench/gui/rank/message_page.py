"""What the rank view shows when there is no item to judge: a sentence, and the next steps.

After the last item of a queue: "All 3 comparisons judged: 2 votes recorded, 1 skipped."
with "Start a ranking session" and "Open leaderboard" buttons. ``done_text`` is plain
Python so the wording is tested without widgets.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from promptbench.core.figures import plural

NEXT_STEP = "Judge more pairs in a ranking session, or see how the votes add up on the leaderboard."


def done_text(total: int, cast: int, skipped: int) -> str:
    """The sentence at the end of a queue: ``total`` items shown, ``cast`` votes, ``skipped`` left out."""
    if not total and not skipped:
        return "Nothing to rank in this queue."
    if not cast:
        return f"No votes recorded: {plural(skipped, 'comparison')} skipped."
    judged = "1 comparison judged" if total == 1 else f"All {total} comparisons judged"
    left_out = f", {skipped} skipped" if skipped else ""
    return f"{judged}: {plural(cast, 'vote')} recorded{left_out}."


class MessagePage(QWidget):
    session_clicked = Signal()
    leaderboard_clicked = Signal()

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel(text, alignment=Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.hint = QLabel(NEXT_STEP, alignment=Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.session_button = QPushButton("Start a ranking session")
        self.session_button.setToolTip("Choose versions, models and test cases of the open prompt to judge"
                                       " (Run ▸ New ranking session…)")
        self.session_button.clicked.connect(self.session_clicked)
        self.leaderboard_button = QPushButton("Open leaderboard")
        self.leaderboard_button.setToolTip("Ratings with their ranges, from every vote so far")
        self.leaderboard_button.clicked.connect(self.leaderboard_clicked)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.session_button)
        buttons.addWidget(self.leaderboard_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(self.hint)
        layout.addSpacing(8)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.show_text(text)

    def text(self) -> str:
        return self.label.text()

    def show_text(self, text: str, *, next_steps: bool = False, hint: bool = True) -> None:
        """A sentence alone (loading, errors), or with the next steps under it (the buttons,
        and unless ``hint`` is False the sentence that explains them)."""
        self.label.setText(text)
        self.hint.setVisible(next_steps and hint)
        self.session_button.setVisible(next_steps)
        self.leaderboard_button.setVisible(next_steps)
