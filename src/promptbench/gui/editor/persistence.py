"""Saving the editor's text, and noticing when the file changes on disk behind it.

A mixin of PromptEditor (kept apart to keep modules small): it uses the editor's
``services``, ``_rel``, text accessors, banner and signals.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from promptbench.core.errors import IdentityMissingError, PromptbenchError, PromptFileError
from promptbench.core.store.promptstore import ExternalChangeError, Fingerprint
from promptbench.core.store.textmerge import MergeResult, has_conflict_markers, merge3
from promptbench.gui.editor.loading import Checked


class Persistence:
    def _init_persistence(self) -> None:
        self._base: Fingerprint | None = None   # the file as loaded / last saved
        self._accepted_disk: Fingerprint | None = None  # an outside edit the person chose to keep theirs over
        self._saving = False
        self._loading = False
        # Set by the window: asks for a git identity, returns (name, email, for every repository) or None.
        self.ask_identity: Callable[[], tuple[str, str, bool] | None] | None = None

    def _alive(self, callback):
        """*callback*, skipped if this widget was deleted before the task finished."""
        def guarded(value):
            if shiboken6.isValid(self):
                callback(value)
        return guarded

    def _alive_call(self, callback):
        return lambda: shiboken6.isValid(self) and callback()

    # -- saving --------------------------------------------------------------------------------
    def save(self, message: str | None = None, on_finished: Callable[[bool], None] | None = None) -> None:
        """Commit the current text (in a task). Emits ``prompt_saved`` on success; then
        *on_finished* gets True, or False when nothing was committed (the reason is shown)."""
        done = on_finished or (lambda _ok: None)
        if self._rel is None:
            done(False)
            return
        if self._saving:
            self.status_posted.emit("Still saving the previous version…")
            done(False)
            return
        if has_conflict_markers(self.raw.text()):
            self.tabs.setCurrentWidget(self.raw)
            self.status_posted.emit("Not saved: resolve the merge conflicts first (the <<<<<<< / ======= / >>>>>>> lines)")
            done(False)
            return
        self._save_text(self.current_text(), message, force=self._accepted_disk is not None, done=done)

    def _save_text(self, text: str, message: str | None, force: bool, done: Callable[[bool], None]) -> None:
        rel, base, store = self._rel, self._base, self.services.store
        self._saving = True

        def work():
            version = store.save(rel, text, message, base=base, force=force)
            return version, store.fingerprint(rel)

        self.services.tasks.run(work, on_done=self._alive(lambda result: self._on_saved(rel, text, result, done)),
                                on_error=self._alive(lambda exc: self._on_save_failed(rel, text, message, exc, done)),
                                key="editor-save")

    def _on_saved(self, rel: str, text: str, result, done: Callable[[bool], None]) -> None:
        self._saving = False
        version, fingerprint = result
        if rel == self._rel:
            self._base, self._saved_text, self._accepted_disk = fingerprint, self._from_file(text), None
            self._missing = False
            self._set_file_base(text, fingerprint)
            self._clear_banner("save-error", "identity", "recovered", "deleted", "external")
            self._update_dirty()
            if not self._dirty:
                self._forget_draft()
        if version is None:
            self.status_posted.emit(f"{rel}: no changes to save")
        else:
            self.status_posted.emit(f"Saved {rel} as {version.short}: {version.subject}")
            self.prompt_saved.emit(rel, version.sha)
        done(True)

    def _on_save_failed(self, rel: str, text: str, message: str | None, exc: Exception,
                        done: Callable[[bool], None]) -> None:
        self._saving = False
        if rel != self._rel:
            self.status_posted.emit(f"Not saved: {exc}")
            done(False)
            return
        if isinstance(exc, IdentityMissingError):
            self._ask_identity_then_save(text, message, done)
            return
        if isinstance(exc, ExternalChangeError):
            choice = self._ask_external_change()
            if choice == "reload":
                self._forget_draft()
                self.load(rel)
            elif choice == "merge":
                self._on_merge_chosen(rel)
            elif choice == "force":
                self._save_text(text, message, force=True, done=done)
                return
            else:
                self.status_posted.emit(f"Not saved: {rel} changed on disk")
            done(False)
            return
        if isinstance(exc, PromptFileError):
            if text == self._to_file(self.raw.text()):
                self._apply_check(self.raw.text(), Checked(None, list(exc.problems)))
            self.tabs.setCurrentWidget(self.raw)
            count = len(exc.problems)
            what = f"{rel} has {count} problem{'s' if count != 1 else ''}"
            self._show_banner("save-error", f"Not saved: {what} (listed under the YAML). Fix them and save again; "
                              "your edits are kept.", "error", [("Dismiss", lambda: self._clear_banner("save-error"))])
            self.status_posted.emit(f"Not saved: {what}")
            done(False)
            return
        what = str(exc) if isinstance(exc, PromptbenchError) else f"{type(exc).__name__}: {exc}"
        self._show_banner("save-error", f"Not saved: {what}", "error", [("Dismiss", lambda: self._clear_banner("save-error"))])
        self.status_posted.emit(f"Not saved: {what}")
        done(False)

    def _ask_identity_then_save(self, text: str, message: str | None, done: Callable[[bool], None]) -> None:
        """No git identity yet: ask for one (``ask_identity``, set by the window), store it,
        and save again. Without an answer the save fails with the command-line hint."""
        answer = self.ask_identity() if self.ask_identity is not None else None
        if answer is None:
            self._show_banner("identity", "Not saved: git does not know who you are yet, so it cannot commit. "
                              "Save again to enter your name and email, or run: git config --global user.name "
                              "\"Your Name\" && git config --global user.email you@example.com", "error",
                              [("Dismiss", lambda: self._clear_banner("identity"))])
            self.status_posted.emit("Not saved: no git identity")
            done(False)
            return
        name, email, everywhere = answer
        store = self.services.store
        self._saving = True

        def stored(_result) -> None:
            self._saving = False
            self._clear_banner("identity")
            self.status_posted.emit(f"Commits are now made as {name} <{email}>"
                                    + (" in every repository" if everywhere else " in this workspace"))
            self._save_text(text, message, force=self._accepted_disk is not None, done=done)

        def failed(exc: Exception) -> None:
            self._saving = False
            self._show_banner("identity", f"Not saved: could not store the git identity: {exc}", "error",
                              [("Dismiss", lambda: self._clear_banner("identity"))])
            done(False)

        self.services.tasks.run(lambda: store.set_identity(name, email, everywhere),
                                on_done=self._alive(stored), on_error=self._alive(failed), key="editor-identity")

    def _ask_external_change(self) -> str:
        """Ask what to do when the file changed on disk since it was loaded:
        "reload" (discard mine), "merge" (three-way, into the editor), "force" (keep both:
        commit theirs, then mine) or "cancel"."""
        box = QMessageBox(QMessageBox.Icon.Warning, "File changed on disk",
                          f"{self._rel} was changed outside promptbench since you opened it.", parent=self)
        box.setInformativeText("Reload discards your edits. Merge combines both into the editor for you to "
                               "review and save. Keep both commits the outside edit first, then yours on top, "
                               "so both stay in history.")
        reload = box.addButton("Reload (discard mine)", QMessageBox.ButtonRole.DestructiveRole)
        merge = box.addButton("Merge", QMessageBox.ButtonRole.ActionRole)
        force = box.addButton("Keep both", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(merge)
        box.exec()
        clicked = box.clickedButton()
        return {id(reload): "reload", id(merge): "merge", id(force): "force"}.get(id(clicked), "cancel")

    # -- outside edits ---------------------------------------------------------------------------
    def check_external_change(self) -> None:
        """Compare the file on disk with what was loaded (in a task). Clean editor: reload
        quietly and emit ``reloaded_from_disk``; unsaved edits: offer Reload / Keep mine."""
        if self._rel is None:
            return
        if self._loading or self._saving:  # look again once that is done: a change now must not go unnoticed
            QTimer.singleShot(200, self._alive_call(self.check_external_change))
            return
        rel, base, store = self._rel, self._base, self.services.store
        self.services.tasks.run(lambda: store.fingerprint(rel),
                                on_done=self._alive(lambda fp: self._on_disk_checked(rel, base, fp)), key="editor-external")

    def _on_disk_checked(self, rel: str, base: Fingerprint | None, on_disk: Fingerprint | None) -> None:
        if rel != self._rel or base != self._base or self._loading or self._saving:
            return  # loaded or saved meanwhile: this answer is stale
        if on_disk is None:
            if not self._missing:
                self._show_banner("deleted", f"{rel} was deleted on disk. Save to write it again.", "warning",
                                  [("Dismiss", lambda: self._clear_banner("deleted"))])
            return
        self._clear_banner("deleted")  # it is back
        if base is not None and on_disk.sha1 == base.sha1:
            return
        if self._accepted_disk is not None and self._accepted_disk.sha1 == on_disk.sha1:
            return  # already answered "keep mine" for this outside version
        if not self.is_dirty():
            self._start_load(rel, silent_reload=True)
            return
        self._show_banner("external", f"{rel} changed on disk since you opened it (another editor, window or git command). "
                          "Your edits are kept until you choose: Reload discards them, Merge combines both.", "warning",
                          [("Reload", lambda: self._on_reload_chosen(rel)),
                           ("Merge", lambda: self._on_merge_chosen(rel)),
                           ("Keep mine", lambda: self._on_keep_mine_chosen(on_disk))])

    def _on_reload_chosen(self, rel: str) -> None:
        self._clear_banner()
        self._forget_draft()
        self._start_load(rel, silent_reload=False)

    def _on_keep_mine_chosen(self, on_disk: Fingerprint) -> None:
        self._accepted_disk = on_disk
        self._clear_banner()
        self.status_posted.emit("Keeping your version: saving commits the outside edit first, then yours")

    def _on_merge_chosen(self, rel: str) -> None:
        """Three-way merge (as loaded / mine / on disk) into the editor; saving then writes the result."""
        self._clear_banner()
        base = self._merge_base if self._merge_base is not None else self._to_file(self._saved_text)
        mine, store = self.current_text(), self.services.store

        def work():
            fingerprint = store.fingerprint(rel)
            theirs = store.read_bytes(rel).decode("utf-8", errors="surrogateescape")
            return merge3(base, mine, theirs), fingerprint

        self.services.tasks.run(work, on_done=self._alive(lambda result: self._on_merged(rel, *result)),
                                on_error=self._alive(lambda exc: self.status_posted.emit(f"Not merged: {exc}")),
                                key="editor-merge")

    def _on_merged(self, rel: str, result: MergeResult, on_disk: Fingerprint | None) -> None:
        if rel != self._rel:
            return
        self._base, self._accepted_disk = on_disk, None  # the disk version is now part of the editor's text
        self._merge_base = None
        self.raw.editor.setPlainText(self._from_file(result.text))
        if result.conflicts:
            self.tabs.setCurrentWidget(self.raw)
            count = f"{result.conflicts} conflict{'s' if result.conflicts != 1 else ''}"
            self._show_banner("merge", f"Merged with {count}: both versions are kept between <<<<<<< and >>>>>>> lines "
                              "in the YAML view. Resolve them, then save.", "warning",
                              [("Dismiss", lambda: self._clear_banner("merge"))])
        self.status_posted.emit(f"Merged the outside edit of {rel} with yours"
                                + (f" ({result.conflicts} to resolve)" if result.conflicts else "; review and save"))
