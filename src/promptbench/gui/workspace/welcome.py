"""The first-start panel: three steps that run the sample on the embedded local models,
and the Help menu's keyboard shortcuts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

SAMPLE = "summarize.prompt.yml"
LOCAL_MODELS = ("local/smollm2-135m-instruct", "local/gemma3-270m")
STEPS = (
    ("open", f"Open {SAMPLE}", "Open it", "The editor shows its messages, parameters and test cases."),
    ("compare", "Go to Compare", "Go to Compare", "Pick models on the left; the estimate says what a run costs."),
    ("run", "Run it on both local models", "Run", "They run on this computer: no account, no key, no internet."),
)
SHORTCUTS = (
    ("Ctrl+Enter", "Run the open prompt in Compare"), ("Esc", "Cancel all runs (in Compare)"),
    ("Ctrl+S", "Save: a new version (a git commit)"), ("Ctrl+N", "New prompt"), ("Ctrl+O", "Open a workspace"),
    ("Ctrl+F", "Find in the YAML"), ("Ctrl+1 … Ctrl+8", "Edit, History, Compare, Eval, Runs, Rank, Leaderboard, Dashboard"),
    ("Ctrl+R", "Rank the last comparison"), ("Ctrl+Shift+R", "New ranking session"), ("Ctrl+,", "Settings"),
    ("Ctrl+Q", "Quit (asks about unsaved edits first)"),
)


class WelcomePanel(QFrame):
    """Three numbered steps, each with its button; a step is ticked once done."""

    step_requested = Signal(str)  # "open", "compare" or "run"
    closed = Signal()
    step_done = Signal(str)   # a step ticked for the first time (remembered across starts)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("WelcomePanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        title = QLabel("Welcome to promptbench: run the sample in three steps")
        bold = QFont(title.font())
        bold.setBold(True)
        title.setFont(bold)
        close = QPushButton("Close")
        close.setToolTip("Help → Getting started shows these steps again")
        close.clicked.connect(self._on_close)
        top = QHBoxLayout()
        top.addWidget(title, 1)
        top.addWidget(close)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        self.marks: dict[str, QLabel] = {}
        self.buttons: dict[str, QPushButton] = {}
        for row, (key, what, button_text, note) in enumerate(STEPS):
            mark = QLabel(f"{row + 1}.")
            text = QLabel(f"<b>{what}</b> — {note}")
            text.setWordWrap(True)
            button = QPushButton(button_text)
            button.clicked.connect(lambda _=False, k=key: self.step_requested.emit(k))
            grid.addWidget(mark, row, 0)
            grid.addWidget(text, row, 1)
            grid.addWidget(button, row, 2)
            self.marks[key], self.buttons[key] = mark, button
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(top)
        layout.addLayout(grid)

    def mark_done(self, key: str) -> None:
        if key in self.marks and self.marks[key].text() != "✓":
            self.marks[key].setText("✓")
            self.step_done.emit(key)

    def done_steps(self) -> list[str]:
        return [key for key, mark in self.marks.items() if mark.text() == "✓"]

    def _on_close(self) -> None:
        self.hide()
        self.closed.emit()


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts — promptbench")
        table = QTreeWidget()
        table.setHeaderLabels(["Keys", "What they do"])
        table.setRootIsDecorated(False)
        for keys, what in SHORTCUTS:
            table.addTopLevelItem(QTreeWidgetItem([keys, what]))
        table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(560, 380)
        self.table = table
        table.setAlternatingRowColors(True)
        table.header().setStretchLastSection(True)
        table.setTextElideMode(Qt.TextElideMode.ElideNone)
