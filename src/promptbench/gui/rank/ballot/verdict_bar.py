"""The row under the outputs: the pairwise verdict buttons, or the N-way order so far.

Every button names its key, so the key map is on screen. Buttons take no focus: the
keyboard stays with the rank view.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QWidget

VERDICTS = (("left", "{0} is better", "1"), ("right", "{1} is better", "2"), ("tie", "Tie", "3"),
            ("both_bad", "Both bad", "0"))
VERDICT_TIPS = {"left": "The left output is better", "right": "The right output is better",
                "tie": "Both are about as good", "both_bad": "Neither is acceptable"}


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setToolTip(tip)
    button.setMinimumHeight(30)
    return button


class VerdictBar(QStackedWidget):
    verdict_clicked = Signal(str)   # left / right / tie / both_bad
    undo_clicked = Signal()
    tie_clicked = Signal()
    submit_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        pair = QWidget()
        row = QHBoxLayout(pair)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.buttons: dict[str, QPushButton] = {}
        for verdict, text, key in VERDICTS:
            button = _button("", VERDICT_TIPS[verdict] + f" (key {key})")
            button.setCheckable(True)
            button.setProperty("template", f"{text} ({key})")
            button.clicked.connect(lambda _=False, v=verdict: self.verdict_clicked.emit(v))
            self.buttons[verdict] = button
            row.addWidget(button, 2 if verdict in ("left", "right") else 1)
        self.set_letters("A", "B")

        nway = QWidget()
        line = QHBoxLayout(nway)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(8)
        self.order_label = QLabel()
        self.order_label.setTextFormat(Qt.TextFormat.RichText)
        self.keys_label = QLabel()
        self.keys_label.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.tie_button = _button("Tie with previous (=)", "The next pick shares the place of the previous one")
        self.undo_button = _button("Undo (⌫)", "Take back the last pick (Backspace)")
        self.submit_button = _button("Submit ranking (Enter)", "Save this order and show the next outputs")
        self.tie_button.clicked.connect(self.tie_clicked)
        self.undo_button.clicked.connect(self.undo_clicked)
        self.submit_button.clicked.connect(self.submit_clicked)
        line.addWidget(self.order_label, 1)
        line.addWidget(self.keys_label)
        line.addWidget(self.tie_button)
        line.addWidget(self.undo_button)
        line.addWidget(self.submit_button)
        self.addWidget(pair)
        self.addWidget(nway)

    def set_letters(self, left: str, right: str) -> None:
        for button in self.buttons.values():
            button.setText(button.property("template").format(left, right))

    def show_pair(self, left: str, right: str) -> None:
        self.set_letters(left, right)
        self.select(None)
        self.setCurrentIndex(0)

    def select(self, verdict: str | None) -> None:
        for name, button in self.buttons.items():
            button.setChecked(name == verdict)

    def show_nway(self, n: int) -> None:
        last = min(n, 9)
        self.keys_label.setText(f"Keys: 1–{last} best remaining")
        self.setCurrentIndex(1)

    def set_order(self, text: str, remaining: int, ready: bool) -> None:
        if text:
            shown = f"Your order: <b>{text}</b>"
        else:
            shown = "Your order: <i>press the number of the best output</i>"
        if ready and remaining == 1:
            shown += " <i>(the last one goes last)</i>"
        self.order_label.setText(shown)
        self.submit_button.setEnabled(ready)
        self.undo_button.setEnabled(bool(text))
        self.tie_button.setEnabled(bool(text) and remaining > 0 and not text.endswith("="))
