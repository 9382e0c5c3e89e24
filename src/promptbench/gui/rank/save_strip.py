"""Under the rank view: who was who in the last vote (the reveal) and whether it is saved;
a red banner with "Retry now" while a write fails (the votes stay queued meanwhile)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from promptbench.gui.rank.vote_writer import VoteJob

_BANNER = "QFrame#ErrorBanner { background: #b71c1c; border-radius: 4px; } QFrame#ErrorBanner QLabel { color: white; }"


class SaveStrip(QWidget):
    retry_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.job: VoteJob | None = None
        self._html = ""
        self.reveal_label = QLabel()
        self.reveal_label.setTextFormat(Qt.TextFormat.RichText)
        self.reveal_label.setWordWrap(True)
        self.reveal_label.setStyleSheet("QLabel { border-top: 1px solid palette(mid); padding-top: 4px; }")
        self.reveal_label.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.retry_button = QPushButton("Retry now")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.retry_button.clicked.connect(self.retry_clicked)
        self.error_banner = QFrame(objectName="ErrorBanner")
        self.error_banner.setStyleSheet(_BANNER)
        row = QHBoxLayout(self.error_banner)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.error_label, 1)
        row.addWidget(self.retry_button)
        self.error_banner.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.reveal_label)

    def show_vote(self, html: str, job: VoteJob) -> None:
        self._html, self.job = html, job
        self.update_state()

    def clear(self) -> None:
        self.job = None
        self.reveal_label.hide()

    def update_state(self) -> None:
        job = self.job
        if job is None:
            return
        if job.error is not None:
            state = " · <span style='color:#e53935'>not saved yet</span>"
        elif job.vote_id is not None and not job.rubric:
            state = " · saved ✓"
        else:
            state = " · saving…"
        self.reveal_label.setText(self._html + state)
        self.reveal_label.show()

    def show_error(self, pending: int, message: str) -> None:
        self.error_label.setText(f"{pending} vote{'s' if pending != 1 else ''} not saved yet: {message}\n"
                                 "They stay queued and are retried automatically; nothing is lost.")
        self.error_banner.show()
        self.update_state()

    def clear_error(self) -> None:
        self.error_banner.hide()
