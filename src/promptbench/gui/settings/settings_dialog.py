"""The settings dialog: model catalog and keys, local models, general settings.

Every page reads the workspace's settings through ``services`` and writes
promptbench.toml through core in a task, then reloads the settings; nothing here
decides what is valid.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QListWidget, QMessageBox, QPushButton,
                               QStackedWidget, QVBoxLayout, QWidget)

from promptbench.gui.settings.general_page import GeneralPage
from promptbench.gui.settings.local_page import LocalModelsPage
from promptbench.gui.settings.models_page import ModelsPage

PAGES = ("Models", "Local models", "General")


class SettingsDialog(QDialog):
    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Settings[*] — promptbench")
        self.setModal(False)
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else None
        # 980 x 720, or less on a small screen (1024 x 700): the Close button stays on it
        self.resize(min(980, room.width() - 40) if room else 980, min(720, room.height() - 60) if room else 720)
        if parent is not None:  # over the window it belongs to, also without a window manager to place it
            spot = parent.frameGeometry().center() - self.rect().center()
            if room is not None:
                spot.setX(max(room.left(), spot.x()))
                spot.setY(max(room.top(), spot.y()))
            self.move(spot)

        self.models_page = ModelsPage(services)
        self.local_page = LocalModelsPage(services)
        self.general_page = GeneralPage(services)
        self.pages = QStackedWidget()
        for page in (self.models_page, self.local_page, self.general_page):
            self.pages.addWidget(page)

        self.nav = QListWidget()
        self.nav.addItems(PAGES)
        self.nav.setFixedWidth(160)
        self.nav.setStyleSheet("QListWidget::item { padding: 6px 8px; }")
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(buttons)
        for button in self.findChildren(QPushButton):  # Enter in a field must not save or close
            button.setAutoDefault(False)
            button.setDefault(False)
        self._closing = False
        for page in self._editable_pages():
            page.dirty_changed.connect(self._on_dirty_changed)
            page.save_failed.connect(self._on_save_failed)
        self.models_page.model_saved.connect(lambda _name: self._maybe_finish_closing())
        self.general_page.settings_saved.connect(self._maybe_finish_closing)

    def _editable_pages(self):
        return (self.models_page, self.general_page)

    def discard_changes(self) -> None:
        """Show promptbench.toml's values again on every page with unsaved changes."""
        for page in self._editable_pages():
            if page.is_dirty():
                page.revert()

    def unsaved_pages(self) -> list[str]:
        return [PAGES[self.pages.indexOf(page)] for page in self._editable_pages() if page.is_dirty()]

    def _on_dirty_changed(self, _dirty: bool) -> None:
        unsaved = self.unsaved_pages()
        self.setWindowModified(bool(unsaved))
        for row, name in enumerate(PAGES):
            self.nav.item(row).setText(name + ("  ✎" if name in unsaved else ""))
            self.nav.item(row).setToolTip("unsaved changes" if name in unsaved else "")

    def show_page(self, name: str) -> None:
        """Open on one page: "Models", "Local models" or "General"."""
        self.nav.setCurrentRow(PAGES.index(name))

    def done(self, result: int) -> None:
        unsaved = self.unsaved_pages()
        if unsaved and not self._closing:
            answer = self.ask_unsaved(unsaved)
            if answer == "cancel":
                return
            if answer == "save":
                self._closing = True
                for page in self._editable_pages():
                    if page.is_dirty():
                        page.save()
                self._maybe_finish_closing()
                return
        self._finish(result)

    def ask_unsaved(self, pages: list[str]) -> str:
        """"save", "discard" or "cancel" for unsaved changes on *pages*."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved settings",
                          f"Unsaved changes on {' and '.join(pages)}.", parent=self)
        box.setInformativeText("Save them to promptbench.toml before closing? Discard throws them away.")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = QMessageBox.StandardButton(box.exec())
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(answer, "cancel")

    def _maybe_finish_closing(self) -> None:
        if self._closing and not self.unsaved_pages():
            self._finish(QDialog.DialogCode.Rejected)

    def _on_save_failed(self, _message: str) -> None:
        self._closing = False  # stay open: the error is shown next to its field

    def _finish(self, result: int) -> None:
        self._closing = False
        self.models_page.shutdown()  # cancel connection tests still running
        super().done(result)
