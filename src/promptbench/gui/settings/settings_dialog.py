"""The settings dialog: model catalog and keys, local models, general settings.

Every page reads the workspace's settings through ``services`` and writes
promptbench.toml through core in a task, then reloads the settings; nothing here
decides what is valid.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QListWidget, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from promptbench.gui.settings.general_page import GeneralPage
from promptbench.gui.settings.local_page import LocalModelsPage
from promptbench.gui.settings.models_page import ModelsPage

PAGES = ("Models", "Local models", "General")


class SettingsDialog(QDialog):
    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Settings — promptbench")
        self.setModal(False)
        self.resize(980, 720)

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

    def show_page(self, name: str) -> None:
        """Open on one page: "Models", "Local models" or "General"."""
        self.nav.setCurrentRow(PAGES.index(name))

    def done(self, result: int) -> None:
        self.models_page.shutdown()  # cancel connection tests still running
        super().done(result)
