"""The leaderboard of a ranking queue's contestants, refitted in a task as votes are saved.

It feeds the pair chooser ("the pair the board is least sure about"), the progress line
("about N more votes to separate the top two", planned from the fitted model by
``ranking.top_two_outlook``) and what the newest stored vote judged (so a queue does not
open with it). Only counts and never names are shown, so it leaks nothing in a blind
session.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from promptbench.core.ranking.leaderboard import Leaderboard
from promptbench.core.ranking.active import Judged, top_two_outlook
from promptbench.core.ranking.votes import VoteStore
from promptbench.gui.rank.items import queue_state

log = logging.getLogger(__name__)
REFIT_DELAY_MS = 400
ESTIMATE_TIP = ("How many more votes between the two best would make their order clear (95% sure),"
                " worked out from the ratings so far. A rough guide: it moves as the votes come in.")


def estimate_text(board: Leaderboard | None) -> str:
    """The progress line's estimate for the top two ("" when there is nothing to say)."""
    if board is None or len(board.ratings) < 2:
        return ""
    outlook = top_two_outlook(board)
    if outlook.state == "votes":
        more = outlook.votes
        return f"about {more} more vote{'s' if more != 1 else ''} to separate the top two"
    return {"separated": "the top two are separated",
            "too_close": "the top two are too close to tell apart yet"}.get(outlook.state, "")


class QueueBoard(QObject):
    board_fitted = Signal(object)   # Leaderboard | None (None also when the fit failed)

    def __init__(self, services, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.board: Leaderboard | None = None
        self.last_judged: Judged | None = None   # what the newest stored vote judged (any queue)
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
            lambda: queue_state(VoteStore(runs()), contestants, session_id=session_id, prompt=prompt),
            on_done=self._on_done, on_error=self._on_error, key=f"rank-board-{id(self)}")
        return True

    def _on_done(self, result: tuple[Leaderboard | None, Judged | None]) -> None:
        self.board, self.last_judged = result
        self.board_fitted.emit(self.board)

    def _on_error(self, exc: Exception) -> None:
        log.warning("ranking queue: refit failed: %s", exc)
        self.board_fitted.emit(self.board)
