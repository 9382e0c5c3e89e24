"""Where a model's key is, and storing one in the OS keyring.

The key is typed into a password field and handed to core's ``store_key_in_keyring``
in a task; the field is cleared at once and the key is never shown again, only its
status from core's ``key_status`` ("stored in the keyring", "OPENAI_API_KEY is set in
the environment", "not set: ..."). Keyring calls may talk to D-Bus: never on the GUI thread.

Without a keyring backend (a fresh Linux install without GNOME Keyring or KWallet) the
paste field and its button are disabled, the status says so in one line, and a button
switches the model to an environment variable.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from promptbench.core.settings.config import ModelConfig
from promptbench.core.settings.secrets import key_status, keyring_available, parse_keyring_ref, store_key_in_keyring
from promptbench.gui.settings.common import InlineError, describe_key_status, guarded, muted, set_status

NO_KEYRING = "This system has no keyring; use an environment variable"
PASTE_HINT = "Paste the key here to store it in the OS keyring"
STORE_NOTE = "The key goes to the OS keyring only; promptbench.toml records just where it is."


class KeyPanel(QWidget):
    key_stored = Signal(str)  # the keyring entry "service/username" (never the key)
    keyring_checked = Signal(bool)  # whether this system has a keyring (after each status check)
    use_env_requested = Signal()  # "Use an environment variable" was clicked

    def __init__(self, services, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self._cfg: ModelConfig | None = None
        self._entry = ""
        self._env_hint = "OPENAI_API_KEY"
        self._has_keyring: bool | None = None  # unknown until the first check

        self.status = QLabel()
        self.status.setWordWrap(True)
        self.key_edit = QLineEdit(placeholderText=PASTE_HINT)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.returnPressed.connect(self.store_key)
        self.store_button = QPushButton("Store in keyring")
        self.store_button.clicked.connect(self.store_key)
        self.error = InlineError()
        self.note = muted(QLabel(STORE_NOTE))
        self.use_env_button = QPushButton("Use an environment variable")
        self.use_env_button.setToolTip("Switch this model to a key from an environment variable")
        self.use_env_button.clicked.connect(self.use_env_requested)
        self.use_env_button.hide()

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
        env_row = QHBoxLayout()
        env_row.setContentsMargins(0, 0, 0, 0)
        env_row.addWidget(self.use_env_button)
        env_row.addStretch(1)
        layout.addLayout(env_row)
        layout.addWidget(self.error)
        self.show_for(None, "", "")

    def show_for(self, cfg: ModelConfig | None, keyring_entry: str, env_hint: str) -> None:
        """Show the status for ``cfg`` (None: the form is incomplete); storing needs a keyring entry."""
        self._cfg, self._entry, self._env_hint = cfg, keyring_entry, env_hint or self._env_hint
        can_store = bool(keyring_entry)
        for widget in (self.key_edit, self.store_button, self.note):
            widget.setVisible(can_store)
        self._show_keyring_state()
        self.error.clear_error()
        self.refresh_status()

    def refresh_status(self) -> None:
        cfg = self._cfg
        if cfg is None:
            set_status(self.status, "—", None)
            return
        set_status(self.status, "Checking…", None)
        self.services.tasks.run(lambda: (key_status(cfg), keyring_available()), on_done=guarded(self, self._on_status_checked),
                                on_error=guarded(self, self._on_status_failed), key=f"key-status:{id(self)}")

    def store_key(self) -> None:
        key = self.key_edit.text().strip()
        self.key_edit.clear()  # at once: the key is never shown again, whatever happens next
        self.error.clear_error()
        if not self._entry or self._has_keyring is False:
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
    def _on_status_checked(self, result: tuple[dict, bool]) -> None:
        status, has_keyring = result
        self._has_keyring = has_keyring
        source = status.get("source") or ""
        if not has_keyring and not status.get("available") and source.startswith("keyring:"):
            set_status(self.status, NO_KEYRING, False)  # not the keyring library's own advice
        else:
            text, ok = describe_key_status(status)
            set_status(self.status, text, ok)
        self._show_keyring_state()
        self.keyring_checked.emit(has_keyring)

    def _show_keyring_state(self) -> None:
        """Without a keyring: nothing to paste into, and the environment variable one click away."""
        missing = self._has_keyring is False and bool(self._entry)
        self.key_edit.setEnabled(not missing)
        self.store_button.setEnabled(not missing)
        self.key_edit.setPlaceholderText("No keyring on this system" if missing else PASTE_HINT)
        self.note.setText(f"Set the key in an environment variable (e.g. {self._env_hint}) before starting promptbench."
                          if missing else STORE_NOTE)
        self.use_env_button.setVisible(missing)
        if missing:
            self.key_edit.clear()

    def _on_status_failed(self, exc: Exception) -> None:
        set_status(self.status, f"Cannot check: {exc}", False)

    def _on_key_stored(self, entry: str) -> None:
        self.store_button.setEnabled(self._has_keyring is not False)
        self.key_stored.emit(entry)
        self.refresh_status()

    def _on_store_failed(self, exc: Exception) -> None:
        self.store_button.setEnabled(self._has_keyring is not False)
        self.error.show_error(f"{exc}\n\nInstead: choose “Environment variable” above (e.g. {self._env_hint}) "
                              "and start promptbench with that variable set.")
        self.refresh_status()
