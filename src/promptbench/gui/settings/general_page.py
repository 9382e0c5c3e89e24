"""General settings: the models a new comparison starts with, timeouts and retries, and
how evals read LLM judges' replies.

Written to promptbench.toml (``[compare] default_models``, ``[timeouts]``, ``[retries]``,
``[eval] judging`` and ``pass_threshold``) through core's ``set_general`` in a task; core
writes only what changed and says what is invalid, shown next to the field.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.settings.config import list_all_models
from promptbench.core.settings.write import set_general
from promptbench.gui.settings.common import InlineError, UnsavedChanges, error_field, guarded, heading, muted

KIND = {"catalog": "Catalog", "local": "Local", "ollama": "Ollama", "ad-hoc": "Other"}
TIMEOUTS = (("connect_s", "connect_timeout_s", "Connect", "Opening the connection to the provider."),
            ("first_token_s", "first_token_timeout_s", "First token", "Waiting for the first token (models may think first)."),
            ("idle_s", "idle_timeout_s", "Between tokens", "Silence in the middle of an answer before it is given up."))
READINGS = (("github", "GitHub's reading", "As gh models eval: the first listed choice the reply contains; pass at "
                                           "score > 0. Evals give the verdicts GitHub gives."),
            ("strict", "Strict reading", "Whole-word choices; the one the reply opens with, else the last one it "
                                         "states; pass at score >= the threshold. Reports say so, and show GitHub's "
                                         "verdict where it differs."))


class GeneralPage(UnsavedChanges, QWidget):
    settings_saved = Signal()
    dirty_changed = Signal(bool)
    save_failed = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.errors = {name: InlineError() for name in ("default_models", "connect_s", "first_token_s", "idle_s", "max",
                                                        "judging", "pass_threshold")}

        self.defaults = QTreeWidget()
        self.defaults.setHeaderLabels(["Model", "Kind", "Model string"])
        self.defaults.setRootIsDecorated(False)
        self.defaults.setAlternatingRowColors(True)
        self.defaults.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.defaults.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        defaults_box = QGroupBox("Default models for a new comparison")
        defaults_layout = QVBoxLayout(defaults_box)
        defaults_layout.addWidget(self.defaults)
        defaults_layout.addWidget(self.errors["default_models"])

        self.timeouts: dict[str, QDoubleSpinBox] = {}
        limits_box = QGroupBox("Timeouts and retries")
        form = QFormLayout(limits_box)
        for key, _attr, title, note in TIMEOUTS:
            spin = QDoubleSpinBox(minimum=0.0, maximum=3600.0, decimals=1, suffix=" s", singleStep=1.0)
            spin.setToolTip(note)
            self.timeouts[key] = spin
            form.addRow(title, _with_error(spin, self.errors[key], note))
        self.retries = QSpinBox(minimum=0, maximum=20)
        for spin in (*self.timeouts.values(), self.retries):
            spin.setMinimumWidth(110)
        form.addRow("Retries", _with_error(self.retries, self.errors["max"],
                                           "After a rate limit or an overloaded server, before any text arrived."))

        judging_box = QGroupBox("Reading LLM judges' replies (evals)")
        judging_form = QFormLayout(judging_box)
        self.judging = QComboBox()
        for mode, title, note in READINGS:
            self.judging.addItem(title, mode)
            self.judging.setItemData(self.judging.count() - 1, note, Qt.ItemDataRole.ToolTipRole)
        self.judging_note = muted(QLabel())
        self.judging_note.setWordWrap(True)
        self.pass_threshold = QDoubleSpinBox(minimum=-1000.0, maximum=1000.0, decimals=3, singleStep=0.05)
        self.pass_threshold.setMinimumWidth(110)
        judging_row = QHBoxLayout()
        judging_row.addWidget(self.judging)
        judging_row.addStretch(1)
        judging_form.addRow("Judging", _stacked(judging_row, self.judging_note, self.errors["judging"]))
        judging_form.addRow("Pass threshold", _with_error(self.pass_threshold, self.errors["pass_threshold"],
                                                          "The strict reading passes a choice whose score is at least "
                                                          "this (the built-ins score 1..5 as 0..1)."))
        self.judging.currentIndexChanged.connect(self._on_judging_changed)

        self.page_error = InlineError()
        self.saved_note = muted(QLabel())
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        actions = QHBoxLayout()
        actions.addWidget(self.saved_note, 1)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("General"))
        layout.addWidget(defaults_box, 1)
        layout.addWidget(limits_box)
        layout.addWidget(judging_box)
        layout.addWidget(self.page_error)
        layout.addLayout(actions)
        self._dirty = False
        self._loading = False
        self._writing = False
        for spin in (*self.timeouts.values(), self.retries, self.pass_threshold):
            spin.valueChanged.connect(self._on_edited)
        self.judging.currentIndexChanged.connect(self._on_edited)
        self.defaults.itemChanged.connect(self._on_edited)
        services.settings_changed.connect(self._on_settings_changed)
        self.revert()

    # -- actions -----------------------------------------------------------------------------
    def revert(self) -> None:
        """Show what promptbench.toml says (models are listed in a task: Ollama is probed)."""
        for label in (*self.errors.values(), self.page_error):
            label.clear_error()
        try:
            settings = self.services.settings()
        except Exception as exc:
            self.page_error.show_error(str(exc))
            return
        self._loading = True
        for key, attr, *_ in TIMEOUTS:
            self.timeouts[key].setValue(getattr(settings, attr))
        self.retries.setValue(settings.max_retries)
        self.judging.setCurrentIndex(max(0, self.judging.findData(settings.eval_judging)))
        self.pass_threshold.setValue(settings.eval_pass_threshold)
        self._on_judging_changed()
        self._loading = False
        self._set_dirty(False)
        self._list_models(settings, list(settings.default_models))

    def _list_models(self, settings, checked: list[str]) -> None:
        self.services.tasks.run(lambda: list_all_models(settings), on_done=guarded(self, lambda models: self._show_models(checked, models)),
                                on_error=guarded(self, lambda exc: self.page_error.show_error(str(exc))), key="settings-all-models")

    def checked_models(self) -> list[str]:
        return [self.defaults.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) for i in range(self.defaults.topLevelItemCount())
                if self.defaults.topLevelItem(i).checkState(0) == Qt.CheckState.Checked]

    def save(self) -> None:
        for label in (*self.errors.values(), self.page_error):
            label.clear_error()
        root = self.services.store.root
        values = dict(default_models=self.checked_models(), max_retries=self.retries.value(),
                      judging=self.judging.currentData(), pass_threshold=self.pass_threshold.value(),
                      **{attr: self.timeouts[key].value() for key, attr, *_ in TIMEOUTS})
        self._writing = True
        self._set_dirty(self._dirty)
        self.services.tasks.run(lambda: set_general(root, **values), on_done=guarded(self, self._on_written),
                                on_error=guarded(self, self._on_write_failed), key="settings-general")

    # -- internals ---------------------------------------------------------------------------
    def _show_models(self, checked: list[str], models: list) -> None:
        self._loading = True
        self.defaults.clear()
        by_name = {cfg.name: cfg for cfg in models}
        ordered = [*checked, *(name for name in by_name if name not in checked)]
        for name in ordered:
            cfg = by_name.get(name)
            kind = KIND.get(cfg.source, cfg.source) if cfg else "Not found"
            item = QTreeWidgetItem([name, kind, cfg.model if cfg else "not in the catalog or installed"])
            item.setData(0, Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked if name in checked else Qt.CheckState.Unchecked)
            self.defaults.addTopLevelItem(item)
        self._loading = False

    def _on_written(self, _path) -> None:
        self._writing = False
        self._set_dirty(False)
        try:
            self.services.reload_settings()  # settings_changed -> revert() shows the file's values
        except Exception as exc:
            self.page_error.show_error(str(exc))
            return
        self.saved_note.setText("Saved to promptbench.toml.")
        self.settings_saved.emit()

    def _on_write_failed(self, exc: Exception) -> None:
        self._writing = False
        self._set_dirty(True)
        self.save_failed.emit(str(exc))
        for prefix in (("timeouts",), ("retries",), ("compare",), ("eval",)):
            field, message = error_field(str(exc), prefix)
            if field in self.errors:
                self.errors[field].show_error(message)
                return
        self.page_error.show_error(str(exc))

    def _on_judging_changed(self, *_args) -> None:
        self.judging_note.setText(READINGS[max(0, self.judging.currentIndex())][2])
        self.pass_threshold.setEnabled(self.judging.currentData() == "strict")

    def _on_edited(self, *_args) -> None:
        if not self._loading:
            self._set_dirty(True)
            self.saved_note.setText("")

    def _on_settings_changed(self) -> None:
        if not self._dirty:
            self.revert()
            return
        try:  # keep the unsaved edits; the catalog may have changed
            self._list_models(self.services.settings(), self.checked_models())
        except Exception as exc:
            self.page_error.show_error(str(exc))


def _with_error(widget: QWidget, error: InlineError, note: str) -> QWidget:
    row = QHBoxLayout()
    row.addWidget(widget)
    row.addWidget(muted(QLabel(note)), 1)
    return _stacked(row, error)


def _stacked(*parts) -> QWidget:
    """Widgets and layouts one under the other, tight (a field, its note, its error)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for part in parts:
        layout.addLayout(part) if isinstance(part, QHBoxLayout) else layout.addWidget(part)
    return box
