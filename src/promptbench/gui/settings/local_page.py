"""The embedded local models: which are available (or what to install), and how they run.

The mode is ``[local] mode`` in promptbench.toml: "sequential" runs local models one
at a time so their timings stay comparable, "parallel" lets them share the CPU. A
change is written at once through core (in a task) and the settings reloaded.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QButtonGroup, QFrame, QGridLayout, QGroupBox, QLabel, QRadioButton, QScrollArea,
                               QVBoxLayout, QWidget)

from promptbench.core.local_models import list_local_models
from promptbench.core.settings_write import set_local_mode
from promptbench.gui.settings.common import ERROR_COLOR, OK_COLOR, InlineError, guarded, heading, muted

MODES = (("sequential", "One at a time (timings comparable)",
          "Local models wait for each other, so each gets the whole CPU and their speeds can be compared."),
         ("parallel", "Parallel",
          "Local models run at the same time and share the CPU: results arrive sooner, timings are not comparable."))


class LocalModelsPage(QWidget):
    local_mode_saved = Signal(str)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services

        self.rows: list[tuple[str, QLabel, QLabel]] = []  # (model id, status, details) as shown
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

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Local models"))
        layout.addWidget(muted(QLabel("Small models that run on this computer through llama.cpp: no key, no cost, "
                                      "nothing leaves the machine.")))
        layout.addWidget(scroll, 1)
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

    # -- internals ---------------------------------------------------------------------------
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
        for at, spec in enumerate(specs):
            card, status, details = _card(spec)
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
    grid.addWidget(details, 1, 0, 1, 2)
    if not spec.available and spec.install_hint and spec.install_hint not in details.text():
        hint = muted(QLabel(f"Install: {spec.install_hint}"))
        hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(hint, 2, 0, 1, 2)
    grid.setColumnStretch(0, 1)
    return card, status, details
