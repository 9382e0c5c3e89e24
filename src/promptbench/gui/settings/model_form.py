"""The form for one catalog model: what ``[models.<name>]`` in promptbench.toml holds.

The form turns its fields into a core ``ModelConfig`` (:meth:`ModelForm.config`) and
shows errors next to the field they name; core decides what is valid when it saves.
It never holds a key: the key source says *where* the key is.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QButtonGroup, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from promptbench.core.settings.config import ConfigError, ModelConfig, Settings, resolve_model
from promptbench.core.settings.secrets import DEFAULT_KEY_ENV
from promptbench.gui.settings.common import InlineError, muted

FIELDS = ("name", "model", "api_base", "api_key_env", "keyring", "input_cost_per_mtok", "output_cost_per_mtok",
          "params", "max_concurrency")


class FormError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _field(widget: QWidget, error: InlineError, note: str | None = None) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(widget)
    if note:
        layout.addWidget(muted(QLabel(note)))
    layout.addWidget(error)
    return box


def _form(group: QGroupBox) -> QFormLayout:
    form = QFormLayout(group)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


class ModelForm(QWidget):
    edited = Signal()
    key_source_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.errors = {name: InlineError() for name in (*FIELDS, "key_source")}
        self._loading = False

        self.name = QLineEdit(placeholderText="e.g. gpt-mini (how it appears in lists)")
        self.model = QLineEdit(placeholderText="litellm model string, e.g. openai/gpt-4o-mini or local/smollm2-135m-instruct")
        self.api_base = QLineEdit(placeholderText="e.g. http://localhost:4000/v1 (empty: the provider's own endpoint)")
        model_group = QGroupBox("Model")
        form = _form(model_group)
        form.addRow("Name", _field(self.name, self.errors["name"]))
        form.addRow("Model", _field(self.model, self.errors["model"]))
        form.addRow("API base", _field(self.api_base, self.errors["api_base"],
                                       "Only for gateways and OpenAI-compatible servers; leave empty otherwise."))

        self.source_env = QRadioButton("Environment variable")
        self.source_keyring = QRadioButton("OS keyring")
        self.source_none = QRadioButton("None (the server needs no key)")
        self.sources = QButtonGroup(self)
        for button in (self.source_env, self.source_keyring, self.source_none):
            self.sources.addButton(button)
        self.env_name = QLineEdit(placeholderText="e.g. OPENAI_API_KEY")
        self.keyring_ref = QLineEdit(placeholderText="service/username, e.g. promptbench/openai")
        self.key_group = QGroupBox("API key")
        key_form = _form(self.key_group)
        key_form.addRow(self.source_env, _field(self.env_name, self.errors["api_key_env"],
                                                "The variable's name, not the key; set it before promptbench starts."))
        key_form.addRow(self.source_keyring, _field(self.keyring_ref, self.errors["keyring"]))
        key_form.addRow(self.source_none)
        key_form.addRow(self.errors["key_source"])
        self._key_form = key_form

        self.price_in = QLineEdit(placeholderText="e.g. 0.15 (empty: litellm's price)")
        self.price_out = QLineEdit(placeholderText="e.g. 0.60 (empty: litellm's price)")
        self.concurrency = QSpinBox(minimum=0, maximum=1000, specialValueText="provider default")
        limits = QGroupBox("Pricing and limits")
        form = _form(limits)
        form.addRow("Input, USD / 1M tokens", _field(self.price_in, self.errors["input_cost_per_mtok"]))
        form.addRow("Output, USD / 1M tokens", _field(self.price_out, self.errors["output_cost_per_mtok"]))
        form.addRow("Max concurrent runs", _field(self.concurrency, self.errors["max_concurrency"]))

        self.params = QTableWidget(0, 2)
        self.params.setHorizontalHeaderLabels(["Parameter", "Value"])
        self.params.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.params.verticalHeader().hide()
        self.params.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.params.setMinimumHeight(110)
        self.add_param = QPushButton("Add parameter")
        self.remove_param = QPushButton("Remove")
        self.add_param.clicked.connect(lambda: self._add_param_row("", ""))
        self.remove_param.clicked.connect(self._remove_param_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_param)
        buttons.addWidget(self.remove_param)
        buttons.addStretch(1)
        params_group = QGroupBox("Default parameters")
        params_layout = QVBoxLayout(params_group)
        params_layout.addWidget(muted(QLabel("Sent with every request to this model unless the prompt sets them, "
                                             "e.g. temperature = 0.2, max_tokens = 512.")))
        params_layout.addWidget(self.params)
        params_layout.addLayout(buttons)
        params_layout.addWidget(self.errors["params"])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for group in (model_group, self.key_group, limits, params_group):
            layout.addWidget(group)
        layout.addStretch(1)

        for edit in (self.name, self.model, self.api_base, self.env_name, self.keyring_ref, self.price_in, self.price_out):
            edit.textEdited.connect(self._on_edited)
        for edit in (self.model, self.env_name, self.keyring_ref):
            edit.textEdited.connect(self._on_key_source_edited)
        self.model.textEdited.connect(self._update_enabled)
        self.concurrency.valueChanged.connect(self._on_edited)
        self.params.itemChanged.connect(self._on_edited)
        self.sources.buttonToggled.connect(self._on_source_toggled)
        self.load(None)

    # -- filling and reading ---------------------------------------------------------------
    def add_key_row(self, widget: QWidget) -> None:
        """Put a widget (the key panel) at the end of the API key group."""
        self._key_form.addRow(widget)

    def load(self, cfg: ModelConfig | None) -> None:
        self._loading = True
        try:
            self.clear_errors()
            self.name.setText(cfg.name if cfg else "")
            self.model.setText(cfg.model if cfg else "")
            self.api_base.setText((cfg.api_base or "") if cfg else "")
            self.env_name.setText((cfg.api_key_env or "") if cfg else "")
            self.keyring_ref.setText((cfg.keyring or "") if cfg else "")
            if cfg is None or cfg.api_key_env:
                self.source_env.setChecked(True)
            elif cfg.keyring:
                self.source_keyring.setChecked(True)
            else:
                self.source_none.setChecked(True)
            for edit, value in ((self.price_in, cfg and cfg.input_cost_per_mtok), (self.price_out, cfg and cfg.output_cost_per_mtok)):
                edit.setText("" if value is None else f"{value:g}")
            self.concurrency.setValue((cfg.max_concurrency or 0) if cfg else 0)
            self.params.setRowCount(0)
            for key, value in ((cfg.params if cfg else {}) or {}).items():
                self._add_param_row(key, _show_value(value))
            self._update_enabled()
        finally:
            self._loading = False

    def config(self) -> ModelConfig:
        """The form as a ModelConfig; FormError(field, message) for what the form itself can tell."""
        name = self.name.text().strip()
        if not name:
            raise FormError("name", "Give the model a name: it is how lists and [compare] default_models refer to it.")
        try:
            base = resolve_model(Settings(), self.model.text().strip())
        except ConfigError as exc:
            raise FormError("model", str(exc)) from None
        env = self.env_name.text().strip() if self.source_env.isChecked() else None
        ring = self.keyring_ref.text().strip() if self.source_keyring.isChecked() else None
        if env == "":
            raise FormError("api_key_env", "Give the NAME of the environment variable that holds the key, e.g. OPENAI_API_KEY.")
        if ring == "":
            raise FormError("keyring", "Give the keyring entry as service/username, e.g. promptbench/openai.")
        return dataclasses.replace(
            base, name=name, source="catalog", api_base=self.api_base.text().strip() or None,
            api_key_env=env, keyring=ring, input_cost_per_mtok=_price(self.price_in, "input_cost_per_mtok"),
            output_cost_per_mtok=_price(self.price_out, "output_cost_per_mtok"), params=self._params(),
            max_concurrency=self.concurrency.value() or None)

    def keyring_entry(self) -> str:
        return self.keyring_ref.text().strip()

    def set_keyring_available(self, available: bool) -> None:
        """Say on the keyring choice when this system has none (the key panel found out)."""
        self.source_keyring.setText("OS keyring" if available else "OS keyring (none on this system)")
        self.source_keyring.setToolTip("" if available else "No keyring backend is installed or unlocked here; "
                                       "use an environment variable instead.")

    def use_env_source(self) -> None:
        """Switch to an environment variable, with the provider's usual name when none is given."""
        if not self.env_name.text().strip():
            self.env_name.setText(self.suggested_env_name())
        if self.source_env.isChecked():
            self._on_edited()
            self._on_key_source_edited()
        else:
            self.source_env.setChecked(True)  # _on_source_toggled tells the page
        self.env_name.setFocus()
        self.env_name.selectAll()

    def suggested_env_name(self) -> str:
        provider = self.model.text().strip().split("/", 1)[0]
        return DEFAULT_KEY_ENV.get(provider, "MY_PROVIDER_API_KEY")

    # -- errors --------------------------------------------------------------------------------
    def show_error(self, field: str, message: str) -> bool:
        """Show ``message`` next to ``field``; False if the form has no such field."""
        label = self.errors.get(field)
        if label is None:
            return False
        label.show_error(message)
        return True

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear_error()

    # -- internals -----------------------------------------------------------------------------
    def _params(self) -> dict:
        params = {}
        for row in range(self.params.rowCount()):
            key = (self.params.item(row, 0).text() if self.params.item(row, 0) else "").strip()
            text = (self.params.item(row, 1).text() if self.params.item(row, 1) else "").strip()
            if not key and not text:
                continue
            if not key:
                raise FormError("params", f"Row {row + 1}: give the parameter a name, e.g. temperature.")
            if key in params:
                raise FormError("params", f"{key} appears twice; keep one row.")
            params[key] = _parse_value(text)
        return params

    def _add_param_row(self, key: str, value: str) -> None:
        row = self.params.rowCount()
        self.params.insertRow(row)
        self.params.setItem(row, 0, QTableWidgetItem(key))
        self.params.setItem(row, 1, QTableWidgetItem(value))
        if not self._loading:
            self.params.setCurrentCell(row, 0)
            self.params.editItem(self.params.item(row, 0))

    def _remove_param_row(self) -> None:
        rows = sorted({index.row() for index in self.params.selectedIndexes()}, reverse=True)
        for row in rows or ([self.params.currentRow()] if self.params.currentRow() >= 0 else []):
            self.params.removeRow(row)
        self._on_edited()

    def _update_enabled(self) -> None:
        self.env_name.setPlaceholderText(f"e.g. {self.suggested_env_name()}")
        self.env_name.setEnabled(self.source_env.isChecked())
        self.keyring_ref.setEnabled(self.source_keyring.isChecked())

    def _on_source_toggled(self, button, checked: bool) -> None:
        if not checked:
            return
        self._update_enabled()
        if not self._loading and self.source_keyring.isChecked() and not self.keyring_ref.text() and self.name.text().strip():
            self.keyring_ref.setText(f"promptbench/{self.name.text().strip()}")
        self._on_edited()
        self._on_key_source_edited()

    def _on_edited(self, *_args) -> None:
        if not self._loading:
            self.edited.emit()

    def _on_key_source_edited(self, *_args) -> None:
        if not self._loading:
            self.key_source_changed.emit()


def _price(edit: QLineEdit, field: str) -> float | None:
    text = edit.text().strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise FormError(field, f"{text!r} is not a number; give USD per million tokens, e.g. 0.15, or leave it empty.") from None


def _parse_value(text: str):
    """A TOML value (0.2, 512, true, ["a"], "x") when the text is one, else the text as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _show_value(value) -> str:
    if isinstance(value, str):
        return value if _parse_value(value) == value else json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        from promptbench.core.settings.write import toml_value

        return toml_value(value)
    return str(value)
