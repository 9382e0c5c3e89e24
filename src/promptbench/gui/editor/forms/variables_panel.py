"""The variables a prompt's messages use, with values from a test case or typed in."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget)

from promptbench.core.prompts.promptfile import PromptFile
from promptbench.core.prompts.templating import gh_text
from promptbench.gui.editor.forms.message_list import GrowingTextEdit

CUSTOM = "Custom values"
_MISSING_STYLE = "color: #e53935; font-weight: bold;"


def _case_title(index: int, case: dict) -> str:
    summary = ", ".join(f"{k}={' '.join(gh_text(v).split())}" for k, v in case.items())
    if len(summary) > 48:
        summary = summary[:47] + "…"
    return f"Test case {index + 1}" + (f": {summary}" if summary else "")


class VariablesPanel(QWidget):
    variables_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        title = QLabel("Variables")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.source = QComboBox()
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(16)
        self.source.currentIndexChanged.connect(self._on_source_changed)
        self.missing = QLabel()
        self.missing.setStyleSheet(_MISSING_STYLE)
        self.missing.setWordWrap(True)
        self.empty = QLabel("The messages use no {{variables}}.")
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.fields_box = QWidget()
        self.form = QFormLayout(self.fields_box)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(0, 0, 0, 0)
        inner_layout.addWidget(self.fields_box)
        inner_layout.addWidget(self.empty)
        inner_layout.addStretch(1)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(QLabel("Values from"))
        layout.addWidget(self.source)
        layout.addWidget(self.missing)
        layout.addWidget(scroll, 1)
        self.variables: list[str] = []
        self.cases: list[dict] = []
        self.fields: dict[str, GrowingTextEdit] = {}
        self.labels: dict[str, QLabel] = {}
        self._filling = False
        self._seen_prompt = False
        self._fill_sources(None)
        self._rebuild_fields({})

    # -- public --------------------------------------------------------------------------
    def set_prompt(self, prompt: PromptFile | None) -> None:
        variables = prompt.variables if prompt is not None else []
        cases = prompt.test_data if prompt is not None else []
        if variables == self.variables and cases == self.cases and (prompt is not None) == self._seen_prompt:
            return
        first = not self._seen_prompt and prompt is not None
        self._seen_prompt = prompt is not None
        selected = self.selected_test_case()
        kept = {name: field.toPlainText() for name, field in self.fields.items()}
        self.variables, self.cases = variables, cases
        self._fill_sources(0 if first and cases else selected)
        self._rebuild_fields(kept)
        self.variables_changed.emit()

    def reset(self) -> None:
        """Forget the test case choice (another file was opened)."""
        self._seen_prompt = False
        self.variables, self.cases = [], []

    def selected_test_case(self) -> int | None:
        data = self.source.currentData()
        return data if isinstance(data, int) and 0 <= data < len(self.cases) else None

    def select_test_case(self, index: int | None) -> None:
        pos = self.source.findData(index) if index is not None else 0
        self.source.setCurrentIndex(max(pos, 0))

    def variable_values(self) -> dict[str, str]:
        """Each variable that has a value, as the text put into the messages."""
        case = self.selected_test_case()
        if case is not None:
            given = self.cases[case]
            return {name: gh_text(given[name]) for name in self.variables if name in given}
        return {name: field.toPlainText() for name, field in self.fields.items() if field.toPlainText() != ""}

    def missing_variables(self) -> list[str]:
        values = self.variable_values()
        return [name for name in self.variables if name not in values]

    def set_value(self, name: str, value: str) -> None:
        """Type *value* for variable *name* (switches to custom values)."""
        self.fields[name].setPlainText(value)

    # -- internals -----------------------------------------------------------------------
    def _fill_sources(self, selected: int | None) -> None:
        self.source.blockSignals(True)
        self.source.clear()
        self.source.addItem(CUSTOM, None)
        for index, case in enumerate(self.cases):
            self.source.addItem(_case_title(index, case), index)
            self.source.setItemData(index + 1, _case_title(index, case), Qt.ItemDataRole.ToolTipRole)
        pos = self.source.findData(selected) if selected is not None and selected < len(self.cases) else 0
        self.source.setCurrentIndex(max(pos, 0))
        self.source.blockSignals(False)

    def _rebuild_fields(self, kept: dict[str, str]) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields, self.labels = {}, {}
        for name in self.variables:
            field = GrowingTextEdit(min_lines=1, max_lines=6)
            field.setPlaceholderText("value")
            field.setPlainText(kept.get(name, ""))
            field.textChanged.connect(self._on_field_edited)
            label = QLabel(name)
            self.fields[name], self.labels[name] = field, label
            self.form.addRow(label, field)
        self.empty.setVisible(not self.variables)
        self._show_case_values()

    def _show_case_values(self) -> None:
        case = self.selected_test_case()
        if case is not None:
            self._filling = True
            for name, field in self.fields.items():
                value = gh_text(self.cases[case][name]) if name in self.cases[case] else ""
                if field.toPlainText() != value:
                    field.setPlainText(value)
            self._filling = False
        self._show_missing()

    def _show_missing(self) -> None:
        missing = self.missing_variables()
        self.missing.setText(f"missing: {', '.join(missing)}" if missing else "")
        self.missing.setVisible(bool(missing))
        for name, label in self.labels.items():
            label.setText(f"{name}  (missing)" if name in missing else name)
            label.setStyleSheet(_MISSING_STYLE if name in missing else "")

    def _on_source_changed(self, _index: int) -> None:
        self._show_case_values()
        self.variables_changed.emit()

    def _on_field_edited(self) -> None:
        if self._filling:
            return
        if self.selected_test_case() is not None:
            self.source.blockSignals(True)  # typed values override the test case: now custom
            self.source.setCurrentIndex(0)
            self.source.blockSignals(False)
        self._show_missing()
        self.variables_changed.emit()
