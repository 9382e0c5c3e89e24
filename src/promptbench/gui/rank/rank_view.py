"""RANK mode: judge outputs one item after another, blind by default, from the keyboard.

Two outputs: 1 / 2 / 3 / 0 say left better / right better / tie / both bad. Three or
more: press the number of the best remaining output, again and again ("=" ties the next
pick with the previous one, Backspace undoes), then Enter. The vote is handed to a
``VoteWriter`` (a task writes it) and the next item appears at once; "saved ✓" shows
when the write is confirmed, and a failed write stays queued for retry with an error on
screen. Who wrote what is revealed in the last-vote strip once the vote is cast, versions as
short sha + commit subject + labels. The comparison just judged never comes straight back
while others remain (``items.choose_next``). A finished queue says so and offers the next
steps: ``session_requested`` and ``leaderboard_requested`` are for the main window.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (QCheckBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QStackedWidget,
                               QVBoxLayout, QWidget)

from promptbench.core.figures import test_case_label
from promptbench.core.ranking.active import Judged
from promptbench.gui.rank.ballot.ballots import add_rubric, pair_ballot, ranking_ballot
from promptbench.gui.rank.items import (LETTERS, PairChooser, RankItem, Versions, choose_next, items_from_comparison,
                                        judged, shown_order)
from promptbench.gui.rank.message_page import MessagePage, done_text
from promptbench.gui.rank.ballot.nway import Ordering
from promptbench.gui.rank.queue_board import ESTIMATE_TIP, QueueBoard, estimate_text
from promptbench.gui.rank.ballot.rubric import workspace_criteria
from promptbench.gui.rank.save_strip import SaveStrip
from promptbench.gui.rank.ballot.verdict_bar import VerdictBar
from promptbench.gui.rank.version_reader import VersionReader
from promptbench.gui.rank.ballot.vote_card import OutputCard, arrange
from promptbench.gui.rank.vote_writer import VoteJob, VoteWriter

PAIR_KEYS = {Qt.Key.Key_1: "left", Qt.Key.Key_2: "right", Qt.Key.Key_3: "tie", Qt.Key.Key_0: "both_bad"}
DIGITS = {getattr(Qt.Key, f"Key_{i}"): i for i in range(1, 10)}
_MUTED = "QLabel { color: palette(placeholder-text); }"
_CASE = "QLabel { background: palette(alternate-base); border-radius: 4px; padding: 6px; }"
NOTE_HINT = "Note (optional) — saved with the vote; Enter submits, Esc returns to the keys"
EMPTY_TEXT = "Nothing to rank yet.\n\nRank a finished comparison from the Runs view, or start a ranking session."


class RankView(QWidget):
    vote_recorded = Signal(str)   # vote id, once it is on disk
    queue_finished = Signal()     # every item judged (or skipped) and every vote saved
    session_requested = Signal()      # "Start a ranking session" clicked (the main window opens the dialog)
    leaderboard_requested = Signal()  # "Open leaderboard" clicked (the main window shows that tab)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.writer = VoteWriter(services, self)
        self.writer.vote_saved.connect(self._on_vote_saved)
        self.writer.write_failed.connect(self._on_write_failed)
        self.writer.queue_drained.connect(self._on_queue_drained)
        self.criteria = list(workspace_criteria(None))
        self.cards: list[OutputCard] = []
        self._laid_out = 0                    # how many cards the grid holds
        self.queue_board = QueueBoard(services, self)   # the queue's leaderboard, refitted as votes are saved
        self.queue_board.board_fitted.connect(self._on_board_fitted)
        self._waiting_for_board = False
        self._remaining: list[RankItem] = []
        self.current: RankItem | None = None
        self.shown: list[int] = []            # indices into current.outputs, left to right
        self._ordering: Ordering | None = None
        self._verdict: str | None = None
        self._item_blind = True
        self._chooser: PairChooser | None = None
        self._session_id = None
        self._seed = self.total = self.cast = self.skipped = 0
        self._finished_sent = True
        self._last_judged: Judged | None = None   # the last vote cast here (kept across queues)
        self._voted_in_queue = False
        self.version_reader = VersionReader(services, self)
        self.version_reader.versions_read.connect(self._on_versions_read)
        self.versions: Versions = self.version_reader.versions   # (prompt, version) -> VersionInfo

        self.progress_label = QLabel()
        self.estimate_label = QLabel()
        self.estimate_label.setStyleSheet(_MUTED)
        self.estimate_label.setToolTip(ESTIMATE_TIP)
        self.save_label = QLabel()
        self.blind_check = self._check("Blind", True, "Hide which model and version wrote each output until you vote")
        self.blind_check.toggled.connect(self._on_blind_toggled)
        self.vote_on_key_check = self._check("Vote on key press", True,
                                             "On: 1/2/3/0 vote at once. Off: they select, Enter submits.")
        self.rubric_check = self._check("Rubric", False, "Show optional 1–5 scores under each output")
        self.rubric_check.toggled.connect(self._on_rubric_toggled)
        top = QHBoxLayout()
        top.setSpacing(14)
        for widget in (self.progress_label, self.estimate_label):
            top.addWidget(widget)
        top.addStretch(1)
        for widget in (self.save_label, self.blind_check, self.vote_on_key_check, self.rubric_check):
            top.addWidget(widget)

        self.case_label = QLabel()
        self.case_label.setWordWrap(True)
        self.case_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.case_label.setStyleSheet(_CASE)
        self.cards_box = QWidget()
        self.cards_grid = QGridLayout(self.cards_box)
        self.cards_grid.setContentsMargins(0, 0, 0, 0)
        self.cards_grid.setSpacing(8)
        self.verdicts = VerdictBar()
        self.verdicts.verdict_clicked.connect(self._on_verdict_clicked)
        self.verdicts.tie_clicked.connect(lambda: self._nway_key(tie=True))
        self.verdicts.undo_clicked.connect(lambda: self._nway_key(undo=True))
        self.verdicts.submit_clicked.connect(self.submit)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText(NOTE_HINT)
        self.note_edit.setClearButtonEnabled(True)
        self.skip_button = QPushButton("Skip (S)")
        self.skip_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.skip_button.setToolTip("Leave this item out of the session without voting")
        self.skip_button.clicked.connect(self.skip)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_edit, 1)
        note_row.addWidget(self.skip_button)

        self.strip = SaveStrip()
        self.strip.retry_clicked.connect(self.writer.retry)

        session = QWidget()
        body = QVBoxLayout(session)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addWidget(self.case_label)
        body.addWidget(self.cards_box, 1)
        body.addWidget(self.verdicts)
        body.addLayout(note_row)
        self.message_page = MessagePage()
        self.message_page.show_text(EMPTY_TEXT, next_steps=True, hint=False)
        self.message_page.session_clicked.connect(self.session_requested)
        self.message_page.leaderboard_clicked.connect(self.leaderboard_requested)
        self.message_label = self.message_page.label
        self.stack = QStackedWidget()
        self.stack.addWidget(self.message_page)
        self.stack.addWidget(session)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.strip)
        self._update_progress()

    def _check(self, text: str, on: bool, tip: str) -> QCheckBox:
        box = QCheckBox(text, checked=on, toolTip=tip)
        box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return box

    # -- inputs ------------------------------------------------------------------------
    def rank_comparison(self, comparison_id: str) -> None:
        """Rank the finished outputs of one stored comparison (two: a pair; more: an order)."""
        self._show_message("Loading the comparison…")
        runs = self.services.runs
        self.services.tasks.run(lambda: runs().get_comparison(comparison_id), key=f"rank-load-{id(self)}",
                                on_done=lambda c: self._on_comparison_loaded(comparison_id, c),
                                on_error=lambda e: self._show_message(f"Could not load the comparison: {e}"))

    def _on_comparison_loaded(self, comparison_id: str, comparison: dict | None) -> None:
        if comparison is None:
            self._show_message(f"Comparison {comparison_id} is not in this workspace's run store.")
            return
        items, why = items_from_comparison(comparison)
        if not items:
            self._show_message(f"Cannot rank this comparison: {why}.")
            return
        self.start_queue(items)

    def start_queue(self, items: list[RankItem], *, pair_chooser: PairChooser | None = None,
                    session_id: str | None = None, seed: int = 0, blind: bool | None = None,
                    criteria: list[str] | None = None) -> None:
        """Judge these items; ``pair_chooser(board, remaining) -> index`` picks each next one
        (e.g. ``items.least_certain``). Votes are recorded under ``session_id`` if given."""
        usable = [item for item in items if len(item.outputs) >= 2]
        self._remaining, self._chooser, self._session_id, self._seed = usable, pair_chooser, session_id, seed
        prompts = {c.prompt for item in usable for c in item.contestants()}
        self.queue_board.reset([c for item in usable for c in item.contestants()], session_id=session_id,
                               prompt=prompts.pop() if len(prompts) == 1 else None)
        self.total, self.cast, self.skipped = len(usable), 0, len(items) - len(usable)
        self._finished_sent = False
        self._voted_in_queue = False
        self.version_reader.read([c for item in usable for c in item.contestants()])
        self.criteria = list(criteria) if criteria else workspace_criteria(self._settings())
        if blind is not None:
            self.blind_check.setChecked(blind)
        self.strip.clear()
        self.estimate_label.setText("")
        self.current = None
        # With a chooser, the first pick already uses the votes stored so far.
        self._waiting_for_board = pair_chooser is not None and self.queue_board.refit()
        if self._waiting_for_board:
            self._show_message("Choosing the first pair…")
        else:
            self._next_item()
            self.queue_board.refit()

    def _settings(self):
        try:
            return self.services.settings()
        except Exception:  # a broken promptbench.toml: default criteria (the settings page shows the error)
            return None

    # -- showing an item -----------------------------------------------------------------
    def _next_item(self) -> None:
        self.current, self._ordering, self._verdict = None, None, None
        if not self._remaining:
            self._show_message(done_text(self.total, self.cast, self.skipped), next_steps=bool(self.total or self.skipped))
            self._update_progress()
            self._on_queue_drained()
            return
        # Right after a vote here the board has not seen it yet: the same contestants wait too.
        last = self._last_judged or self.queue_board.last_judged
        index = choose_next(self.queue_board.board, self._remaining, self._chooser, last,
                            same_contestants=self._voted_in_queue)
        self._show_item(self._remaining.pop(index))

    def _show_item(self, item: RankItem) -> None:
        self.current, self.shown = item, shown_order(item, self._seed)
        self._item_blind = self.blind_check.isChecked()
        n, nway = len(item.outputs), not item.pairwise
        while len(self.cards) < n:
            card = OutputCard(self.services, self.criteria)
            card.pick_clicked.connect(lambda c=card: self._nway_key(pick=self.cards.index(c)))
            self.cards.append(card)
        if n != self._laid_out:                 # re-arrange the grid only when the count changes
            arrange(self.cards_grid, self.cards, n)
            self._laid_out = n
        for i, card in enumerate(self.cards[:n]):
            out = item.outputs[self.shown[i]]
            card.set_criteria(self.criteria)
            card.show_output(LETTERS[i], str(i + 1) if i < 9 else "", out.contestant, out.run_id, out.text,
                             item.test_case, blind=self._item_blind, nway=nway, versions=self.versions)
            card.set_rubric_visible(self.rubric_check.isChecked())
        case = test_case_label(item.test_case)
        context = (item.context or "").strip()
        if len(context) > 600:
            context = context[:600] + "…"
        self.case_label.setText(f"{case}" + (f" — {context}" if context else ""))
        self.case_label.setToolTip(item.context or "")
        if nway:
            self._ordering = Ordering(n)
            self.verdicts.show_nway(n)
            self._update_order()
        else:
            self.verdicts.show_pair(LETTERS[0], LETTERS[1])
        self.note_edit.clear()
        self.stack.setCurrentIndex(1)
        self._update_progress()
        self.setFocus()

    def _show_message(self, text: str, *, next_steps: bool = False) -> None:
        self.message_page.show_text(text, next_steps=next_steps)
        self.stack.setCurrentIndex(0)

    def _on_versions_read(self, versions: Versions) -> None:
        for card in self.cards:
            card.set_versions(versions)

    # -- judging ---------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.setFocus()
        elif self.current is None:
            super().keyPressEvent(event)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
        elif key == Qt.Key.Key_S:
            self.skip()
        elif self.current.pairwise and key in PAIR_KEYS:
            self._on_verdict_clicked(PAIR_KEYS[key])
        elif not self.current.pairwise and key in DIGITS:
            self._nway_key(pick=DIGITS[key] - 1)
        elif not self.current.pairwise and (key == Qt.Key.Key_Equal or event.text() == "="):
            self._nway_key(tie=True)
        elif not self.current.pairwise and key == Qt.Key.Key_Backspace:
            self._nway_key(undo=True)
        else:
            super().keyPressEvent(event)

    def _on_verdict_clicked(self, verdict: str) -> None:
        if self.current is None or not self.current.pairwise:
            return
        self._verdict = verdict
        self.verdicts.select(verdict)
        if self.vote_on_key_check.isChecked():
            self.submit()

    def _nway_key(self, *, pick: int | None = None, tie: bool = False, undo: bool = False) -> None:
        if self._ordering is None:
            return
        if pick is not None:
            self._ordering.pick(pick)
        elif tie:
            self._ordering.tie_next()
        elif undo:
            self._ordering.undo()
        self._update_order()
        self.setFocus()

    def _update_order(self) -> None:
        o = self._ordering
        letters = list(LETTERS[: o.n])
        remaining = o.remaining()
        for i in range(o.n):
            place = o.place_of(i)
            if place is None and o.ready() and remaining == [i]:
                self.cards[i].set_place(len(o.picked()) + 1 if not o.tie_pending else o.place_of(o.groups[-1][0]),
                                        last=True)
            else:
                self.cards[i].set_place(place)
        self.verdicts.set_order(o.text(letters), len(remaining), o.ready())

    def submit(self) -> None:
        """Cast the vote for the current item (Enter), then show the next item at once."""
        item = self.current
        if item is None:
            return
        if item.pairwise and self._verdict is None:
            self.setFocus()         # Enter in the note field with no verdict yet: back to the keys
            return
        if not item.pairwise and not self._ordering.ready():
            return
        common = {"test_case": item.test_case, "blind": self._item_blind, "session_id": self._session_id,
                  "note": self.note_edit.text().strip() or None}
        if item.pairwise:
            job, reveal = pair_ballot(item, self.shown, self._verdict, common, self.versions)
        else:
            job, reveal = ranking_ballot(item, self.shown, self._ordering.finish(), common)
        add_rubric(job, self.cards[: len(item.outputs)], item.test_case)
        self.cast += 1
        self._last_judged, self._voted_in_queue = judged(item), True
        self.strip.show_vote(reveal, job)
        self.writer.submit(job)
        self._next_item()

    def skip(self) -> None:
        if self.current is not None:
            self.skipped += 1
            self._next_item()

    # -- saving ----------------------------------------------------------------------------
    def _on_vote_saved(self, job: VoteJob, vote_id: str) -> None:
        if not self.writer.failed():
            self.strip.clear_error()
        self._update_progress()
        self.strip.update_state()
        self.vote_recorded.emit(vote_id)
        self.queue_board.refit_soon()

    def _on_board_fitted(self, board) -> None:
        self.estimate_label.setText(estimate_text(board))
        if self._waiting_for_board:
            self._waiting_for_board = False
            self._next_item()

    def _on_write_failed(self, job: VoteJob, message: str) -> None:
        self.strip.show_error(self.writer.pending(), message)
        self._update_progress()

    def _update_progress(self) -> None:
        done = f"{self.cast} / {self.total} votes" if self.total else "No queue"
        if self.skipped:
            done += f" · {self.skipped} skipped"
        self.progress_label.setText(done)
        pending = self.writer.pending()
        if self.writer.failed():
            self.save_label.setText(f"⚠ {pending} unsaved")
        elif pending:
            self.save_label.setText(f"saving {pending}…")
        else:
            self.save_label.setText("saved ✓" if self.cast else "")

    def unsaved_votes(self) -> int:
        """Votes cast but not on disk yet (ask before closing the window if > 0)."""
        return self.writer.pending()

    def _on_queue_drained(self) -> None:
        self._update_progress()
        if (self.current is None and not self._remaining and not self._waiting_for_board and not self.writer.pending()
                and not self._finished_sent):
            self._finished_sent = True
            self.queue_finished.emit()

    # -- toggles -----------------------------------------------------------------------------
    def _on_blind_toggled(self, blind: bool) -> None:
        if not blind:
            self._item_blind = False        # this item has been seen unblinded: its vote is not blind
        for card in self.cards:
            card.set_blind(blind)

    def _on_rubric_toggled(self, visible: bool) -> None:
        for card in self.cards:
            card.set_rubric_visible(visible)
