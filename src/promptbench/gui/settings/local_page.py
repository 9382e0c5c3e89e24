"""The embedded local models: which are available (or what to install), and how they run.

The mode is ``[local] mode`` in promptbench.toml: "sequential" runs local models one
at a time so their timings stay comparable, "parallel" lets them share the CPU. A
change is written at once through core (in a task) and the settings reloaded.

"Add GGUF file…" adds any GGUF file as ``local/<name>``: core checks the file's header,
the dialog asks for a name and chat-template or plain-transcript mode, and core writes
``[local.models.<name>]``; reloading the settings registers it, so Compare lists it at
once and it is there after a restart. Added models have a Remove button.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QFileDialog, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QMessageBox,
                               QPushButton, QRadioButton, QScrollArea, QVBoxLayout, QWidget)

from promptbench.core.local.gguf import inspect_gguf, taken_names
from promptbench.core.local.catalog import PREFIX, list_local_models
from promptbench.core.settings.write import add_local_model, remove_local_model, set_local_mode
from promptbench.gui.settings.add_gguf_dialog import AddGgufDialog
from promptbench.gui.settings.common import ERROR_COLOR, OK_COLOR, InlineError, guarded, heading, muted

GGUF_FILTER = "GGUF models (*.gguf);;All files (*)"

MODES = (("sequential", "One at a time (timings comparable)",
          "Local models wait for each other, so each gets the whole CPU and their speeds can be compared."),
         ("parallel", "Parallel",
          "Local models run at the same time and share the CPU: results arrive sooner, timings are not comparable."))


class LocalModelsPage(QWidget):
    local_mode_saved = Signal(str)
    local_model_added = Signal(str)  # "local/<name>"
    local_model_removed = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.add_dialog: AddGgufDialog | None = None
        self._last_dir = str(Path.home())

        self.rows: list[tuple[str, QLabel, QLabel]] = []  # (model id, status, details) as shown
        self.remove_buttons: dict[str, QPushButton] = {}  # model id -> its Remove button (added models only)
        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list)

        self.mode_buttons: dict[str, QRadioButton] = {}
        self.mode_group = QButtonGroup(self)
        mode_box = QGroupBox("How local models run in a comparison")
        mode_layout = QVBoxLayout(mode_box)
        for mode, title, note in MODES:
            button = QRadioButton(title)
            self.mode_buttons[mode] = button
            self.mode_group.addButton(button)
            mode_layout.addWidget(button)
            explanation = muted(QLabel(note))
            explanation.setContentsMargins(24, 0, 0, 6)
            mode_layout.addWidget(explanation)
        self.mode_error = InlineError()
        self.mode_note = muted(QLabel())
        mode_layout.addWidget(self.mode_error)
        mode_layout.addWidget(self.mode_note)
        self.mode_group.buttonToggled.connect(self._on_mode_toggled)

        self.add_button = QPushButton("Add GGUF file…")
        self.add_button.setToolTip("Use a .gguf model file from this computer as local/<name>")
        self.add_button.clicked.connect(lambda: self.add_gguf_file())
        self.add_note = muted(QLabel())
        self.add_error = InlineError()
        add_row = QHBoxLayout()
        add_row.addWidget(self.add_button)
        add_row.addWidget(self.add_note, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Local models"))
        layout.addWidget(muted(QLabel("Small models that run on this computer through llama.cpp: no key, no cost, "
                                      "nothing leaves the machine.")))
        layout.addWidget(scroll, 1)
        layout.addLayout(add_row)
        layout.addWidget(self.add_error)
        layout.addWidget(mode_box)
        services.settings_changed.connect(self._on_settings_changed)
        self._show_mode()
        self.refresh_models()

    def refresh_models(self) -> None:
        self.services.tasks.run(list_local_models, on_done=guarded(self, self._on_models_listed),
                                on_error=guarded(self, lambda exc: self.mode_error.show_error(str(exc))),
                                key="settings-local-models")

    def set_mode(self, mode: str) -> None:
        """Write ``[local] mode`` (what the radio buttons do)."""
        root = self.services.store.root
        self.mode_error.clear_error()
        self.mode_note.setText("Saving…")
        for button in self.mode_buttons.values():
            button.setEnabled(False)
        self.services.tasks.run(lambda: set_local_mode(root, mode), on_done=guarded(self, lambda _: self._on_mode_written(mode)),
                                on_error=guarded(self, self._on_mode_failed), key="settings-local-mode")

    def add_gguf_file(self, path: str | None = None) -> None:
        """Ask for a file (unless given), check its header in a task, then ask for its name and mode."""
        path = path or self._choose_file()
        if not path:
            return
        self._last_dir = str(Path(path).parent)
        self.add_error.clear_error()
        self.add_note.setText(f"Reading {Path(path).name}…")
        self.services.tasks.run(lambda: (inspect_gguf(path), taken_names()), on_done=guarded(self, self._on_file_inspected),
                                on_error=guarded(self, self._on_add_failed), key="settings-local-add")

    def remove_added(self, name: str) -> None:
        """Remove ``[local.models.<name>]`` (asks first); its running server is stopped."""
        if not self._confirm_remove(name):
            return
        root, services = self.services.store.root, self.services

        def write():
            remove_local_model(root, name)
            services.local().stop(PREFIX + name)  # a new model of that name must not reach the old server
            return name

        button = self.remove_buttons.get(PREFIX + name)
        if button is not None:
            button.setEnabled(False)
        self.add_error.clear_error()
        self.services.tasks.run(write, on_done=guarded(self, self._on_model_removed),
                                on_error=guarded(self, self._on_remove_failed), key="settings-local-remove")

    # -- dialogs (tests replace these) -----------------------------------------------------
    def _choose_file(self) -> str:
        path, _filter = QFileDialog.getOpenFileName(self, "Add a GGUF model file", self._last_dir, GGUF_FILTER)
        return path

    def _confirm_remove(self, name: str) -> bool:
        answer = QMessageBox.question(self, "Remove local model", f"Remove local/{name} from promptbench.toml?\n\n"
                                      "The model file itself stays where it is.")
        return answer == QMessageBox.StandardButton.Yes

    # -- internals ---------------------------------------------------------------------------
    def _on_file_inspected(self, result) -> None:
        info, taken = result
        self.add_note.setText("")
        if self.add_dialog is not None:
            self.add_dialog.deleteLater()
        self.add_dialog = AddGgufDialog(info, taken, self)
        self.add_dialog.submitted.connect(lambda name, mode: self._on_add_submitted(str(info.path), name, mode))
        self.add_dialog.open()

    def _on_add_submitted(self, path: str, name: str, mode: str) -> None:
        root = self.services.store.root
        self.services.tasks.run(lambda: add_local_model(root, name, path, mode), on_done=guarded(self, lambda _: self._on_model_added(name)),
                                on_error=guarded(self, self._on_add_rejected), key="settings-local-add")

    def _on_model_added(self, name: str) -> None:
        if self.add_dialog is not None:
            self.add_dialog.accept()
        self._reload()  # registers local/<name>; settings_changed lists it here and in Compare
        self.add_note.setText(f"Added local/{name} to promptbench.toml; Compare lists it now.")
        self.local_model_added.emit(PREFIX + name)

    def _on_add_rejected(self, exc: Exception) -> None:
        if self.add_dialog is not None and self.add_dialog.isVisible():
            self.add_dialog.show_error(str(exc))
        else:
            self.add_error.show_error(str(exc))

    def _on_add_failed(self, exc: Exception) -> None:
        self.add_note.setText("")
        self.add_error.show_error(str(exc))

    def _on_model_removed(self, name: str) -> None:
        self._reload()
        self.add_note.setText(f"Removed local/{name} from promptbench.toml.")
        self.local_model_removed.emit(PREFIX + name)

    def _on_remove_failed(self, exc: Exception) -> None:
        self.add_error.show_error(str(exc))
        self.refresh_models()

    def _reload(self) -> None:
        try:
            self.services.reload_settings()
        except Exception as exc:
            self.add_error.show_error(str(exc))

    def _added_ids(self) -> set[str]:
        try:
            return {entry.id for entry in self.services.settings().local_models.values()}
        except Exception:  # an invalid promptbench.toml is reported by the mode box
            return set()

    def _current_mode(self) -> str | None:
        try:
            return self.services.settings().local_mode
        except Exception as exc:
            self.mode_error.show_error(str(exc))
            return None

    def _show_mode(self) -> None:
        mode = self._current_mode()
        self.mode_group.blockSignals(True)
        for name, button in self.mode_buttons.items():
            button.setChecked(name == mode)
        self.mode_group.blockSignals(False)

    def _on_models_listed(self, specs: list) -> None:
        while self._list_layout.count() > 1:
            item = self._list_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows = []
        self.remove_buttons = {}
        added = self._added_ids()
        for at, spec in enumerate(specs):
            card, status, details = _card(spec)
            if spec.id in added:
                button = QPushButton("Remove")
                button.setToolTip(f"Remove {spec.id} from promptbench.toml (the file stays)")
                button.clicked.connect(lambda _=False, name=spec.id[len(PREFIX):]: self.remove_added(name))
                card.layout().addWidget(button, 0, 2, Qt.AlignmentFlag.AlignRight)
                self.remove_buttons[spec.id] = button
            self._list_layout.insertWidget(at, card)
            self.rows.append((spec.id, status, details))

    def _on_mode_toggled(self, button: QRadioButton, checked: bool) -> None:
        if checked:
            mode = next(name for name, b in self.mode_buttons.items() if b is button)
            if mode != self._current_mode():
                self.set_mode(mode)

    def _on_mode_written(self, mode: str) -> None:
        for button in self.mode_buttons.values():
            button.setEnabled(True)
        try:
            self.services.reload_settings()
        except Exception as exc:
            self.mode_error.show_error(str(exc))
        self.mode_note.setText("Saved to promptbench.toml.")
        self.local_mode_saved.emit(mode)

    def _on_mode_failed(self, exc: Exception) -> None:
        for button in self.mode_buttons.values():
            button.setEnabled(True)
        self.mode_note.setText("")
        self.mode_error.show_error(str(exc))
        self._show_mode()  # back to what the file says

    def _on_settings_changed(self) -> None:
        self._show_mode()
        self.refresh_models()  # added or removed GGUF files


def _card(spec) -> tuple[QFrame, QLabel, QLabel]:
    """One local model: its id, whether it can run, and what it is or what to install."""
    card = QFrame()
    card.setFrameShape(QFrame.Shape.StyledPanel)
    grid = QGridLayout(card)
    grid.setContentsMargins(10, 8, 10, 8)
    grid.setVerticalSpacing(2)
    title = QLabel(spec.id)
    bold = QFont(title.font())
    bold.setBold(True)
    title.setFont(bold)
    title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    status = QLabel("Available" if spec.available else "Not available")
    status.setStyleSheet(f"color: {OK_COLOR if spec.available else ERROR_COLOR};")
    details = QLabel(spec.description if spec.available else (spec.why_unavailable or "not available"))
    details.setWordWrap(True)
    details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    grid.addWidget(title, 0, 0)
    grid.addWidget(status, 0, 1, Qt.AlignmentFlag.AlignRight)
    grid.addWidget(details, 1, 0, 1, 3)
    if not spec.available and spec.install_hint and spec.install_hint not in details.text():
        hint = muted(QLabel(f"Install: {spec.install_hint}"))
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(hint, 2, 0, 1, 3)
    grid.setColumnStretch(0, 1)
    return card, status, details
