"""The Structured page: the prompt's fields as forms. It shows a PromptFile and emits
``edited(fn)`` with a function that applies the user's change to one (see edits.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QFormLayout, QFrame, QGroupBox, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget)

from promptbench.core.prompts.promptfile import PromptFile
from promptbench.gui.editor.forms import edits
from promptbench.gui.widgets.banner import Banner
from promptbench.gui.editor.forms.evaluators_list import EvaluatorsList
from promptbench.gui.editor.forms.message_list import MessageList
from promptbench.gui.editor.forms.params_form import ParamsForm, ResponseFormatForm
from promptbench.gui.editor.forms.testdata_table import TestDataTable


def _section(title: str, body: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(10, 8, 10, 10)
    layout.addWidget(body)
    return box


class StructuredView(QWidget):
    edited = Signal(object)
    show_problems_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.banner = Banner()
        self.name = QLineEdit(placeholderText="A short name for this prompt")
        self.description = QLineEdit(placeholderText="What the prompt is for")
        self.model = QLineEdit(placeholderText="provider/model, e.g. openai/gpt-4o-mini")
        for key, field in (("name", self.name), ("description", self.description), ("model", self.model)):
            field.textEdited.connect(lambda text, key=key: self.edited.emit(edits.set_field(key, text or None)))
        header = QWidget()
        form = QFormLayout(header)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Model", self.model)
        self.messages = MessageList()
        self.params = ParamsForm()
        self.response = ResponseFormatForm()
        self.test_data = TestDataTable()
        self.evaluators = EvaluatorsList()
        for part in (self.messages, self.params, self.response, self.test_data, self.evaluators):
            part.edited.connect(self.edited)

        self.body = QWidget()
        column = QVBoxLayout(self.body)
        column.setContentsMargins(12, 12, 12, 12)
        column.setSpacing(12)
        column.addWidget(_section("Prompt", header))
        column.addWidget(_section("Messages", self.messages))
        column.addWidget(_section("Model parameters", self.params))
        column.addWidget(_section("Response format", self.response))
        column.addWidget(_section("Test data", self.test_data))
        column.addWidget(_section("Evaluators", self.evaluators))
        column.addStretch(1)
        self.placeholder = QLabel("Open a prompt to edit it.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        banner_box = QVBoxLayout()
        banner_box.setContentsMargins(8, 8, 8, 0)
        banner_box.addWidget(self.banner)
        layout.addLayout(banner_box)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.placeholder, 1)
        self.prompt: PromptFile | None = None
        self.set_prompt(None)

    def set_prompt(self, prompt: PromptFile | None, new_file: bool = False) -> None:
        """Show *prompt*, updating the widgets in place (focus and cursors stay)."""
        self.prompt = prompt
        self.scroll.setVisible(prompt is not None)
        self.placeholder.setVisible(prompt is None)
        if prompt is None:
            return
        if new_file:
            self.test_data.forget_added_columns()
        for field, value in ((self.name, prompt.name), (self.description, prompt.description), (self.model, prompt.model)):
            if field.text() != (value or ""):
                field.setText(value or "")
                if not field.hasFocus():
                    field.setCursorPosition(0)  # a long description reads from its start, not its tail
        self.messages.set_messages(prompt.messages)
        self.params.set_parameters(prompt.model_parameters_in_file)
        self.response.set_prompt(prompt)
        self.test_data.set_prompt(prompt)
        self.evaluators.set_evaluators(prompt.evaluator_entries)

    def set_notice(self, text: str | None, editable: bool = True, kind: str = "warning") -> None:
        """A banner over the forms (None hides it). Not *editable*: the raw YAML has
        problems, so the forms show the last valid version read-only. *kind* "info": the
        file works, with warnings listed in Raw YAML."""
        self.body.setEnabled(editable)
        if text is None:
            self.banner.hide()
        else:
            button = "Show warnings" if kind == "info" else "Show problems"
            self.banner.show_message(text, kind, [(button, self.show_problems_clicked.emit)])

    def set_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
