"""The leaderboard of a ranking queue's contestants, refitted in a task as votes are saved.

It feeds the pair chooser ("the pair the board is least sure about") and the progress
line ("about N more votes to separate the top two"). Only counts and never names are
shown, so it leaks nothing in a blind session.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from promptbench.core.ranking import Leaderboard, votes_to_separate_top_two
from promptbench.core.votes import VoteStore
from promptbench.gui.rank.items import session_board

log = logging.getLogger(__name__)
REFIT_DELAY_MS = 400


def estimate_text(board: Leaderboard | None) -> str:
    if board is None or len(board.ratings) < 2:
        return ""
    more = votes_to_separate_top_two(board)
    if more is not None:
        return f"about {more} more vote{'s' if more != 1 else ''} to separate the top two"
    first, second = board.ratings[0], board.ratings[1]
    if first.ci_low > second.ci_high and board.n_test_cases >= 2 and first.ci_high > first.ci_low:
        return "the top two are separated"
    return ""


class QueueBoard(QObject):
    board_fitted = Signal(object)   # Leaderboard | None (None also when the fit failed)

    def __init__(self, services, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.board: Leaderboard | None = None
        self.contestants: list = []
        self.session_id: str | None = None
        self.prompt: str | None = None
        self._soon = QTimer(self, singleShot=True, interval=REFIT_DELAY_MS)
        self._soon.timeout.connect(self.refit)

    def refit_soon(self) -> None:
        """Refit once a burst of saved votes has settled (one fit, not one per vote)."""
        self._soon.start()

    def reset(self, contestants, *, session_id: str | None, prompt: str | None) -> None:
        self.board, self.contestants = None, sorted(set(contestants))
        self.session_id, self.prompt = session_id, prompt

    def refit(self) -> bool:
        """Start a refit; False when there is nothing to fit (fewer than two contestants)."""
        self._soon.stop()
        if len(self.contestants) < 2:
            return False
        runs, contestants, session_id, prompt = self.services.runs, self.contestants, self.session_id, self.prompt
        self.services.tasks.run(
            lambda: session_board(VoteStore(runs()), contestants, session_id=session_id, prompt=prompt),
            on_done=self._on_done, on_error=self._on_error, key=f"rank-board-{id(self)}")
        return True

    def _on_done(self, board: Leaderboard | None) -> None:
        self.board = board
        self.board_fitted.emit(board)

    def _on_error(self, exc: Exception) -> None:
        log.warning("ranking queue: refit failed: %s", exc)
        self.board_fitted.emit(self.board)
