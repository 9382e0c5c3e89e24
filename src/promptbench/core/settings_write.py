"""Writing the workspace-wide settings of ``promptbench.toml``: local mode, default
compare models, timeouts and retries.

:mod:`promptbench.core.config` writes the model catalog (``[models.*]``); this module
writes the few plain values outside it. Each write changes only the lines of the
values that changed (a value's trailing comment is kept); every other byte of the file,
comments and line endings included, stays as it was. The result is checked by parsing
it again (only the asked-for values may differ, and the file must still be valid) and
written atomically (temp file + ``os.replace``). Only the keys in :data:`WRITABLE` can
be written, so no secret can ever end up here.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

from promptbench.core.config import FILE_NAME, ConfigError, _header_path, _toml_value, config_path, parse_settings

_SUFFIX = re.compile(r"[ \t]*(#[^\r\n]*)?(\r\n|\n|\r)?")  # what may follow a value on its last line
_ATTRS = {("local", "mode"): "local_mode", ("compare", "default_models"): "default_models",
          ("timeouts", "connect_s"): "connect_timeout_s", ("timeouts", "first_token_s"): "first_token_timeout_s",
          ("timeouts", "idle_s"): "idle_timeout_s", ("retries", "max"): "max_retries"}
WRITABLE: frozenset[tuple[str, str]] = frozenset(_ATTRS)
_HAND = "edit it by hand"
_MISSING = object()


def set_local_mode(workspace_root: Path, mode: str) -> Path:
    """``[local] mode``: "sequential" (one at a time, comparable timings) or "parallel"."""
    return set_values(workspace_root, {("local", "mode"): mode})


def set_general(workspace_root: Path, *, default_models: list[str] | None = None, connect_timeout_s: float | None = None,
                first_token_timeout_s: float | None = None, idle_timeout_s: float | None = None,
                max_retries: int | None = None) -> Path:
    """The compare defaults, timeouts and retries; None leaves a value as it is."""
    values = {("compare", "default_models"): None if default_models is None else list(default_models),
              ("timeouts", "connect_s"): connect_timeout_s, ("timeouts", "first_token_s"): first_token_timeout_s,
              ("timeouts", "idle_s"): idle_timeout_s, ("retries", "max"): max_retries}
    return set_values(workspace_root, {k: v for k, v in values.items() if v is not None})


def set_values(workspace_root: Path, values: Mapping[tuple[str, str], Any]) -> Path:
    """Set ``{(table, key): value}``; a value already in effect (written or default) is not written.

    ConfigError (naming the line and field) if a value is invalid, the file is already
    invalid, or the change cannot be made without touching anything else.
    """
    unknown = [".".join(k) for k in values if k not in WRITABLE]
    if unknown:
        known = ", ".join(sorted(".".join(k) for k in WRITABLE))
        raise ConfigError(f"{FILE_NAME}: {', '.join(unknown)} cannot be written here; writable: {known}")
    path = config_path(workspace_root)
    try:
        text = path.read_bytes().decode("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{FILE_NAME}: cannot read it ({exc}); check the file's permissions and encoding (UTF-8)") from None
    current = parse_settings(text)  # refuse to rewrite a file that is already invalid
    old = tomllib.loads(text)
    expected = copy.deepcopy(old)
    new_text = text
    for (table, key), value in values.items():
        if old.get(table, {}).get(key, _MISSING) == value or (
                key not in old.get(table, {}) and getattr(current, _ATTRS[table, key]) == value):
            continue  # already so, written or as the default: keep the file as it is
        expected.setdefault(table, {})[key] = value
        new_text = _set_one(new_text, table, key, _toml_value(value))
    if new_text == text:
        return path
    try:
        new = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        new = None
    if new != expected:
        raise ConfigError(f"{FILE_NAME}: could not update {', '.join('.'.join(k) for k in values)} without touching "
                          f"other settings (is a table written inline or with dotted keys?); {_HAND}")
    parse_settings(new_text)  # the values themselves: types and bounds, with line numbers
    _write_atomic(path, new_text)
    return path


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _set_one(text: str, table: str, key: str, value_toml: str) -> str:
    lines = text.splitlines(keepends=True)
    nl = _newline(text)
    start = next((i for i, line in enumerate(lines) if _header_path(line) == (table,)), None)
    if start is None:  # a new table at the end of the file
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += nl
        gap = [nl] if lines and lines[-1].strip() else []
        return "".join([*lines, *gap, f"[{table}]{nl}", f"{key} = {value_toml}{nl}"])
    end = next((i for i in range(start + 1, len(lines)) if _header_path(lines[i]) is not None), len(lines))
    key_re = re.compile(rf"\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=[ \t]*")
    for i in range(start + 1, end):
        head = key_re.match(lines[i])
        if head:
            return _replace_value(lines, i, end, head.end(), value_toml)
    at = end  # a new key after the table's last value (before blank lines and the next table's comments)
    while at > start + 1 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
        at -= 1
    if not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += nl
    lines.insert(at, f"{key} = {value_toml}{nl}")
    return "".join(lines)


def _replace_value(lines: list[str], i: int, end: int, value_at: int, value_toml: str) -> str:
    """Replace the value starting at ``lines[i][value_at:]`` (it may span lines), keeping its comment."""
    for j in range(i, end):
        rest = "".join(lines[i:j + 1])[value_at:]
        for cut in range(1, len(rest) + 1):
            if _SUFFIX.fullmatch(rest, cut) and _is_value(rest[:cut]):
                lines[i:j + 1] = [lines[i][:value_at] + value_toml + rest[cut:]]
                return "".join(lines)
    raise ConfigError(f"{FILE_NAME}: cannot find where the value of line {i + 1} ends; {_HAND}")


def _is_value(candidate: str) -> bool:
    try:
        tomllib.loads(f"v = {candidate}")
    except tomllib.TOMLDecodeError:
        return False
    return True


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{FILE_NAME}: cannot write it ({exc.strerror or exc}); check the folder's permissions") from None
