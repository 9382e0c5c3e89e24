"""Small pieces the settings pages share: inline error labels, muted notes, guarded callbacks."""

from __future__ import annotations

import re
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QLabel, QWidget

from promptbench.core.redaction import redact
from promptbench.core.settings.secrets import parse_keyring_ref

ERROR_COLOR = "#e5534b"  # readable on light and dark palettes
OK_COLOR = "#2e9e4f"


class InlineError(QLabel):
    """A red, word-wrapped note under a field; hidden while empty."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {ERROR_COLOR};")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, message: str) -> None:
        self.setText(redact(message))
        self.setVisible(bool(message))

    def clear_error(self) -> None:
        self.setText("")
        self.hide()


def muted(label: QLabel) -> QLabel:
    """A secondary note: the palette's placeholder colour, word-wrapped."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setWordWrap(True)
    return label


def heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.25)
    font.setBold(True)
    label.setFont(font)
    return label


def separator() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line


def set_status(label: QLabel, text: str, ok: bool | None) -> None:
    """A result line: green when ok, red when not, the plain text colour when None."""
    label.setText(redact(text))
    label.setStyleSheet("" if ok is None else f"color: {OK_COLOR if ok else ERROR_COLOR};")


def guarded(widget: QObject, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` that does nothing once ``widget`` is deleted (a task finishing after the dialog closed)."""
    def call(*args: Any) -> Any:
        if shiboken6.isValid(widget):
            return fn(*args)
        return None
    return call


def error_field(message: str, prefix: tuple[str, ...]) -> tuple[str | None, str]:
    """The field a core ConfigError names under ``prefix`` and the message without its location:
    ``"promptbench.toml:7: models.gpt.api_base: expected str"`` -> ("api_base", "expected str")."""
    dotted = re.escape(".".join(prefix)) + r"\.([A-Za-z0-9_\-]+)(?:\.([^\s:]+))?: "
    m = re.search(r"(?:^|[\s:])" + dotted, message)
    if not m:
        return None, message
    return m.group(1), (f"{m.group(2)}: " if m.group(2) else "") + message[m.end():]


def describe_key_status(status: dict) -> tuple[str, bool | None]:
    """One line for core's ``key_status``: where the key is (never the key) and whether it is
    usable (None: no key is configured for a server that may not need one)."""
    source, detail = status.get("source"), status.get("detail") or ""
    if not status.get("required") and source is None:
        return "No key needed", True
    if source is None:  # a custom api_base with no key source: fine for open servers, the test tells
        return "None: no key is sent with requests", None
    if status.get("available") and source and source.startswith("env:"):
        return f"{source[4:]} is set in the environment", True
    if status.get("available") and source and source.startswith("keyring:"):
        service, username = parse_keyring_ref(source[len("keyring:"):])
        return f"Stored in the keyring ({service}/{username})", True
    return f"Not set: {detail}" if detail else "Not set", False


class UnsavedChanges:
    """Mixin of a settings page with ``save_button``, ``revert_button``, a ``dirty_changed``
    signal and ``_dirty`` / ``_writing`` flags: Save and Revert are there only when there
    is something to save (and no write is under way)."""

    def is_dirty(self) -> bool:
        return self._dirty

    def _set_dirty(self, dirty: bool) -> None:
        changed = dirty != self._dirty
        self._dirty = dirty
        self.save_button.setEnabled(dirty and not self._writing)
        self.revert_button.setEnabled(dirty and not self._writing)
        if changed:
            self.dirty_changed.emit(dirty)
