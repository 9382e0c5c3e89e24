"""The workspace's prompts as a folder tree, with a filter box."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLineEdit, QTreeView, QVBoxLayout, QWidget

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class PromptTree(QWidget):
    prompt_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(placeholderText="Filter prompts…", clearButtonEnabled=True)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QTreeView(headerHidden=True)
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)
        self._paths: list[str] = []

    def set_prompts(self, paths: list[str], dirty: set[str] | None = None) -> None:
        current = self.current()
        dirty = dirty or set()
        if paths == self._paths and not dirty:
            return
        self._paths = list(paths)
        self.model.clear()
        folders: dict[str, QStandardItem] = {}
        for rel in paths:
            parent = self.model.invisibleRootItem()
            parts = rel.split("/")
            for depth, part in enumerate(parts[:-1]):
                key = "/".join(parts[: depth + 1])
                if key not in folders:
                    folder = QStandardItem(part + "/")
                    folder.setEditable(False)
                    folder.setSelectable(False)
                    parent.appendRow(folder)
                    folders[key] = folder
                parent = folders[key]
            name = parts[-1]
            item = QStandardItem(name + ("  •" if rel in dirty else ""))
            item.setToolTip(rel + (" (uncommitted edits)" if rel in dirty else ""))
            item.setEditable(False)
            item.setData(rel, PATH_ROLE)
            parent.appendRow(item)
        self.view.expandAll()
        if current:
            self.select(current)

    def select(self, rel: str) -> bool:
        matches = self.proxy.match(self.proxy.index(0, 0), PATH_ROLE, rel, 1,
                                   Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        if matches:
            self.view.setCurrentIndex(matches[0])
            return True
        return False

    def current(self) -> str | None:
        index = self.view.currentIndex()
        return index.data(PATH_ROLE) if index.isValid() else None

    def paths(self) -> list[str]:
        return list(self._paths)

    def _on_current_changed(self, current, _previous) -> None:
        rel = current.data(PATH_ROLE)
        if rel:
            self.prompt_selected.emit(rel)
