"""The model catalog page: the ``[models.*]`` of promptbench.toml, edited through core.

Saving and removing run core's ``save_model`` / ``remove_model`` in a task, then ask
``services.reload_settings()``; what core refuses is shown next to the field it names.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from promptbench.core.settings.write import remove_model, save_model
from promptbench.gui.settings.common import InlineError, UnsavedChanges, error_field, guarded, heading, muted, set_status
from promptbench.gui.settings.connection_test import ConnectionTester
from promptbench.gui.settings.key_panel import KeyPanel
from promptbench.gui.settings.model_form import FormError, ModelForm


class ModelsPage(UnsavedChanges, QWidget):
    model_saved = Signal(str)
    model_removed = Signal(str)
    dirty_changed = Signal(bool)
    save_failed = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._editing: str | None = None  # the catalog name in the form; None: a new model
        self._dirty = False
        self._writing = False
        self._results: dict[str, tuple[bool, str]] = {}  # connection test results by model name

        self.model_list = QListWidget()
        self.model_list.currentItemChanged.connect(self._on_current_changed)
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self.add_model)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        list_buttons.addStretch(1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Catalog (promptbench.toml)"))
        left_layout.addWidget(self.model_list, 1)
        left_layout.addLayout(list_buttons)

        self.form = ModelForm()
        self.key_panel = KeyPanel(services)
        self.key_panel.keyring_checked.connect(self.form.set_keyring_available)
        self.key_panel.use_env_requested.connect(self.form.use_env_source)
        self.form.add_key_row(self.key_panel)
        self.form.edited.connect(self._on_form_edited)
        self._key_timer = QTimer(self, singleShot=True, interval=250)
        self._key_timer.timeout.connect(self._update_key_panel)
        self.form.key_source_changed.connect(self._key_timer.start)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)

        self.tester = ConnectionTester(services, self)
        self.tester.test_finished.connect(self._on_test_finished)
        self.test_button = QPushButton("Test connection")
        self.test_button.setToolTip("Send “Say OK.” (at most a few tokens) through the engine and time the first token")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        self.page_error = InlineError()
        self.saved_note = muted(QLabel())
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.save_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(scroll, 1)
        right_layout.addWidget(self.page_error)
        right_layout.addWidget(self.saved_note)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.test_result)  # its own line: "No key: …" and provider errors are long

        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([200, 560])
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Models"))
        layout.addWidget(muted(QLabel("Models you can compare, saved in promptbench.toml with the prompts. "
                                      "It records where each key comes from, never the key itself.")))
        layout.addWidget(split, 1)
        services.settings_changed.connect(self._on_settings_changed)
        self.refresh()
        self._select_first()

    # -- actions -----------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the catalog; keep (or move to) ``select`` and keep unsaved edits."""
        self.page_error.clear_error()
        models = self._catalog()
        wanted = select if select is not None else self._editing
        self.model_list.blockSignals(True)
        self.model_list.clear()
        for name, cfg in models.items():
            item = QListWidgetItem(name)
            item.setToolTip(cfg.model)
            self.model_list.addItem(item)
            if name == wanted:
                self.model_list.setCurrentItem(item)
        self.model_list.blockSignals(False)
        if self._dirty and select is None:
            return
        current = self.model_list.currentItem()
        if current is not None:
            self._load(models[current.text()])
        elif self._editing is not None or not self._dirty:  # it is gone from the file, or nothing typed yet
            self._select_first()
        self.remove_button.setEnabled(self.model_list.currentItem() is not None)

    def add_model(self) -> None:
        if not self._confirm_discard():
            return
        self.model_list.blockSignals(True)
        self.model_list.setCurrentItem(None)
        self.model_list.clearSelection()
        self.model_list.blockSignals(False)
        self.page_error.clear_error()
        self._load(None)
        self.remove_button.setEnabled(False)
        self.form.name.setFocus()

    def revert(self) -> None:
        self._load(self._catalog().get(self._editing) if self._editing else None)

    def save(self) -> None:
        self.form.clear_errors()
        self.page_error.clear_error()
        try:
            cfg = self.form.config()
        except FormError as exc:
            self.form.show_error(exc.field, str(exc))
            return
        existing = self._catalog()
        if cfg.name != self._editing and cfg.name in existing:
            self.form.show_error("name", f"There is already a model named “{cfg.name}”; choose another name or edit that one.")
            return
        root, old_name = self.services.store.root, self._editing

        def write():
            save_model(root, cfg)
            if old_name is not None and old_name != cfg.name:
                remove_model(root, old_name)  # a rename
            return cfg.name

        self._writing = True
        self._set_dirty(self._dirty)
        self.services.tasks.run(write, on_done=guarded(self, self._on_model_written),
                                on_error=guarded(self, lambda exc: self._on_write_failed(cfg.name, exc)), key="settings-models")

    def remove_selected(self) -> None:
        item = self.model_list.currentItem()
        if item is None or not self._confirm_remove(item.text()):
            return
        name, root = item.text(), self.services.store.root

        def write():
            remove_model(root, name)
            return name

        self.remove_button.setEnabled(False)
        self.services.tasks.run(write, on_done=guarded(self, self._on_model_deleted),
                                on_error=guarded(self, lambda exc: self._on_write_failed(name, exc)), key="settings-models")

    def test_connection(self) -> None:
        self.form.clear_errors()
        try:
            cfg = self.form.config()
        except FormError as exc:
            self.form.show_error(exc.field, str(exc))
            return
        self._results.pop(cfg.name, None)
        set_status(self.test_result, "Testing…", None)
        self.test_button.setEnabled(False)
        self.tester.start(cfg)

    def shutdown(self) -> None:
        self.tester.cancel_all()

    # -- dialogs (tests replace these) -----------------------------------------------------
    def _confirm_remove(self, name: str) -> bool:
        answer = QMessageBox.question(self, "Remove model", f"Remove “{name}” from promptbench.toml?\n\n"
                                      "Stored keys stay in the keyring.")
        return answer == QMessageBox.StandardButton.Yes

    def _confirm_discard(self) -> bool:
        if not self._dirty:
            return True
        answer = QMessageBox.question(self, "Unsaved changes", "Discard the changes to this model?")
        return answer == QMessageBox.StandardButton.Yes

    # -- internals ---------------------------------------------------------------------------
    def _catalog(self) -> dict:
        try:
            return self.services.settings().models
        except Exception as exc:  # promptbench.toml is invalid: say so, offer nothing to edit
            self.page_error.show_error(str(exc))
            return {}

    def _load(self, cfg) -> None:
        self._editing = cfg.name if cfg else None
        self.key_panel.key_edit.clear()  # a key typed for another model is not stored for this one
        self.form.load(cfg)
        self._set_dirty(False)
        self._show_result(cfg.name if cfg else None)
        self._update_key_panel()

    def _select_first(self) -> None:
        if self.model_list.count():
            self.model_list.setCurrentRow(0)  # loads it through _on_current_changed
        else:
            self._load(None)
        self.remove_button.setEnabled(self.model_list.currentItem() is not None)

    def _show_result(self, name: str | None) -> None:
        running = name is not None and self.tester.is_running(name)
        self.test_button.setEnabled(not running)
        if running:
            set_status(self.test_result, "Testing…", None)
        elif name in self._results:
            ok, text = self._results[name]
            set_status(self.test_result, text, ok)
        else:
            set_status(self.test_result, "", None)

    def _update_key_panel(self) -> None:
        try:
            cfg = self.form.config()
        except FormError:
            cfg = None
        entry = self.form.keyring_entry() if self.form.source_keyring.isChecked() else ""
        self.key_panel.show_for(cfg, entry, self.form.suggested_env_name())

    def _on_current_changed(self, current: QListWidgetItem | None, previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        if not self._confirm_discard():
            self.model_list.blockSignals(True)
            self.model_list.setCurrentItem(previous)
            self.model_list.blockSignals(False)
            return
        self.page_error.clear_error()
        self._load(self._catalog().get(current.text()))
        self.remove_button.setEnabled(True)

    def _on_form_edited(self) -> None:
        self._set_dirty(True)
        self.saved_note.setText("")

    def _on_model_written(self, name: str) -> None:
        self._writing = False
        self._set_dirty(False)
        self._editing = name
        self._reload()  # settings_changed -> refresh() selects and loads it
        self.saved_note.setText(f"Saved “{name}” to promptbench.toml.")
        self.model_saved.emit(name)

    def _on_model_deleted(self, name: str) -> None:
        self._results.pop(name, None)
        self._editing = None
        self._set_dirty(False)
        self._reload()
        self._select_first()
        self.saved_note.setText(f"Removed “{name}” from promptbench.toml.")
        self.model_removed.emit(name)

    def _on_write_failed(self, name: str, exc: Exception) -> None:
        self._writing = False
        self._set_dirty(self._dirty)
        self.save_failed.emit(str(exc))
        self.remove_button.setEnabled(self.model_list.currentItem() is not None)
        field, message = error_field(str(exc), ("models", name))
        if field is None or not self.form.show_error(field, message):
            self.page_error.show_error(str(exc))

    def _on_test_finished(self, name: str, ok: bool, text: str) -> None:
        self._results[name] = (ok, text)
        shown = self.form.name.text().strip()
        if name == shown or name == self._editing:
            self._show_result(name)

    def _on_settings_changed(self) -> None:
        self.refresh()

    def _reload(self) -> None:
        try:
            self.services.reload_settings()
        except Exception as exc:
            self.page_error.show_error(str(exc))
