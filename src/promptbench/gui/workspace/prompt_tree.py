"""The workspace's prompts as a folder tree, with a filter box.

Two marks, with tooltips saying which is which:
- "✎" (italic name): unsaved edits, in the editor or in a recovered draft;
- "•": the file on disk differs from its last commit (changed outside the app).
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QTreeView, QVBoxLayout, QWidget

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
UNSAVED_MARK = "✎"
UNCOMMITTED_MARK = "•"


class PromptTree(QWidget):
    prompt_selected = Signal(str)
    new_prompt_requested = Signal()

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
        self.empty = QWidget()  # an empty workspace says so and offers the first step
        empty_text = QLabel("No prompts in this workspace yet.")
        empty_text.setWordWrap(True)
        self.new_button = QPushButton("New prompt…")
        self.new_button.setToolTip("Make a .prompt.yml file here (Ctrl+N)")
        self.new_button.clicked.connect(self.new_prompt_requested)
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.setContentsMargins(8, 8, 8, 8)
        empty_layout.addWidget(empty_text)
        empty_layout.addWidget(self.new_button)
        empty_layout.addStretch(1)
        self.empty.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.empty)
        layout.addWidget(self.view)
        self._paths: list[str] = []
        self._items: dict[str, QStandardItem] = {}
        self._uncommitted: set[str] = set()
        self._unsaved: set[str] = set()
        self._missing: set[str] = set()
        self._quiet = False

    def set_prompts(self, paths: list[str], uncommitted: set[str] | None = None, unsaved: set[str] | None = None,
                    missing: set[str] | None = None) -> None:
        """Show *paths*; *missing* are prompts whose file is gone but whose draft is left."""
        current = self.current()
        uncommitted, missing = set(uncommitted or ()), set(missing or ())
        self.empty.setVisible(not paths)
        self.view.setVisible(bool(paths))
        if unsaved is not None:
            self._unsaved = set(unsaved)
        if paths == self._paths and uncommitted == self._uncommitted and missing == self._missing:
            self._refresh_marks()
            return
        self._paths, self._uncommitted, self._missing = list(paths), uncommitted, missing
        self._quiet = True  # rebuilding moves the current item: that is not the person choosing a prompt
        self.model.clear()
        self._items = {}
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
            item = QStandardItem(parts[-1])
            item.setEditable(False)
            item.setData(rel, PATH_ROLE)
            parent.appendRow(item)
            self._items[rel] = item
        self._refresh_marks()
        self.view.expandAll()
        self.view.setCurrentIndex(self.proxy.index(-1, -1))
        if current:
            self.select(current)
        self._quiet = False

    def set_unsaved(self, rels: set[str]) -> None:
        """Mark the prompts with unsaved edits (cheap: no rebuild)."""
        if set(rels) != self._unsaved:
            self._unsaved = set(rels)
            self._refresh_marks()

    def _refresh_marks(self) -> None:
        for rel, item in self._items.items():
            name = rel.rsplit("/", 1)[-1]
            marks, tips = [], [rel]
            if rel in self._unsaved:
                marks.append(UNSAVED_MARK)
                tips.append("unsaved edits" + (" (recovered draft)" if rel not in self._uncommitted else ""))
            if rel in self._missing:
                tips.append("the file is gone: only its unsaved draft is left")
            elif rel in self._uncommitted:
                marks.append(UNCOMMITTED_MARK)
                tips.append("changed on disk since the last commit")
            text = name + ("  " + " ".join(marks) if marks else "")
            if item.text() != text:
                item.setText(text)
            font = item.font()
            if font.italic() != (rel in self._unsaved):
                font.setItalic(rel in self._unsaved)
                item.setFont(font)
            item.setToolTip(" — ".join(tips))

    def marks_of(self, rel: str) -> str:
        """The marks shown after *rel*'s name ("" when none)."""
        item = self._items.get(rel)
        return item.text()[len(rel.rsplit("/", 1)[-1]):].strip() if item else ""

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
        if rel and not self._quiet:
            self.prompt_selected.emit(rel)
