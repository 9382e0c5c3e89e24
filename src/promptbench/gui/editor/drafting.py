"""Keeping unsaved edits on disk as drafts, and offering recovered ones.

A mixin of PromptEditor (kept apart to keep modules small). While the editor has unsaved
edits, their text goes to this instance's draft of the prompt at most every
``DRAFT_INTERVAL_MS`` (the writing itself happens on the draft writer's thread, so typing
never waits for the disk); once the edits are saved or discarded the draft is removed.
A draft found when a prompt opens (left by a run of the app that ended without saving)
is put back into the editor under a bar: Keep · Discard · Show diff.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from promptbench.core.store.drafts import Draft, blob_sha
from promptbench.core.store.promptstore import Fingerprint
from promptbench.gui.editor.loading import check_text

DRAFT_INTERVAL_MS = 300


class Drafting:
    def _init_drafting(self) -> None:
        self._draft_timer = QTimer(self, singleShot=True, interval=DRAFT_INTERVAL_MS)
        self._draft_timer.timeout.connect(self._write_draft)
        self._draft_text: str | None = None   # what this prompt's draft on disk holds (as requested)
        self._base_text: str | None = None    # the file the edits started from, as a file's text
        self._base_blob: str | None = None
        self._merge_base: str | None = None   # a recovered draft's base, for a three-way merge
        self._file_base: Fingerprint | None = None  # the file as loaded or last saved
        self._recovered: Draft | None = None
        self._missing = False                 # the prompt's file is gone; the editor holds its draft
        self.services.draft_written.connect(self._on_draft_written)

    # -- writing --------------------------------------------------------------------------------
    def _schedule_draft(self) -> None:
        # Throttled, not debounced: continuous typing still reaches the disk every interval.
        if self._rel is not None and not self._draft_timer.isActive():
            self._draft_timer.start()

    def _write_draft(self) -> None:
        rel = self._rel
        if rel is None or self._loading:
            return
        writer = self.services.drafts()
        if writer is None:
            return
        if self._dirty:
            text = self._to_file(self.raw.text())
            if text != self._draft_text:
                writer.put(rel, text, self._base_blob, self._base_text)
                self._draft_text = text
        elif self._draft_text is not None:
            writer.remove(rel)
            self._draft_text = None

    def _forget_draft(self) -> None:
        """The edits were saved or discarded: the draft goes."""
        self._draft_timer.stop()
        self._recovered = None
        if self._rel is not None and self._draft_text is not None:
            writer = self.services.drafts()
            if writer is not None:
                writer.remove(self._rel)
        self._draft_text = None

    def _on_draft_written(self, rel: str, error) -> None:
        if error is None:
            self._clear_banner("draft-error")
            return
        if rel != self._rel:
            return
        reason = getattr(error, "strerror", None) or str(error)
        where = getattr(error, "filename", None)
        self._show_banner("draft-error", f"Your unsaved edits could not be kept as a draft ({reason}"
                          + (f": {where}" if where else "") + "). They exist only in this window until you save them.",
                          "warning", [("Dismiss", lambda: self._clear_banner("draft-error"))])
        self.status_posted.emit(f"Draft not written: {reason}")

    def _set_file_base(self, file_text: str | None, fingerprint: Fingerprint | None) -> None:
        """The file as loaded or saved: what a draft's edits start from."""
        self._file_base = fingerprint
        self._base_text = file_text
        self._base_blob = None if file_text is None else blob_sha(file_text.encode("utf-8", errors="surrogatepass"))
        self._merge_base = None

    # -- recovering -----------------------------------------------------------------------------
    def _recover(self, draft: Draft, file_blob: str | None, missing: bool) -> None:
        """Show a recovered draft's text (unsaved) under the recovery bar."""
        self._recovered = draft
        self._missing = missing
        self._draft_text = draft.text
        self._base_text, self._base_blob = draft.base_text, draft.base_blob
        changed = not missing and draft.base_blob != file_blob
        if changed:
            # Saving must not silently overwrite what changed since: the store is told the
            # edits started from the draft's base, so a save offers Reload / Merge / Keep both.
            base = (draft.base_text or "").encode("utf-8", errors="surrogatepass")
            self._base = Fingerprint(0, len(base), hashlib.sha1(base).hexdigest() if draft.base_text is not None else "")
            self._merge_base = draft.base_text or ""
        text = draft.text.removeprefix("\ufeff")
        self._bom = draft.text.startswith("\ufeff")
        self._crlf = "\r\n" in text
        self.raw.editor.setPlainText(text.replace("\r\n", "\n"))
        if check_text(draft.text, self._rel or "").prompt is None:
            self.tabs.setCurrentWidget(self.raw)  # the edits do not parse yet: show them where they can be fixed
        when = _when(draft.saved_at)
        if missing:
            message = (f"{self._rel} no longer exists on disk (deleted or renamed outside promptbench). Your unsaved "
                       f"edits from {when} were recovered: saving writes the file again.")
        else:
            message = f"Unsaved edits from {when} were recovered."
            if changed:
                message += " The file has changed since they were made: saving offers to merge the two."
        self._show_banner("recovered", message, "info",
                          [("Keep", self.keep_recovered), ("Discard", self.discard_edits), ("Show diff", self.show_recovered_diff)])
        self.status_posted.emit(f"Recovered unsaved edits of {self._rel} from {when}")

    def keep_recovered(self) -> None:
        self._recovered = None
        self._clear_banner("recovered")

    def discard_edits(self) -> None:
        """Drop the unsaved edits (and their draft): the editor shows the file as it is."""
        rel, missing = self._rel, self._missing
        self._forget_draft()
        self._clear_banner("recovered")
        if rel is None:
            return
        self._base = self._file_base
        self._merge_base = None
        self.status_posted.emit(f"Discarded the unsaved edits of {rel}")
        if missing:  # nothing is left of this prompt: the editor lets it go
            self.close_prompt()
            self.prompt_vanished.emit(rel)
            return
        self.raw.editor.setPlainText(self._saved_text)
        self._update_dirty()

    def show_recovered_diff(self) -> None:
        draft = self._recovered
        if draft is None:
            return
        dialog = DraftDiffDialog(self._rel or "", self._to_file(self._saved_text) if not self._missing else "",
                                 draft.text, _when(draft.saved_at), self)
        choice = dialog.exec_choice()
        if choice == "keep":
            self.keep_recovered()
        elif choice == "discard":
            self.discard_edits()


def _when(timestamp: float) -> str:
    moment = dt.datetime.fromtimestamp(timestamp)
    if moment.date() == dt.date.today():
        return moment.strftime("%H:%M")
    return moment.strftime("%d %b %Y, %H:%M")


class DraftDiffDialog(QDialog):
    """The file next to a recovered draft, as a unified diff, with Keep / Discard."""

    def __init__(self, rel: str, file_text: str, draft_text: str, when: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Recovered edits — {rel}")
        self.resize(820, 560)
        lines = list(difflib.unified_diff(file_text.splitlines(), draft_text.splitlines(), fromfile=f"{rel} (file)",
                                          tofile=f"{rel} (edits from {when})", lineterm=""))
        self.view = QPlainTextEdit("\n".join(lines) if lines else "The recovered edits only change line endings or "
                                   "trailing whitespace.")
        self.view.setReadOnly(True)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.view.setFont(font)
        self.choice = "close"
        buttons = QDialogButtonBox()
        keep = buttons.addButton("Keep the edits", QDialogButtonBox.ButtonRole.AcceptRole)
        discard = buttons.addButton("Discard them", QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        keep.clicked.connect(lambda: self._choose("keep"))
        discard.clicked.connect(lambda: self._choose("discard"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Lines starting with − are in the file; lines starting with + are in the recovered edits."))
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def exec_choice(self) -> str:
        self.exec()
        return self.choice
