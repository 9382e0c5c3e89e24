"""The structured diff (``store.diff(...).structured``) as a readable tree.

Sections follow the prompt file: fields, model parameters, messages, test data,
evaluators and unknown fields; every entry shows its before and after values and is
coloured by its kind of change (added, removed, changed).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QHeaderView, QLabel, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from promptbench.gui.history.theme import change_color

_MAX_LINES = 12
_MARK = {"added": "+", "removed": "−", "changed": "~"}
_ABSENT = "—"


def format_value(value: Any) -> str:
    """A value as a person reads it: text as is (long text cut), other data as compact JSON."""
    if value is None:
        return _ABSENT
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    lines = text.splitlines() or [""]
    if len(lines) > _MAX_LINES:
        lines = lines[:_MAX_LINES] + [f"… ({len(text.splitlines()) - _MAX_LINES} more lines)"]
    return "\n".join(lines)


def _pair_values(pair: dict | None) -> tuple[Any, Any]:
    return (pair["old"], pair["new"]) if pair else (None, None)


class _WrappingDelegate(QStyledItemDelegate):
    """Before/after values wrapped at word boundaries to the column's width."""

    MARGIN = 4
    _FLAGS = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap

    def __init__(self, tree: QTreeWidget):
        super().__init__(tree)
        self.tree = tree

    def paint(self, painter, option: QStyleOptionViewItem, index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        self.tree.style().drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, self.tree)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setPen(option.palette.color(role))
        painter.drawText(option.rect.adjusted(self.MARGIN, 1, -self.MARGIN, -1), self._FLAGS, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index) -> QSize:
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        width = max(self.tree.columnWidth(index.column()) - 2 * self.MARGIN, 40)
        bounds = option.fontMetrics.boundingRect(QRect(0, 0, width, 100000), self._FLAGS, text)
        return QSize(width, max(bounds.height() + 2, option.fontMetrics.height() + 4))


class StructuredDiffView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setContentsMargins(4, 4, 4, 4)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["What changed", "Before", "After"])
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 260)
        wrapping = _WrappingDelegate(self.tree)
        self.tree.setItemDelegateForColumn(1, wrapping)
        self.tree.setItemDelegateForColumn(2, wrapping)
        header.sectionResized.connect(lambda *_: self.tree.doItemsLayout())  # re-wrap long values
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self._structured: dict | None = None

    # -- content ---------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self._structured = None
        self.summary.setText(text)
        self.tree.clear()

    def set_structured(self, structured: dict) -> None:
        self._structured = structured
        self.tree.clear()
        if "error" in structured:
            self.summary.setText(f"The fields cannot be compared: {structured['error']}")
            return
        change = structured.get("change", "modified")
        summary = structured.get("summary") or "no change"
        self.summary.setText({"unchanged": "No change in the prompt's content.", "created": "Prompt created.",
                              "deleted": "Prompt deleted."}.get(change, f"Changed: {summary}"))
        self._section("Fields", [(e["field"], "changed" if e["old"] is not None and e["new"] is not None
                                  else "added" if e["old"] is None else "removed", e["old"], e["new"], [])
                                 for e in structured.get("fields", [])])
        self._section("Model parameters", [(e["key"], e["change"], e["old"], e["new"], [])
                                           for e in structured.get("modelParameters", [])])
        self._section("Messages", [self._message_entry(e) for e in structured.get("messages", [])])
        self._section("Test data", [(f"Test case {e['index'] + 1}", e["change"], None, None,
                                     [(k["key"], k["change"], k["old"], k["new"]) for k in e.get("keys", [])])
                                    for e in structured.get("testData", [])])
        self._section("Evaluators", [(_evaluator_title(e), e["change"], e["old"], e["new"], [])
                                     for e in structured.get("evaluators", [])])
        self._section("Other fields", [(e["field"], e["change"], e["old"], e["new"], [])
                                       for e in structured.get("other", [])])
        self.tree.expandAll()

    @staticmethod
    def _message_entry(entry: dict) -> tuple:
        old_role, new_role = _pair_values(entry.get("role"))
        old_content, new_content = _pair_values(entry.get("content"))
        role = new_role or old_role or ""
        title = f"Message {entry['index'] + 1}" + (f" · {role}" if role else "")
        children = []
        if entry["change"] == "changed":
            if entry.get("role"):
                children.append(("role", "changed", old_role, new_role))
            if entry.get("content"):
                children.append(("content", "changed", old_content, new_content))
            return title, "changed", None, None, children
        return title, entry["change"], old_content, new_content, []

    def _section(self, title: str, entries: list[tuple]) -> None:
        if not entries:
            return
        counts: dict[str, int] = {}
        for entry in entries:
            counts[entry[1]] = counts.get(entry[1], 0) + 1
        head = QTreeWidgetItem([f"{title}  ({', '.join(f'{n} {c}' for c, n in counts.items())})"])
        font = QFont(head.font(0))
        font.setBold(True)
        head.setFont(0, font)
        self.tree.addTopLevelItem(head)
        head.setFirstColumnSpanned(True)
        for name, change, old, new, children in entries:
            item = self._entry(head, name, change, old, new, container=bool(children))
            for child in children:
                self._entry(item, *child)

    def _entry(self, parent: QTreeWidgetItem, name: str, change: str, old: Any, new: Any,
               container: bool = False) -> QTreeWidgetItem:
        values = ["", ""] if container else [format_value(old), format_value(new)]
        item = QTreeWidgetItem(parent, [f"{_MARK.get(change, '')} {name}  ({change})", *values])
        item.setForeground(0, change_color(change, self.palette()))
        for column, value in ((1, old), (2, new)):
            if value is not None:
                full = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2, default=str)
                item.setToolTip(column, full)
        return item

    # -- reading back (tests, copy) --------------------------------------------------------
    def structured(self) -> dict | None:
        return self._structured

    def text(self) -> str:
        lines = [self.summary.text()]

        def walk(item: QTreeWidgetItem, depth: int) -> None:
            cells = [item.text(c) for c in range(3) if item.text(c)]
            lines.append("  " * depth + " | ".join(cells))
            for i in range(item.childCount()):
                walk(item.child(i), depth + 1)

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i), 0)
        return "\n".join(lines)


def _evaluator_title(entry: dict) -> str:
    """The evaluator's name, and its move when it changed section (evaluators <-> promptbenchEvaluators)."""
    section, old_section = entry.get("section"), entry.get("old_section")
    if section and old_section and section != old_section:
        return f"{entry['name']} (moved from {old_section} to {section})"
    return str(entry["name"])
