"""PromptEditor: one prompt file as forms (Structured) and as text (Raw YAML), kept in sync,
with the variables panel beside them.

The raw text is the truth. A form edit is applied to the PromptFile through its
mutation helpers (comments and layout stay) and the raw text is regenerated from it; a
raw edit is re-parsed after a short pause and, when valid, refreshes the forms. While
the raw text is invalid the forms show the last valid version, read-only, under a
banner. Reading, saving, drafts and the work on big texts (checking, regenerating) run
off the GUI thread, so typing never stalls.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QSplitter, QStyle, QTabWidget, QVBoxLayout, QWidget

from promptbench.core.errors import PromptbenchError, PromptFileError
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt
from promptbench.core.prompts.fixes import apply_fix, fix_label
from promptbench.gui.widgets.banner import Banner
from promptbench.gui.editor.drafting import Drafting
from promptbench.gui.editor.persistence import Persistence
from promptbench.gui.editor.loading import Checked, Loaded, check_text, read_for_edit
from promptbench.gui.editor.raw.raw_view import RawView
from promptbench.gui.editor.forms.structured_view import StructuredView
from promptbench.gui.editor.forms.variables_panel import VariablesPanel

LARGE_TEXT = 12_000  # characters; above this, checking and regenerating the text run in tasks
DEBOUNCE_MS = 300
REGENERATE_MS = 200  # big texts: form edits reach the raw text (and the draft) at most this often


class PromptEditor(Persistence, Drafting, QWidget):
    prompt_loaded = Signal(str)
    prompt_vanished = Signal(str)  # the recovered draft of a prompt whose file is gone was discarded
    prompt_saved = Signal(str, str)
    dirty_changed = Signal(bool)
    problems_changed = Signal(list)
    text_changed = Signal()
    reloaded_from_disk = Signal(str)
    variables_changed = Signal()
    status_posted = Signal(str)  # one-line news for a status bar

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._rel: str | None = None
        self._saved_text = ""            # editor text (LF) as last loaded or saved
        self._crlf = False               # the file uses CRLF line ends (the editor shows LF)
        self._bom = False
        self._prompt: PromptFile | None = None   # what the forms show and edit
        self._synced_text: str | None = None     # the editor text that _prompt corresponds to
        self._validated_text: str | None = None
        self._errors: list = []
        self._dirty = False
        self._programmatic = False
        self._pending_forms = False      # form edits applied to _prompt, raw text not regenerated yet
        self._parse_cache: tuple[str, PromptFile | None] | None = None
        self._banner_reason: str | None = None
        self._form_generation = 0
        self._flushing = False
        self._init_persistence()
        self._init_drafting()

        self.banner = Banner()
        self.structured = StructuredView()
        self.raw = RawView()
        self.variables = VariablesPanel()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.structured, "Structured")
        self.tabs.addTab(self.raw, "Raw YAML")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.tabs)
        self.split.addWidget(self.variables)
        self.split.setStretchFactor(0, 1)
        self.split.setCollapsible(0, False)
        self.split.setSizes([760, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.banner)
        layout.addWidget(self.split, 1)

        self._validate_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._validate_timer.timeout.connect(self._validate)
        self._regen_timer = QTimer(self, singleShot=True, interval=0)
        self._regen_timer.timeout.connect(self._regenerate)
        self.raw.editor.textChanged.connect(self._on_raw_text_changed)
        self.structured.edited.connect(self._on_structured_edited)
        self.structured.show_problems_clicked.connect(lambda: self.tabs.setCurrentWidget(self.raw))
        self.raw.fix_requested.connect(self._on_fix_requested)
        self.variables.variables_changed.connect(self.variables_changed)
        self.raw.editor.setEnabled(False)
        self.structured.set_placeholder("Open a prompt to edit it.")

    # -- accessors --------------------------------------------------------------------------
    def current_rel(self) -> str | None:
        return self._rel

    def current_text(self) -> str:
        """The text as it would be saved (form edits included)."""
        self._flush_forms()
        return self._to_file(self.raw.text())

    def current_prompt(self) -> PromptFile | None:
        """The current text parsed, or None when it is not a valid prompt."""
        text = self.current_text()
        if self._parse_cache is None or self._parse_cache[0] != text:
            try:
                prompt = parse_prompt(text, self._rel or "untitled.prompt.yml")
            except PromptFileError:
                prompt = None
            self._parse_cache = (text, prompt)
        return self._parse_cache[1]

    def is_dirty(self) -> bool:
        self._flush_forms()
        return self._dirty

    def has_unsaved_edits(self) -> bool:
        """Like ``is_dirty`` without making the raw text first (cheap: for what is shown)."""
        return self._dirty

    def problems(self) -> list:
        return list(self._errors)

    def variable_values(self) -> dict:
        return self.variables.variable_values()

    def selected_test_case(self) -> int | None:
        return self.variables.selected_test_case()

    # -- loading ----------------------------------------------------------------------------
    def load(self, rel: str) -> None:
        """Read *rel* in the background and show it (unsaved edits are discarded)."""
        self._start_load(rel, silent_reload=False)

    def _start_load(self, rel: str, silent_reload: bool) -> None:
        self._loading = True
        store = self.services.store
        writer = self.services.drafts()
        drafts = writer.store if writer is not None and not silent_reload else None
        self.services.tasks.run(lambda: read_for_edit(store, rel, drafts),
                                on_done=self._alive(lambda loaded: self._on_loaded(loaded, silent_reload)),
                                on_error=self._alive(lambda exc: self._on_load_failed(rel, exc)), key="editor-load")

    def _on_loaded(self, loaded: Loaded, silent_reload: bool) -> None:
        self._loading = False
        self._validate_timer.stop()
        self._regen_timer.stop()
        self._pending_forms = False
        text = loaded.text.removeprefix("\ufeff")
        self._crlf = "\r\n" in text
        text = text.replace("\r\n", "\n") if self._crlf else text
        self._bom = loaded.text.startswith("\ufeff")
        self._rel, self._base, self._saved_text = loaded.rel, loaded.fingerprint, text
        self._accepted_disk = None
        self._draft_timer.stop()
        self._draft_text, self._recovered, self._missing = None, None, False
        self._set_file_base(None if loaded.missing else loaded.text, loaded.fingerprint)
        self._clear_banner()
        prompt = loaded.checked.prompt
        self._prompt, self._synced_text = prompt, (text if prompt is not None else None)
        self.variables.reset()
        self.variables.set_prompt(prompt)
        self.structured.set_prompt(prompt, new_file=True)
        self.raw.editor.setEnabled(True)
        self._programmatic = True
        self.raw.editor.setPlainText(text)
        self._programmatic = False
        self._apply_check(text, loaded.checked)
        if prompt is None and loaded.draft is None:
            self.tabs.setCurrentWidget(self.raw)
        if loaded.draft is not None:
            self._recover(loaded.draft, loaded.blob, loaded.missing)
        self._update_dirty()
        self.prompt_loaded.emit(loaded.rel)
        if silent_reload:
            self.reloaded_from_disk.emit(loaded.rel)
            self.status_posted.emit(f"{loaded.rel} changed on disk: reloaded")

    def close_prompt(self) -> None:
        """Show no prompt (the one shown is gone)."""
        self._draft_timer.stop()
        self._validate_timer.stop()
        self._regen_timer.stop()
        self._rel, self._prompt, self._synced_text, self._pending_forms = None, None, None, False
        self._missing, self._saved_text, self._draft_text, self._recovered = False, "", None, None
        self._programmatic = True
        self.raw.editor.setPlainText("")
        self._programmatic = False
        self.raw.editor.setEnabled(False)
        self.structured.set_prompt(None)
        self.structured.set_placeholder("Open a prompt to edit it.")
        self._clear_banner()
        self._update_dirty()

    def _on_load_failed(self, rel: str, exc: Exception) -> None:
        self._loading = False
        self._show_banner("load-error", f"Cannot open {rel}: {exc}", "error", [("Dismiss", self._clear_banner)])
        self.status_posted.emit(str(exc))

    # -- the banner: one message at a time, each with the condition that clears it --------------------
    def _show_banner(self, reason: str, text: str, kind: str, actions) -> None:
        self._banner_reason = reason
        self.banner.show_message(text, kind, actions)

    def _clear_banner(self, *reasons: str) -> None:
        """Hide the banner if it shows one of *reasons* (any, without reasons)."""
        if not reasons or self._banner_reason in reasons:
            self._banner_reason = None
            self.banner.hide()

    def banner_reason(self) -> str | None:
        return self._banner_reason if self.banner.isVisibleTo(self) else None

    # -- text <-> file form -------------------------------------------------------------------
    def _to_file(self, text: str) -> str:
        text = text.replace("\n", "\r\n") if self._crlf else text
        return "\ufeff" + text if self._bom else text

    def _from_file(self, text: str) -> str:
        text = text.removeprefix("\ufeff")
        return text.replace("\r\n", "\n") if self._crlf else text

    def _on_fix_requested(self, problem) -> None:
        """Apply a problem's one-click fix to the raw text as one undoable edit."""
        if self._rel is None or not self.raw.editor.isEnabled() or self.raw.editor.isReadOnly():
            return
        self._flush_forms()
        try:
            fixed = apply_fix(self._to_file(self.raw.text()), problem)
        except PromptbenchError as exc:
            self.status_posted.emit(f"Cannot fix that: {exc}")
            return
        self.raw.replace_text(self._from_file(fixed))
        self._validate_timer.stop()
        self._validate()
        self.status_posted.emit(f"Fixed line {problem.line}: {fix_label(problem)} (Ctrl+Z undoes it; not saved yet)"
                                if problem.line else f"Fixed: {fix_label(problem)} (Ctrl+Z undoes it; not saved yet)")

    # -- raw side ------------------------------------------------------------------------------
    def _on_raw_text_changed(self) -> None:
        if not self._programmatic and self._pending_forms:
            self._regen_timer.stop()  # the person typed in the raw view: their text wins
            self._pending_forms = False
        self._update_dirty()
        self.text_changed.emit()
        if self._rel is not None:
            self._validate_timer.start()

    def _validate(self) -> None:
        """Check the raw text (debounced): on the GUI thread when small, else in a task."""
        text = self.raw.text()
        if self._rel is None or text == self._validated_text:
            return
        file_text, rel = self._to_file(text), self._rel
        if len(text) > LARGE_TEXT:
            self.services.tasks.run(lambda: check_text(file_text, rel),
                                    on_done=self._alive(lambda checked: self._on_checked(text, checked)),
                                    key="editor-validate")
        else:
            self._on_checked(text, check_text(file_text, rel))

    def _on_checked(self, text: str, checked: Checked) -> None:
        if text != self.raw.text() or self._pending_forms:
            return  # changed meanwhile; the next check is already scheduled
        self._apply_check(text, checked)
        if checked.prompt is not None:
            from_forms = text == self._synced_text
            self._prompt, self._synced_text = checked.prompt, text
            if not from_forms:
                self.structured.set_prompt(checked.prompt)
            self.variables.set_prompt(checked.prompt)

    def _apply_check(self, text: str, checked: Checked) -> None:
        self._validated_text = text
        self.raw.set_problems(checked.errors, checked.warnings)
        count = len(checked.errors)
        self.tabs.setTabText(1, f"Raw YAML ({count})" if count else "Raw YAML")
        self.tabs.setTabIcon(1, self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning) if count else QIcon())
        if checked.prompt is not None:
            self.structured.set_notice(_warning_notice(checked.warnings), kind="info")
        elif self._prompt is None:
            self.structured.set_placeholder("This file is not a valid prompt yet. Fix it in the Raw YAML view; "
                                            "the forms appear once it parses.")
            self.structured.set_notice(_problem_notice(count, "the forms appear once it is fixed"), editable=False)
        elif text == self._synced_text:  # made invalid by a form edit: keep the forms editable
            self.structured.set_notice(_problem_notice(count, "fix it here or in Raw YAML"), editable=True)
        else:
            self.structured.set_notice(_problem_notice(count, "showing the last valid version, read-only"), editable=False)
        if checked.errors != self._errors:
            self._errors = list(checked.errors)
            self.problems_changed.emit(list(checked.errors))

    # -- structured side -----------------------------------------------------------------------
    def _on_structured_edited(self, edit) -> None:
        if self._rel is None or self._prompt is None:
            return
        text = self.raw.text()
        if text != self._synced_text and not self._pending_forms:
            # Raw edits not checked yet: check now, and only apply onto a valid text.
            if len(text) <= LARGE_TEXT:
                self._validate_timer.stop()
                self._on_checked(text, check_text(self._to_file(text), self._rel))
            if text != self._synced_text:
                self.structured.set_prompt(self._prompt)
                self.status_posted.emit("The raw YAML has problems: fix them before editing the forms")
                return
        try:
            edit(self._prompt)
        except (PromptFileError, KeyError, IndexError, TypeError) as exc:
            self.status_posted.emit(f"Cannot apply that change: {exc}")
            self.structured.set_prompt(self._prompt)
            return
        self._pending_forms = True
        self._form_generation += 1
        self._update_dirty()  # at once: Save and the marks must not wait for the text
        if len(text) <= LARGE_TEXT:
            self._regen_timer.start(0)
        elif not self._regen_timer.isActive():  # throttled: typing keeps regenerating, in a task
            self._regen_timer.start(REGENERATE_MS)
        self.structured.set_prompt(self._prompt)
        self.variables.set_prompt(self._prompt)

    def _regenerate(self) -> None:
        """Make the raw text from the forms' edits: here when small, in a task when big."""
        if not self._pending_forms or self._prompt is None:
            return
        if len(self.raw.text()) > LARGE_TEXT and not self._flushing:
            job, generation = self._prompt.dump_job(), self._form_generation
            self.services.tasks.run(job, on_done=self._alive(lambda text: self._on_regenerated(text, generation)),
                                    key="editor-regenerate")
            return
        self._pending_forms = False
        text = self._prompt.dumps()
        if self._prompt.last_save_method == "lossy":
            self._refuse_lossy_edit()
            return
        self._show_regenerated(self._from_file(text))

    def _refuse_lossy_edit(self) -> None:
        """A form edit this file's layout cannot take without losing comments: never rewrite
        the file for it; the forms go back to the text as it is, and say where to make it."""
        checked = check_text(self._to_file(self.raw.text()), self._rel or "untitled.prompt.yml")
        if checked.prompt is not None:
            self._prompt = checked.prompt
            self.structured.set_prompt(checked.prompt)
        self.structured.set_notice(LOSSY_NOTICE)
        self._update_dirty()
        self.status_posted.emit(LOSSY_NOTICE)

    def _on_regenerated(self, text: str | None, generation: int) -> None:
        if not self._pending_forms or self._prompt is None:
            return  # the raw text was typed in meanwhile, or it was flushed
        if text is None:  # an edit the in-place patch cannot make: the full dump, here
            self._flushing = True
            try:
                self._regenerate()
            finally:
                self._flushing = False
            return
        if generation == self._form_generation:
            self._pending_forms = False
        elif not self._regen_timer.isActive():
            self._regen_timer.start(REGENERATE_MS)
        self._show_regenerated(self._from_file(text))
        self._draft_timer.stop()
        self._write_draft()  # the text has waited for the task already: to the disk at once

    def _show_regenerated(self, text: str) -> None:
        self._synced_text = text if not self._pending_forms else None
        self._programmatic = True
        try:
            self.raw.replace_text(text)
        finally:
            self._programmatic = False
        self._update_dirty()  # also when the text came out the same

    def _flush_forms(self) -> None:
        if self._pending_forms:
            self._regen_timer.stop()
            self._flushing = True
            try:
                self._regenerate()
            finally:
                self._flushing = False

    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.raw:
            self._flush_forms()
        elif self._validate_timer.isActive() and len(self.raw.text()) <= LARGE_TEXT:
            self._validate_timer.stop()
            self._validate()

    # -- dirty state ---------------------------------------------------------------------------
    def _update_dirty(self) -> None:
        dirty = self._rel is not None and (self._pending_forms or self.raw.text() != self._saved_text or self._missing)
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)
        if dirty or self._draft_text is not None:
            self._schedule_draft()


def _problem_notice(count: int, what: str) -> str:
    noun = "problem" if count == 1 else "problems"
    return f"The raw YAML has {count} {noun}: {what}."


LOSSY_NOTICE = ("That change was not made: written from the forms it would drop this file's comments. "
                "Make it in Raw YAML, where the text stays as you write it")


def _warning_notice(warnings: list) -> str | None:
    """The forms' note about a valid file's warnings (None: there are none)."""
    if not warnings:
        return None
    fixable = sum(1 for w in warnings if fix_label(w))
    noun = "warning" if len(warnings) == 1 else "warnings"
    fixes = f" ({fixable} with a one-click fix)" if fixable else ""
    return f"{len(warnings)} {noun}{fixes}: where GitHub reads this file differently, or something is ignored"
