"""How the main window moves between prompts: the prompt list, opening one, and the
Save / Discard / Cancel question before unsaved edits are left behind."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from promptbench.gui.window.tabs import TAB_EDIT

NEW_PROMPT = """\
name: {name}
description: ""
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  maxTokens: 256
messages:
  - role: system
    content: You are a helpful assistant.
  - role: user
    content: "{{{{input}}}}"
testData:
  - input: Hello!
"""


class PromptsMixin:
    """Part of MainWindow (gui/mainwindow.py): needs its tree, editor, history, watcher and status."""

    # -- prompts --------------------------------------------------------------------------------
    def refresh_prompts(self, select_first: bool = False) -> None:
        store, writer = self.store, self.services.drafts()
        claim, self._first_listing = self._first_listing, False

        def work():
            paths = store.list_prompts()
            damaged: list = []
            drafted: set[str] = set()
            if writer is not None:
                writer.flush(5.0)  # drafts just saved or discarded are gone from the listing too
                if claim:  # drafts of app runs that ended without saving become this window's
                    damaged += writer.store.claim_orphans()[1]
                mine, bad = writer.store.mine()
                damaged += bad
                drafted = set(mine)
            return paths, store.modified(paths), drafted, damaged

        self.services.tasks.run(work, on_done=lambda result: self._on_prompts_listed(*result, select_first=select_first),
                                key="list-prompts")

    def _on_prompts_listed(self, paths: list[str], dirty: set[str], drafted: set[str] | None = None,
                           damaged: list | None = None, select_first: bool = False) -> None:
        drafted = set(drafted or ())
        current = self.editor.current_rel()
        if current and self.editor.has_unsaved_edits():
            drafted.add(current)
        missing = {rel for rel in drafted if rel not in paths}
        if select_first and not self.qsettings.value("welcome/closed"):
            from promptbench.gui.workspace.welcome import SAMPLE

            self.welcome.setVisible(SAMPLE in paths)  # the sample workspace on a first start
        self._drafted, self._uncommitted = drafted, dirty
        self.tree.set_prompts(sorted([*paths, *missing]), dirty, self._unsaved_prompts(), missing)
        self._update_save_action()
        for found in damaged or ():
            self.status.setText(f"Ignored a damaged draft file ({found.reason}); it is kept as {found.path}")
        git_dir = self.store.git_dir  # commits, checkouts and branch switches made in a terminal
        wanted = {str(self.store.root), *(str(self.store.path(p)) for p in paths),
                  *(str(d) for d in (git_dir, git_dir / "refs" / "heads") if d.is_dir())}
        # Only the difference: removing and re-adding a path can lose its watch (inotify reuses
        # the descriptor, and the late IN_IGNORED for the old one then drops the new one).
        watched = set(self.watcher.directories() + self.watcher.files())
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))
        last = self.qsettings.value(f"lastPrompt/{self.store.root}")
        if select_first and not self.tree.current():
            listed = self.tree.paths()
            # Recovered unsaved edits come first: the person sees them (and their bar) at once.
            recovered = [p for p in listed if p in drafted]
            if recovered:
                self.tree.select(last if last in recovered else recovered[0])
            elif listed:
                self.tree.select(last if last in listed else listed[0])

    def _unsaved_prompts(self) -> set[str]:
        unsaved = set(self._drafted)
        current = self.editor.current_rel()
        if current:
            (unsaved.add if self.editor.has_unsaved_edits() else unsaved.discard)(current)
        return unsaved

    def _on_prompt_selected(self, rel: str) -> None:
        current = self.editor.current_rel()
        if rel == current:
            return
        if current and self.editor.is_dirty():
            # After the click that chose *rel* is done with: it would select it again.
            QTimer.singleShot(0, lambda: self._switch_when_settled(current, rel))
            return
        self._open_prompt(rel)

    def _switch_when_settled(self, current: str, rel: str) -> None:
        self.tree.select(current)  # stay until the edits are saved or discarded
        self.leave_prompt(lambda: self.tree.select(rel), f"open {rel}")

    def _open_prompt(self, rel: str) -> None:
        self.editor.load(rel)
        self.history.set_prompt(rel)
        if self.eval is not None:
            self.eval.set_prompt(rel)
        self.qsettings.setValue(f"lastPrompt/{self.store.root}", rel)
        self.setWindowTitle(f"{rel}[*] — promptbench — {self.store.root.name}")

    # -- unsaved edits ------------------------------------------------------------------------------
    def leave_prompt(self, then: Callable[[], None], doing: str = "continue",
                     cancelled: Callable[[], None] | None = None) -> None:
        """Run *then* once the open prompt has no unsaved edits: asks Save / Discard / Cancel.
        Save waits for the commit; if it fails the window stays as it is, with the edits and
        the reason shown, and *cancelled* runs instead."""
        rel = self.editor.current_rel()
        if not rel or not self.editor.is_dirty():
            then()
            return
        if self._leaving:
            return
        self._leaving = True
        focused = QApplication.focusWidget()
        answer = self.ask_unsaved(rel, doing)
        self._give_focus_back(focused)
        if answer == "save":
            self.status.setText(f"Saving {rel} before you {doing}…")

            def saved(ok: bool) -> None:
                self._leaving = False
                if ok and not self.editor.is_dirty():
                    then()
                elif ok:  # typed more while saving: ask again
                    self.leave_prompt(then, doing, cancelled)
                else:
                    self.tabs.setCurrentIndex(TAB_EDIT)
                    if cancelled:
                        cancelled()
            self.editor.save(on_finished=saved)
            return
        self._leaving = False
        if answer == "discard":
            self.editor.discard_edits()
            then()
        elif cancelled:
            cancelled()

    def _give_focus_back(self, widget) -> None:
        """After a question, the person goes on typing where they were (also without a
        window manager that would re-activate the window)."""
        self.activateWindow()
        if widget is not None and shiboken6.isValid(widget) and widget.window() is self:
            widget.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    def ask_unsaved(self, rel: str, doing: str) -> str:
        """"save", "discard" or "cancel" for the unsaved edits of *rel* before *doing*."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved edits", f"{rel} has unsaved edits.", parent=self)
        box.setInformativeText(f"Save them as a new version before you {doing}? Discard throws them away.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(answer), "cancel")

    def _before_rollback(self, rel: str, proceed: Callable[[], None]) -> None:
        if rel == self.editor.current_rel():
            self.leave_prompt(proceed, "roll back")
        else:
            proceed()

    def _ask_identity(self) -> tuple[str, str, bool] | None:
        from promptbench.gui.workspace.identity_dialog import IdentityDialog

        return IdentityDialog(str(self.store.root), self.qsettings, self).answer()

    def _update_save_action(self) -> None:
        current = self.editor.current_rel()
        self.save_action.setEnabled(bool(current) and (self.editor.has_unsaved_edits() or current in self._uncommitted))

    def save(self) -> None:
        if self.editor.current_rel():
            self.editor.save()

    def new_prompt(self) -> None:
        name, ok = QInputDialog.getText(self, "New prompt", "File name (e.g. support/triage.prompt.yml):")
        if not ok or not name.strip():
            return
        rel = name.strip()
        if not rel.endswith((".prompt.yml", ".prompt.yaml")):
            rel += ".prompt.yml"
        title = Path(rel).name.split(".")[0].replace("-", " ").title()
        store = self.store
        self.services.tasks.run(lambda: store.create(rel, NEW_PROMPT.format(name=title)),
                                on_done=lambda v: (self.refresh_prompts(), self.status.setText(f"Created {v.path}"),
                                                   QTimer.singleShot(300, lambda: self.tree.select(v.path))),
                                on_error=lambda e: QMessageBox.warning(self, "New prompt", str(e)))

    def _on_prompt_saved(self, rel: str, sha: str) -> None:
        self.status.setText(f"Saved {rel} as {sha[:8]}" if sha else f"{rel}: no changes to save")
        self.history.refresh()
        self.refresh_prompts()

    def _on_prompt_vanished(self, _rel: str) -> None:
        self.setWindowTitle(f"promptbench[*] — {self.store.root.name}")
        self.refresh_prompts(select_first=True)

    def _on_dirty_changed(self, dirty: bool) -> None:
        self.setWindowModified(dirty)
        self.tree.set_unsaved(self._unsaved_prompts())
        self._update_save_action()

    def _on_rolled_back(self, rel: str, sha: str) -> None:
        self.editor.load(rel)
        self.status.setText(f"Rolled back {rel}: new version {sha[:8]} (roll back again to undo)")
        self.refresh_prompts()

    # -- external changes ------------------------------------------------------------------------
    def _schedule_rescan(self, _path: str = "") -> None:
        self._rescan_timer.start()

    def _rescan(self) -> None:
        self.refresh_prompts()
        self.editor.check_external_change()
        self.history.refresh()
