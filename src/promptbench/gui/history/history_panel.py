"""The History tab: a prompt's versions, a diff between any two, rollback and labels.

Everything that touches git runs in a task: the history load (key "history"), diffs
(key "diff", debounced on selection), rollbacks and label moves. A rollback is a new
commit, so it is never confirmed; the notice offers Undo (roll back to the version that
was current before) instead.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QPushButton, QSizePolicy, QSplitter, QToolButton,
                               QVBoxLayout, QWidget)

from promptbench.gui.history import jobs
from promptbench.gui.history.diff_area import PREVIOUS, DiffArea
from promptbench.gui.history.menus import build_context_menu, fill_label_menu
from promptbench.gui.history.notice_bar import NoticeBar
from promptbench.gui.history.version_table import WORKTREE, VersionTable, readable_date


class HistoryPanel(QWidget):
    rolled_back = Signal(str, str)        # prompt path, the new rollback commit
    labels_changed = Signal(str)          # prompt path
    history_loaded = Signal(str)          # prompt path
    diff_loaded = Signal(str, str, str)   # prompt path, old rev ("" = nothing), new rev
    notice_posted = Signal(str)           # a status line for the main window

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        # Set by the window: before_rollback(rel, proceed) lets it settle unsaved edits first.
        self.before_rollback = None
        self.services = services
        self._rel: str | None = None
        self._writing = False
        self._select_after_load: list[str] | None = None
        self._undo_head: str | None = None  # the rollback commit the notice's Undo belongs to
        self._diff_timer = QTimer(self, singleShot=True, interval=40)
        self._diff_timer.timeout.connect(self._load_diff)

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.refresh_button = QToolButton(text="Refresh", toolTip="Reload the history from git", autoRaise=True)
        self.refresh_button.clicked.connect(self.refresh)
        self.table = VersionTable()
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.customContextMenuRequested.connect(self._on_context_menu_requested)

        self.rollback_button = QPushButton("Roll back to this version")
        self.rollback_button.setToolTip("Make the selected version current again, as a new version (undoable)")
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.promote_production_button = QPushButton("Promote to production")
        self.promote_production_button.clicked.connect(lambda: self.promote_selected("production"))
        self.promote_staging_button = QPushButton("Promote to staging")
        self.promote_staging_button.clicked.connect(lambda: self.promote_selected("staging"))
        self.label_button = QPushButton("Label…")
        self.label_menu = fill_label_menu(self, self.label_button)
        self.label_button.setMenu(self.label_menu)
        self.notice = NoticeBar()

        self.diff_area = DiffArea()
        self.diff_area.base_changed.connect(self._on_base_changed)
        self.base_combo = self.diff_area.base_combo
        self.side_by_side = self.diff_area.side_by_side
        self.structured_view = self.diff_area.structured_view
        self._build_layout()
        self.set_prompt(None)

    def _build_layout(self) -> None:
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        for button in (self.rollback_button, self.promote_production_button, self.promote_staging_button, self.label_button):
            actions.addWidget(button)
        actions.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(header)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(actions)
        top_layout.addWidget(self.notice)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.diff_area)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 2)
        split.setSizes([300, 560])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(split)

    def _run(self, fn, *, key: str, on_done, on_error) -> None:
        """Run ``fn`` in a task; its result is dropped if this panel was deleted meanwhile."""
        def alive(callback):
            return lambda value: callback(value) if shiboken6.isValid(self) else None

        self.services.tasks.run(fn, on_done=alive(on_done), on_error=alive(on_error), key=key)

    def is_idle(self) -> bool:
        """No diff waiting to start and no task running (tests, before closing)."""
        return not self._diff_timer.isActive() and not self.services.tasks.is_busy()

    # -- public API --------------------------------------------------------------------------
    def current_prompt(self) -> str | None:
        return self._rel

    def set_prompt(self, rel: str | None) -> None:
        changed = rel != self._rel
        self._rel = rel
        if changed:
            self.table.set_versions([], False)
            self.notice.dismiss()
            self.diff_area.set_versions([])
        if rel is None:
            self.title.setText("History")
            self._show_diff_message("Select a prompt to see its versions.")
            self._update_actions()
            return
        self.title.setText(f"History of {rel}")
        self.refresh()

    def refresh(self) -> None:
        rel = self._rel
        if rel is None:
            return
        store = self.services.store
        self._run(lambda: jobs.load_history(store, rel), key="history",
                  on_done=lambda result: self._on_history_loaded(rel, result),
                  on_error=lambda exc: self._show_error("load the history", exc))

    def selected_revs(self) -> list[str]:
        return self.table.selected_revs()

    def select_revs(self, revs: list[str]) -> None:
        self.table.select_revs(revs)

    def compare_with_working_copy(self, rev: str) -> None:
        self.table.select_revs([rev])
        self.set_base(WORKTREE)

    def diff_pair(self) -> tuple[str | None, str] | None:
        """(old rev or None for "nothing", new rev) for the current selection and base."""
        selected = self.table.selected_revs()
        if not selected:
            return None
        if len(selected) >= 2:
            return selected[-1], selected[0]  # the oldest and newest selected: old left, new right
        rev, revs = selected[0], self.table.revs()
        base = self.diff_area.base()
        if base == PREVIOUS:
            row = revs.index(rev)
            return (revs[row + 1] if row + 1 < len(revs) else None), rev

        def position(r: str) -> int:
            return -1 if r == WORKTREE else revs.index(r) if r in revs else len(revs)

        return (rev, base) if position(base) < position(rev) else (base, rev)

    def head_sha(self) -> str | None:
        versions = self.table.versions()
        return versions[0].sha if versions else None

    # -- rollback -----------------------------------------------------------------------------
    def rollback_selected(self) -> None:
        rev = self._single_committed()
        if rev and self.rollback_button.isEnabled():
            self.rollback_to(rev)

    def rollback_to(self, sha: str) -> None:
        rel = self._rel
        if rel is None:
            return
        if self.before_rollback is not None:
            self.before_rollback(rel, lambda: self._rollback(rel, sha))
        else:
            self._rollback(rel, sha)

    def _rollback(self, rel: str, sha: str) -> None:
        store = self.services.store
        self._set_writing(True)
        self._run(lambda: jobs.rollback(store, rel, sha), key="rollback",
                  on_done=lambda outcome: self._on_rollback_done(rel, outcome),
                  on_error=lambda exc: self._show_error(f"roll back to {sha[:8]}", exc, wrote=True))

    def _on_rollback_done(self, rel: str, outcome: jobs.RollbackOutcome) -> None:
        self._set_writing(False)
        version = outcome.result.version
        if version is None:
            self._post(f"{rel} already has the content of {outcome.target[:8]}; nothing to roll back")
        else:
            undo_to = outcome.undo_to
            self._post(f"Rolled back to {outcome.target[:8]} — undo: roll back to the previous version",
                       action_text="Undo", action=(lambda: self._undo(rel, undo_to)) if undo_to else None)
            self._select_after_load = [version.sha]
            self._undo_head = version.sha
            self.rolled_back.emit(rel, version.sha)
        if rel == self._rel:
            self.refresh()

    def _undo(self, rel: str, sha: str) -> None:
        if rel != self._rel:
            self.set_prompt(rel)
        self.rollback_to(sha)

    def undo_available(self) -> bool:
        return self.notice.has_action()

    def undo(self) -> None:
        if self.notice.has_action():
            self.notice.action_button.click()

    # -- labels -------------------------------------------------------------------------------
    def promote_selected(self, label: str) -> None:
        rev = self._single_committed()
        if rev:
            self.set_label(label, rev)

    def ask_label_name(self) -> str | None:
        """Ask for a label name (tests override this)."""
        name, ok = QInputDialog.getText(self, "Label this version", "Label name (e.g. production, staging, canary):")
        return name.strip() if ok and name.strip() else None

    def label_selected_as(self) -> None:
        rev = self._single_committed()
        name = self.ask_label_name() if rev else None
        if rev and name:
            self.set_label(name, rev)

    def set_label(self, label: str, sha: str) -> None:
        rel, store = self._rel, self.services.store
        if rel is None:
            return
        self._set_writing(True)
        self._run(lambda: store.set_label(rel, label, sha), key="label",
                  on_done=lambda moved: self._on_labels_done(rel, f"{label} → {moved[:8]}"),
                  on_error=lambda exc: self._show_error(f"set label {label}", exc, wrote=True))

    def remove_label(self, label: str) -> None:
        rel, store = self._rel, self.services.store
        if rel is None:
            return
        self._set_writing(True)
        self._run(lambda: store.remove_label(rel, label), key="label",
                  on_done=lambda _: self._on_labels_done(rel, f"Removed label {label}"),
                  on_error=lambda exc: self._show_error(f"remove label {label}", exc, wrote=True))

    def _on_labels_done(self, rel: str, text: str) -> None:
        self._set_writing(False)
        self._post(f"{rel}: {text}")
        self.labels_changed.emit(rel)
        if rel == self._rel:
            self.refresh()

    def labels_in_use(self) -> list[str]:
        return sorted({label for version in self.table.versions() for label in version.labels})

    def labels_of(self, rev: str | None) -> list[str]:
        version = self.table.version(rev) if rev else None
        return list(version.labels) if version else []

    # -- loading --------------------------------------------------------------------------------
    def _on_history_loaded(self, rel: str, result: jobs.HistoryResult) -> None:
        if rel != self._rel:
            return
        previous = self.table.selected_revs()
        was_top = previous[:1] == self.table.revs()[:1] and len(previous) == 1
        keep = self._select_after_load or ([] if was_top else previous)
        self._select_after_load = None
        self.table.set_versions(result.versions, result.dirty)
        if self.notice.has_action() and (result.dirty or result.versions[:1] and result.versions[0].sha != self._undo_head):
            self.notice.dismiss()  # saved since the rollback: Undo would now also drop that save
        count = len(result.versions)
        self.title.setText(f"History of {rel}  ·  {count} version{'s' if count != 1 else ''}"
                           + ("  ·  uncommitted changes" if result.dirty else ""))
        self.diff_area.set_versions(result.versions)
        revs = [r for r in keep if self.table.row_of(r) >= 0] or self.table.revs()[:1]
        if revs:
            self.table.select_revs(revs)
        else:
            self._show_diff_message("No saved versions yet: save the prompt to start its history.")
        self._update_actions()
        self.history_loaded.emit(rel)

    def _on_selection_changed(self) -> None:
        self._update_actions()
        self.base_combo.setEnabled(len(self.table.selected_revs()) == 1)
        self._diff_timer.start()

    def _on_base_changed(self) -> None:
        self._diff_timer.start()

    def _load_diff(self) -> None:
        pair = self.diff_pair()
        rel = self._rel
        if rel is None or pair is None:
            self._show_diff_message("Select a version to see what changed; select two to compare them.")
            return
        old, new = pair
        store = self.services.store
        self.diff_area.show_loading(self._describe(old), self._describe(new))
        self._run(lambda: jobs.compute_diff(store, rel, old, new), key="diff",
                  on_done=lambda result: self._on_diff_computed(rel, result),
                  on_error=lambda exc: self._show_diff_message(f"Could not compare: {exc}"))

    def _on_diff_computed(self, rel: str, result: jobs.DiffResult) -> None:
        if rel != self._rel:
            return
        old_title = self._describe(result.old_rev) if result.old_rev else "(nothing: first version)"
        self.diff_area.show_result(result, old_title, self._describe(result.new_rev))
        self.diff_loaded.emit(rel, result.old_rev or "", result.new_rev)

    def _show_diff_message(self, text: str) -> None:
        self.diff_area.show_message(text)

    def _describe(self, rev: str | None) -> str:
        if rev is None:
            return "nothing"
        if rev == WORKTREE:
            return "Working copy"
        version = self.table.version(rev)
        if version is None:
            return rev[:8]
        return f"{version.short} · {readable_date(version.timestamp)} · {version.subject}"

    def set_base(self, rev: str) -> None:
        """Compare the selected version with ``rev`` ("previous", WORKTREE or a sha)."""
        self.diff_area.set_base(rev)
        self._diff_timer.start()

    # -- actions and menus ------------------------------------------------------------------------
    def _single_committed(self) -> str | None:
        selected = self.table.selected_revs()
        return selected[0] if len(selected) == 1 and selected[0] != WORKTREE else None

    def can_roll_back_to(self, rev: str | None) -> bool:
        """Any committed version but the current one (or the current one, to drop uncommitted edits)."""
        if not rev or rev == WORKTREE or self._writing:
            return False
        return rev != self.head_sha() or WORKTREE in self.table.revs()

    def _update_actions(self) -> None:
        rev = self._single_committed()
        labels = self.labels_of(rev)
        self.rollback_button.setEnabled(self.can_roll_back_to(rev))
        enabled = rev is not None and not self._writing
        self.promote_production_button.setEnabled(enabled and "production" not in labels)
        self.promote_staging_button.setEnabled(enabled and "staging" not in labels)
        self.label_button.setEnabled(enabled)

    def _set_writing(self, writing: bool) -> None:
        self._writing = writing
        self._update_actions()

    def _on_context_menu_requested(self, pos) -> None:
        item = self.table.itemAt(pos)
        if item is None:
            return
        rev = self.table.rev_of(item)
        if rev not in self.table.selected_revs():
            self.table.select_revs([rev])
        build_context_menu(self, rev).exec(self.table.viewport().mapToGlobal(pos))

    def _post(self, text: str, *, action_text: str = "", action=None) -> None:
        self.notice.show_notice(text, action_text=action_text, action=action)
        self.notice_posted.emit(text)

    def _show_error(self, what: str, exc: Exception, wrote: bool = False) -> None:
        if wrote:
            self._set_writing(False)
        text = f"Could not {what}: {exc}"
        self.notice.show_notice(text, error=True)
        self.notice_posted.emit(text)
