"""The evaluators section: a read-only summary per evaluator, plus adding and removing
simple ``string`` evaluators."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLineEdit, QPushButton,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from promptbench.core.prompts.schema import EXTENSION_KINDS, EXTENSION_SECTION, STRING_CHECKS
from promptbench.gui.editor.forms import edits


def summarize(evaluator: dict) -> tuple[str, str, str]:
    """(name, kind, detail) for one evaluator as written in the file."""
    name = str(evaluator.get("name", "(unnamed)"))
    if isinstance(evaluator.get("string"), dict):
        spec = evaluator["string"]
        detail = ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in spec.items())
        return name, "string", detail
    if isinstance(evaluator.get("llm"), dict):
        spec = evaluator["llm"]
        choices = [str(c.get("choice")) for c in spec.get("choices") or [] if isinstance(c, dict)]
        prompt = " ".join(str(spec.get("prompt", "")).split())
        detail = f"judge {spec.get('modelId', '?')}; choices {', '.join(choices) or '-'}; {prompt[:80]}"
        return name, "llm", detail
    if "uses" in evaluator:
        return name, "uses", str(evaluator["uses"])
    kind = next((k for k in EXTENSION_KINDS if k in evaluator), None)
    if kind is not None:
        spec = evaluator[kind]
        detail = ", ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}" for k, v in spec.items()) \
            if isinstance(spec, dict) else json.dumps(spec)
        return name, kind, detail
    return name, "?", "no kind given"


def where_note(field: str, kind: str) -> str:
    """What a row adds about its section: GitHub ignores promptbench's own evaluators, and
    stops at one written under ``evaluators``."""
    if field.startswith(EXTENSION_SECTION):
        return "promptbench only (gh models eval ignores it)"
    if kind in EXTENSION_KINDS:
        return f"gh models eval stops here: move it to {EXTENSION_SECTION} (one-click fix in Raw YAML)"
    return ""


class EvaluatorsList(QWidget):
    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Name", "Kind", "Detail"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 180)
        header.resizeSection(1, 70)
        self.new_name = QLineEdit(placeholderText="name")
        self.new_check = QComboBox()
        self.new_check.addItems(STRING_CHECKS)
        self.new_value = QLineEdit(placeholderText="text the answer must match")
        self.new_value.returnPressed.connect(self._on_add_clicked)
        add = QPushButton("Add string check")
        add.clicked.connect(self._on_add_clicked)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._on_remove_clicked)
        adder = QHBoxLayout()
        adder.addWidget(self.new_name, 2)
        adder.addWidget(self.new_check)
        adder.addWidget(self.new_value, 3)
        adder.addWidget(add)
        adder.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        layout.addLayout(adder)
        self._names: list[str] = []
        self._fields: list[str] = []

    def set_evaluators(self, entries: list[tuple[str, dict]]) -> None:
        """*entries*: ``PromptFile.evaluator_entries`` (field path, evaluator)."""
        rows = []
        for field, evaluator in entries:
            name, kind, detail = summarize(evaluator)
            note = where_note(field, kind)
            rows.append((name, kind, f"{note}: {detail}" if note else detail))
        current = [tuple(self.tree.topLevelItem(i).text(c) for c in range(3)) for i in range(self.tree.topLevelItemCount())]
        self._names = [r[0] for r in rows]
        self._fields = [field for field, _ in entries]
        if rows == current:
            return
        self.tree.clear()
        for name, kind, detail in rows:
            item = QTreeWidgetItem([name, kind, detail])
            item.setToolTip(2, detail)
            self.tree.addTopLevelItem(item)
        shown = max(len(rows), 1)
        self.tree.setFixedHeight(self.tree.header().sizeHint().height() + shown * (self.tree.sizeHintForRow(0) if rows else 22) + 8)

    def _on_add_clicked(self) -> None:
        name = self.new_name.text().strip() or f"{self.new_check.currentText()} check"
        value = self.new_value.text()
        if not value:
            self.new_value.setFocus()
            return
        base, n = name, 2
        while name in self._names:
            name, n = f"{base} ({n})", n + 1
        self.new_name.clear()
        self.new_value.clear()
        self.edited.emit(edits.add_string_evaluator(name, self.new_check.currentText(), value))

    def _on_remove_clicked(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.edited.emit(edits.remove_evaluator(self._fields[self.tree.indexOfTopLevelItem(item)]))
