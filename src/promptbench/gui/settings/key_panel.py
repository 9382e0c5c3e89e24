"""Where a model's key is, and storing one in the OS keyring.

The key is typed into a password field and handed to core's ``store_key_in_keyring``
in a task; the field is cleared at once and the key is never shown again, only its
status from core's ``key_status`` ("stored in the keyring", "OPENAI_API_KEY is set in
the environment", "not set: ..."). Keyring calls may talk to D-Bus: never on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from promptbench.core.config import ModelConfig
from promptbench.core.secrets import key_status, parse_keyring_ref, store_key_in_keyring
from promptbench.gui.settings.common import InlineError, describe_key_status, guarded, muted, set_status


class KeyPanel(QWidget):
    key_stored = Signal(str)  # the keyring entry "service/username" (never the key)

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._cfg: ModelConfig | None = None
        self._entry = ""
        self._env_hint = "OPENAI_API_KEY"

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.key_edit = QLineEdit(placeholderText="Paste the key here to store it in the OS keyring")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.returnPressed.connect(self.store_key)
        self.store_button = QPushButton("Store in keyring")
        self.store_button.clicked.connect(self.store_key)
        self.error = InlineError()
        self.note = muted(QLabel("The key goes to the OS keyring only; promptbench.toml records just where it is."))

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.store_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        status_row = QHBoxLayout()
        status_row.addWidget(QLabel("Status:"), 0, Qt.AlignmentFlag.AlignTop)
        status_row.addWidget(self.status, 1)
        layout.addLayout(status_row)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        self.show_for(None, "", "")

    def show_for(self, cfg: ModelConfig | None, keyring_entry: str, env_hint: str) -> None:
        """Show the status for ``cfg`` (None: the form is incomplete); storing needs a keyring entry."""
        self._cfg, self._entry, self._env_hint = cfg, keyring_entry, env_hint or self._env_hint
        can_store = bool(keyring_entry)
        for widget in (self.key_edit, self.store_button, self.note):
            widget.setVisible(can_store)
        self.error.clear_error()
        self.refresh_status()

    def refresh_status(self) -> None:
        cfg = self._cfg
        if cfg is None:
            set_status(self.status, "—", None)
            return
        set_status(self.status, "Checking…", None)
        self.services.tasks.run(lambda: key_status(cfg), on_done=guarded(self, self._on_status_checked),
                                on_error=guarded(self, self._on_status_failed), key=f"key-status:{id(self)}")

    def store_key(self) -> None:
        key = self.key_edit.text().strip()
        self.key_edit.clear()  # at once: the key is never shown again, whatever happens next
        self.error.clear_error()
        if not self._entry:
            return
        if not key:
            self.error.show_error("Paste the key into the field first.")
            return
        service, username = parse_keyring_ref(self._entry)
        entry = f"{service}/{username}"
        self.store_button.setEnabled(False)
        set_status(self.status, "Storing…", None)
        self.services.tasks.run(lambda: store_key_in_keyring(service, username, key),
                                on_done=guarded(self, lambda _: self._on_key_stored(entry)),
                                on_error=guarded(self, self._on_store_failed), key=f"key-store:{id(self)}")

    # -- task results ------------------------------------------------------------------------
    def _on_status_checked(self, status: dict) -> None:
        text, ok = describe_key_status(status)
        set_status(self.status, text, ok)

    def _on_status_failed(self, exc: Exception) -> None:
        set_status(self.status, f"Cannot check: {exc}", False)

    def _on_key_stored(self, entry: str) -> None:
        self.store_button.setEnabled(True)
        self.key_stored.emit(entry)
        self.refresh_status()

    def _on_store_failed(self, exc: Exception) -> None:
        self.store_button.setEnabled(True)
        self.error.show_error(f"{exc}\n\nInstead: choose “Environment variable” above (e.g. {self._env_hint}) "
                              "and start promptbench with that variable set.")
        self.refresh_status()
