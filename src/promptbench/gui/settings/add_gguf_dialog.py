"""Adding a GGUF file as a local model: its name and how it is prompted.

Shown after core read the file's header (:func:`promptbench.core.local.gguf.inspect_gguf`).
The dialog checks the name as it is typed (core's ``name_problem``) and emits
``submitted``; the page writes promptbench.toml in a task and closes the dialog when
that worked, or shows core's message here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QRadioButton,
                               QVBoxLayout, QWidget)

from promptbench.core.local.gguf import GgufInfo, default_name, name_problem
from promptbench.gui.settings.common import InlineError, muted

CHAT_NOTE = "For instruction-tuned models: the file's own template formats the conversation."
NO_TEMPLATE_NOTE = "This file has no chat template (tokenizer.chat_template), so it cannot be used as a chat model."
TRANSCRIPT_NOTE = ("For base models: the conversation is sent as plain “User: … / Assistant:” text, "
                   "and the answer stops where the next turn would begin.")


class AddGgufDialog(QDialog):
    submitted = Signal(str, str)  # name, mode ("chat" | "transcript")

    def __init__(self, info: GgufInfo, taken: set[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.info, self.taken = info, set(taken)
        self.setWindowTitle("Add a local model")
        self.setMinimumWidth(560)

        file_label = QLabel(str(info.path))
        file_label.setWordWrap(True)
        file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        about = " · ".join(part for part in (info.name, info.architecture, f"GGUF v{info.version}",
                                             f"{info.size / 1e6:.0f} MB" if info.size >= 1e6 else f"{info.size} bytes") if part)
        self.name = QLineEdit(default_name(info.path, self.taken), placeholderText="e.g. my-model")
        self.name_hint = muted(QLabel())
        self.name_error = InlineError()

        self.chat = QRadioButton("Chat (the file's chat template)")
        self.transcript = QRadioButton("Plain transcript (User: / Assistant:)")
        self.modes = QButtonGroup(self)
        self.modes.addButton(self.chat)
        self.modes.addButton(self.transcript)
        self.chat.setEnabled(info.chat_template)
        (self.chat if info.default_mode == "chat" else self.transcript).setChecked(True)
        mode_box = QWidget()
        mode_layout = QVBoxLayout(mode_box)
        mode_layout.setContentsMargins(0, 0, 0, 0)
        for button, note in ((self.chat, CHAT_NOTE if info.chat_template else NO_TEMPLATE_NOTE), (self.transcript, TRANSCRIPT_NOTE)):
            explanation = muted(QLabel(note))
            explanation.setContentsMargins(24, 0, 0, 6)
            mode_layout.addWidget(button)
            mode_layout.addWidget(explanation)

        self.error = InlineError()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.add_button.setText("Add")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("File", file_label)
        form.addRow("", muted(QLabel(about)))
        name_box = QWidget()
        name_layout = QVBoxLayout(name_box)
        name_layout.setContentsMargins(0, 0, 0, 0)
        name_layout.setSpacing(2)
        name_layout.addWidget(self.name)
        name_layout.addWidget(self.name_hint)
        name_layout.addWidget(self.name_error)
        form.addRow("Name", name_box)
        form.addRow("Prompted as", mode_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._on_name_changed)
        self._on_name_changed(self.name.text())

    def mode(self) -> str:
        return "chat" if self.chat.isChecked() else "transcript"

    def submit(self) -> None:
        """Check the name, then ask the page to add the model (the dialog stays open until that worked)."""
        self.error.clear_error()
        name = self.name.text().strip()
        problem = name_problem(name, self.taken)
        if problem:
            self.name_error.show_error(problem)
            self.name.setFocus()
            return
        self.add_button.setEnabled(False)
        self.add_button.setText("Adding…")
        self.submitted.emit(name, self.mode())

    def show_error(self, message: str) -> None:
        """Core refused (the file changed, the name was taken meanwhile, promptbench.toml is invalid)."""
        self.add_button.setText("Add")
        self._on_name_changed(self.name.text())
        self.error.show_error(message)

    def _on_name_changed(self, text: str) -> None:
        name = text.strip()
        problem = name_problem(name, self.taken) if name else None
        self.name_hint.setText(f"Compare lists it as local/{name}." if name and not problem else "")
        if problem:
            self.name_error.show_error(problem)
        else:
            self.name_error.clear_error()
        self.add_button.setEnabled(bool(name) and problem is None)
