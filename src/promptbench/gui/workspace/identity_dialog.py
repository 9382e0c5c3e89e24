"""Asking for the name and email git commits with, the first time a save needs them."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout,
                               QWidget)

from promptbench.core.store.workspace import suggested_identity

_NAME, _EMAIL = "identity/name", "identity/email"


class IdentityDialog(QDialog):
    """Name and email, pre-filled from earlier answers or the system user; stored in the
    workspace repository unless "every repository" is ticked."""

    def __init__(self, workspace: str, qsettings: QSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.qsettings = qsettings
        self.setWindowTitle("Who is saving? — promptbench")
        suggested_name, suggested_email = suggested_identity()
        self.name = QLineEdit(str(qsettings.value(_NAME, "") or suggested_name))
        self.email = QLineEdit(str(qsettings.value(_EMAIL, "") or suggested_email))
        self.name.setPlaceholderText("e.g. Ada Lovelace")
        self.email.setPlaceholderText("e.g. ada@example.com")
        self.everywhere = QCheckBox("Use for all my git repositories (git config --global)")
        intro = QLabel("Every save is a git commit, and git records who made it. Git has no name and email for "
                       f"you yet; they will be stored in this workspace's repository ({workspace}).")
        intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Email", self.email)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save and commit", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.everywhere)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for field in (self.name, self.email):
            field.textChanged.connect(self._update)
        self._update()
        self.resize(520, self.sizeHint().height())

    def _update(self) -> None:
        self.save_button.setEnabled(bool(self.name.text().strip()) and "@" in self.email.text())

    def _on_accept(self) -> None:
        name, email = self.name.text().strip(), self.email.text().strip()
        if not name or "@" not in email or any(c in name + email for c in "<>\n"):
            self.problem.setText("Enter a name and an email address (without < or >).")
            self.problem.show()
            return
        self.qsettings.setValue(_NAME, name)
        self.qsettings.setValue(_EMAIL, email)
        self.accept()

    def answer(self) -> tuple[str, str, bool] | None:
        """Show the dialog; (name, email, for every repository) or None when cancelled."""
        if self.exec() != QDialog.DialogCode.Accepted:
            return None
        return self.name.text().strip(), self.email.text().strip(), self.everywhere.isChecked()
