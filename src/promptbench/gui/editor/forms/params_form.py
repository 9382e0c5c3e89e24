"""Model parameters (temperature, maxTokens, topP + other keys) and the response format."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.prompts.promptfile import PromptFile
from promptbench.core.prompts.schema import RESPONSE_FORMATS
from promptbench.gui.editor.forms import edits
from promptbench.gui.editor.forms.message_list import GrowingTextEdit

NOT_SET = "(not set)"
_KEY_ROLE = Qt.ItemDataRole.UserRole
SCHEMA_TEMPLATE = """{
  "name": "response",
  "strict": true,
  "schema": {
    "type": "object",
    "properties": {},
    "required": [],
    "additionalProperties": false
  }
}"""


def value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parse_value(text: str) -> Any:
    """A typed value from a cell: JSON when it reads as JSON (numbers, true, [..]), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _double_spin(maximum: float, step: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setDecimals(2)
    spin.setRange(-0.01, maximum)  # the minimum means "not set"
    spin.setSingleStep(step)
    spin.setSpecialValueText(NOT_SET)
    spin.setMinimumWidth(120)
    return spin


class ParamsForm(QWidget):
    edited = Signal(object)
    KNOWN = ("temperature", "maxTokens", "topP")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.temperature = _double_spin(2, 0.1)
        self.top_p = _double_spin(1, 0.05)
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 10_000_000)
        self.max_tokens.setSpecialValueText(NOT_SET)
        self.max_tokens.setMinimumWidth(120)
        self.temperature.valueChanged.connect(lambda v: self._on_spin_changed("temperature", v))
        self.top_p.valueChanged.connect(lambda v: self._on_spin_changed("topP", v))
        self.max_tokens.valueChanged.connect(lambda v: self._on_spin_changed("maxTokens", v))
        self.others = QTableWidget(0, 2)
        self.others.setHorizontalHeaderLabels(["Parameter", "Value"])
        self.others.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.others.horizontalHeader().resizeSection(0, 160)
        self.others.verticalHeader().hide()
        self.others.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.others.itemChanged.connect(self._on_other_changed)
        add = QPushButton("Add parameter")
        add.clicked.connect(self._on_add_clicked)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._on_remove_clicked)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Temperature", self.temperature)
        form.addRow("Max tokens", self.max_tokens)
        form.addRow("Top P", self.top_p)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(QLabel("Other parameters"))
        layout.addWidget(self.others)
        layout.addLayout(buttons)

    def set_parameters(self, params: dict) -> None:
        for key, spin in (("temperature", self.temperature), ("topP", self.top_p), ("maxTokens", self.max_tokens)):
            value = params.get(key)
            target = spin.minimum() if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) else value
            if spin.value() != target:
                spin.blockSignals(True)
                spin.setValue(target)
                spin.blockSignals(False)
        others = {k: v for k, v in params.items() if k not in self.KNOWN}
        if others == self._committed_others():
            return
        self.others.blockSignals(True)
        self.others.setRowCount(0)
        for key, value in others.items():
            self._append_row(str(key), value_text(value))
        self.others.blockSignals(False)
        self._fit_table()

    def _committed_others(self) -> dict:
        out = {}
        for row in range(self.others.rowCount()):
            key_item, value_item = self.others.item(row, 0), self.others.item(row, 1)
            key = key_item.data(_KEY_ROLE) if key_item else None
            if key:
                out[key] = parse_value(value_item.text()) if value_item else None
        return out

    def _append_row(self, key: str, value: str) -> int:
        row = self.others.rowCount()
        self.others.insertRow(row)
        key_item = QTableWidgetItem(key)
        key_item.setData(_KEY_ROLE, key or None)
        self.others.setItem(row, 0, key_item)
        self.others.setItem(row, 1, QTableWidgetItem(value))
        return row

    def _fit_table(self) -> None:
        rows = self.others.rowCount()
        height = self.others.horizontalHeader().height() + self.others.frameWidth() * 2
        height += sum(self.others.rowHeight(r) for r in range(rows)) if rows else self.others.verticalHeader().defaultSectionSize()
        self.others.setFixedHeight(height + 2)

    def _on_spin_changed(self, key: str, value: float) -> None:
        spin = {"temperature": self.temperature, "topP": self.top_p, "maxTokens": self.max_tokens}[key]
        if value == spin.minimum():
            self.edited.emit(edits.set_parameter(key, None))
        else:
            self.edited.emit(edits.set_parameter(key, int(value) if key == "maxTokens" else round(value, 2)))

    def _on_other_changed(self, item: QTableWidgetItem) -> None:
        row = item.row()
        key_item, value_item = self.others.item(row, 0), self.others.item(row, 1)
        key = key_item.text().strip() if key_item else ""
        old_key = key_item.data(_KEY_ROLE) if key_item else None
        value = value_item.text() if value_item else ""
        if item.column() == 0 and old_key and key and key != old_key:
            self._set_key(key_item, key)
            self.edited.emit(edits.rename_parameter(old_key, key))
        elif key and value != "":
            self._set_key(key_item, key)
            self.edited.emit(edits.set_parameter(key, parse_value(value)))

    def _set_key(self, item: QTableWidgetItem, key: str) -> None:
        self.others.blockSignals(True)
        item.setData(_KEY_ROLE, key)
        self.others.blockSignals(False)

    def _on_add_clicked(self) -> None:
        self.others.blockSignals(True)
        row = self._append_row("", "")
        self.others.blockSignals(False)
        self._fit_table()
        self.others.setCurrentCell(row, 0)
        self.others.editItem(self.others.item(row, 0))

    def _on_remove_clicked(self) -> None:
        row = self.others.currentRow()
        if row < 0:
            return
        key = self.others.item(row, 0).data(_KEY_ROLE) if self.others.item(row, 0) else None
        self.others.removeRow(row)
        self._fit_table()
        if key:
            self.edited.emit(edits.set_parameter(key, None))


class ResponseFormatForm(QWidget):
    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.format = QComboBox()
        self.format.addItems(RESPONSE_FORMATS)
        self.format.currentTextChanged.connect(self._on_format_changed)
        self.schema = GrowingTextEdit(min_lines=6, max_lines=24)
        self.schema.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.schema.setPlaceholderText('{"name": ..., "strict": true, "schema": {...}}')
        self.schema.textChanged.connect(self._on_schema_changed)
        self.schema_hint = QLabel()
        self.schema_hint.setStyleSheet("color: #e53935;")
        self.schema_hint.hide()
        self.schema_label = QLabel("JSON schema")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Response format", self.format)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.schema_label)
        layout.addWidget(self.schema)
        layout.addWidget(self.schema_hint)
        self._schema_is_mapping = False
        self._has_schema = False

    def set_prompt(self, prompt: PromptFile) -> None:
        fmt = prompt.response_format
        self.format.blockSignals(True)
        if self.format.findText(fmt) < 0:
            self.format.addItem(fmt)
        self.format.setCurrentText(fmt)
        self.format.blockSignals(False)
        raw = prompt.data.get("jsonSchema")
        self._has_schema = "jsonSchema" in prompt.data
        self._schema_is_mapping = isinstance(raw, dict)
        text = json.dumps(prompt.json_schema, indent=2) if self._schema_is_mapping else (raw if isinstance(raw, str) else "")
        if self.schema.toPlainText() != text and not (self._schema_is_mapping and self._same_json(text)):
            self.schema.blockSignals(True)
            self.schema.setPlainText(text)
            self.schema.blockSignals(False)
        self._show_schema(fmt == "json_schema")

    def _same_json(self, text: str) -> bool:
        try:
            return json.loads(self.schema.toPlainText()) == json.loads(text)
        except ValueError:
            return False

    def _show_schema(self, visible: bool) -> None:
        for widget in (self.schema_label, self.schema):
            widget.setVisible(visible)
        if not visible:
            self.schema_hint.hide()

    def _on_format_changed(self, fmt: str) -> None:
        needs_schema = fmt == "json_schema" and not self._has_schema

        def apply(prompt: PromptFile) -> None:
            prompt.set_field("responseFormat", None if fmt == "text" and "responseFormat" not in prompt.data else fmt)
            if needs_schema:
                prompt.set_field("jsonSchema", SCHEMA_TEMPLATE + "\n")
        if needs_schema:
            self.schema.blockSignals(True)
            self.schema.setPlainText(SCHEMA_TEMPLATE + "\n")
            self.schema.blockSignals(False)
            self._has_schema = True
        self._show_schema(fmt == "json_schema")
        self.edited.emit(apply)

    def _on_schema_changed(self) -> None:
        text = self.schema.toPlainText()
        if not self._schema_is_mapping:
            self.edited.emit(edits.set_field("jsonSchema", text))
            return
        try:  # a schema written as a YAML mapping stays one: write it only when it is valid JSON
            value = json.loads(text)
        except ValueError as exc:
            self.schema_hint.setText(f"Not valid JSON yet ({exc.msg}, line {getattr(exc, 'lineno', '?')}): not applied")
            self.schema_hint.show()
            return
        self.schema_hint.hide()
        self.edited.emit(edits.set_field("jsonSchema", value))
