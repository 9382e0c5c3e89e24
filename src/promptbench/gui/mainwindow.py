"""The main window: prompt list, raw editor, history with diff, rollback and labels.

This is the foundation window; the full editor and compare view come later. Store
operations here are single git commands (~20-40 ms) and still run on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QListWidget, QListWidgetItem, QMainWindow,
                               QMessageBox, QPlainTextEdit, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from promptbench.core.errors import PromptbenchError
from promptbench.core.store import Fingerprint, PromptStore


class MainWindow(QMainWindow):
    def __init__(self, store: PromptStore):
        super().__init__()
        self.store = store
        self.current: str | None = None
        self._loaded: Fingerprint | None = None
        self.setWindowTitle(f"promptbench — {store.root}")
        self.resize(1200, 760)

        self.prompt_list = QListWidget()
        self.prompt_list.currentTextChanged.connect(self._on_prompt_selected)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor = QPlainTextEdit()
        self.editor.setFont(mono)
        self.editor.setTabChangesFocus(False)
        self.save_button = QPushButton("Save (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        editor_page = _column(self.editor, _row(self.save_button, stretch=True))

        self.history_list = QListWidget()
        self.history_list.currentRowChanged.connect(self._on_version_selected)
        self.diff_view = QPlainTextEdit(readOnly=True)
        self.diff_view.setFont(mono)
        self.rollback_button = QPushButton("Roll back to this version")
        self.rollback_button.clicked.connect(self.rollback_selected)
        self.promote_button = QPushButton("Promote…")
        self.promote_button.clicked.connect(self.promote_selected)
        history_split = QSplitter(Qt.Orientation.Vertical)
        history_split.addWidget(self.history_list)
        history_split.addWidget(self.diff_view)
        history_page = _column(history_split, _row(self.rollback_button, self.promote_button, stretch=True))

        self.tabs = QTabWidget()
        self.tabs.addTab(editor_page, "Editor")
        self.tabs.addTab(history_page, "History")
        split = QSplitter()
        split.addWidget(self.prompt_list)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 3)
        split.setSizes([260, 940])
        self.setCentralWidget(split)
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)

        save_action = QAction("Save", self, shortcut=QKeySequence.StandardKey.Save, triggered=self.save)
        self.addAction(save_action)
        self.refresh_prompts()

    # -- slots -------------------------------------------------------------------------
    def refresh_prompts(self) -> None:
        selected = self.current
        self.prompt_list.clear()
        for rel in self.store.list_prompts():
            self.prompt_list.addItem(rel)
        items = self.prompt_list.findItems(selected, Qt.MatchFlag.MatchExactly) if selected else []
        if items:
            self.prompt_list.setCurrentItem(items[0])
        elif self.prompt_list.count():
            self.prompt_list.setCurrentRow(0)

    def _on_prompt_selected(self, rel: str) -> None:
        if not rel:
            return
        self.current = rel
        try:
            self.editor.setPlainText(self.store.read_bytes(rel).decode("utf-8", errors="replace"))
            self._loaded = self.store.fingerprint(rel)
        except PromptbenchError as exc:
            self._show_error(exc)
        self._load_history()

    def _load_history(self) -> None:
        self.history_list.clear()
        self.diff_view.clear()
        if not self.current:
            return
        self.versions = self.store.history(self.current)
        for v in self.versions:
            labels = f"  [{', '.join(v.labels)}]" if v.labels else ""
            item = QListWidgetItem(f"{v.short}  {v.date[:16].replace('T', ' ')}  {v.author}  {v.subject}{labels}")
            item.setToolTip(v.message)
            self.history_list.addItem(item)

    def _on_version_selected(self, row: int) -> None:
        if row < 0 or not self.current:
            return
        version = self.versions[row]
        previous = self.versions[row + 1].sha if row + 1 < len(self.versions) else None
        try:
            diff = self.store.diff(self.current, previous, version.sha) if previous else None
        except PromptbenchError as exc:
            self._show_error(exc)
            return
        self.diff_view.setPlainText(diff.unified if diff else self.store.read_at(self.current, version.sha).decode(errors="replace"))

    def save(self) -> None:
        if not self.current:
            return
        try:
            version = self.store.save(self.current, self.editor.toPlainText(), base=self._loaded)
        except PromptbenchError as exc:
            self._show_error(exc)
            return
        self._loaded = self.store.fingerprint(self.current)
        self.status.setText(f"Saved {self.current} as {version.short}: {version.subject}" if version else "No changes to save")
        self._load_history()

    def rollback_selected(self) -> None:
        row = self.history_list.currentRow()
        if row < 0 or not self.current:
            return
        try:
            result = self.store.rollback(self.current, self.versions[row].sha)
        except PromptbenchError as exc:
            self._show_error(exc)
            return
        self._on_prompt_selected(self.current)
        self.status.setText(f"Rolled back: {result.version.subject}" if result.version else "Already at that content")

    def promote_selected(self) -> None:
        row = self.history_list.currentRow()
        if row < 0 or not self.current:
            return
        label, ok = QInputDialog.getItem(self, "Promote", "Label", ["production", "staging"], 0, True)
        if ok and label:
            try:
                self.store.set_label(self.current, label, self.versions[row].sha)
            except PromptbenchError as exc:
                self._show_error(exc)
            self._load_history()

    def _show_error(self, exc: Exception) -> None:
        self.status.setText(str(exc))
        QMessageBox.warning(self, "promptbench", str(exc))


def _column(*widgets: QWidget) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    for widget in widgets:
        layout.addWidget(widget)
    return page


def _row(*widgets: QWidget, stretch: bool = False) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget)
    if stretch:
        layout.addStretch(1)
    return row
