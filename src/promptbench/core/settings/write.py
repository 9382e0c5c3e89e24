"""Writing the workspace-wide settings of ``promptbench.toml``: local mode, default
compare models, timeouts and retries, how LLM judges' replies are read (``[eval] judging``,
``pass_threshold``), and the added GGUF files (``[local.models.<name>]``,
:func:`add_local_model` / :func:`remove_local_model`).

:mod:`promptbench.core.settings.config` writes the model catalog (``[models.*]``); this module
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

from promptbench.core.settings.config import (FILE_NAME, ConfigError, _header_path, _table_spans, _toml_key, _toml_value,
                                     _trim_end, config_path, parse_settings)

_SUFFIX = re.compile(r"[ \t]*(#[^\r\n]*)?(\r\n|\n|\r)?")  # what may follow a value on its last line
_ATTRS = {("local", "mode"): "local_mode", ("compare", "default_models"): "default_models",
          ("timeouts", "connect_s"): "connect_timeout_s", ("timeouts", "first_token_s"): "first_token_timeout_s",
          ("timeouts", "idle_s"): "idle_timeout_s", ("retries", "max"): "max_retries",
          ("eval", "judging"): "eval_judging", ("eval", "pass_threshold"): "eval_pass_threshold"}
WRITABLE: frozenset[tuple[str, str]] = frozenset(_ATTRS)
_HAND = "edit it by hand"
_MISSING = object()


def set_local_mode(workspace_root: Path, mode: str) -> Path:
    """``[local] mode``: "sequential" (one at a time, comparable timings) or "parallel"."""
    return set_values(workspace_root, {("local", "mode"): mode})


def set_general(workspace_root: Path, *, default_models: list[str] | None = None, connect_timeout_s: float | None = None,
                first_token_timeout_s: float | None = None, idle_timeout_s: float | None = None,
                max_retries: int | None = None, judging: str | None = None, pass_threshold: float | None = None) -> Path:
    """The compare defaults, timeouts, retries and the judges' reading ("github" or "strict",
    and the strict reading's pass threshold); None leaves a value as it is."""
    values = {("compare", "default_models"): None if default_models is None else list(default_models),
              ("timeouts", "connect_s"): connect_timeout_s, ("timeouts", "first_token_s"): first_token_timeout_s,
              ("timeouts", "idle_s"): idle_timeout_s, ("retries", "max"): max_retries,
              ("eval", "judging"): judging, ("eval", "pass_threshold"): pass_threshold}
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


def add_local_model(workspace_root: Path, name: str, path: str | os.PathLike[str], mode: str) -> Path:
    """Add ``[local.models.<name>]`` (``path``, ``mode``) for a GGUF file, after checking the file
    (core/local_gguf.py: header, and a chat template for "chat"), the name (free, usable) and
    the mode. Nothing else in the file changes; LocalModelError or ConfigError say what is wrong."""
    from promptbench.core.local.gguf import MODES, inspect_gguf, name_problem, taken_names
    from promptbench.core.local.catalog import LocalModelError

    text = _read(workspace_root)
    current = parse_settings(text)  # refuse to rewrite a file that is already invalid
    problem = name_problem(name, {*taken_names(), *current.local_models})
    if problem:
        raise LocalModelError(problem)
    if mode not in MODES:
        raise LocalModelError(f"mode {mode!r}: expected \"chat\" (the file's chat template) or \"transcript\" (plain text)")
    info = inspect_gguf(path)
    if mode == "chat" and not info.chat_template:
        raise LocalModelError(f"{info.path} has no chat template (tokenizer.chat_template): add it in plain-transcript mode")
    nl = _newline(text)
    block = [f"[local.models.{_toml_key(name)}]", f"path = {_toml_value(str(info.path.resolve()))}", f"mode = {_toml_value(mode)}"]
    lines = text.splitlines(keepends=True)
    spans = [span for other in current.local_models for span in _table_spans(lines, ("local", "models", other))]
    at = max((end for _, end in spans), default=len(lines))
    if at and not lines[at - 1].endswith(("\n", "\r")):
        lines[at - 1] += nl
    gap_before = [nl] if at and lines[at - 1].strip() else []
    gap_after = [nl] if at < len(lines) and lines[at].strip() else []
    lines[at:at] = [*gap_before, *(line + nl for line in block), *gap_after]
    expected = tomllib.loads(text)
    expected.setdefault("local", {}).setdefault("models", {})[name] = {"path": str(info.path.resolve()), "mode": mode}
    return _check_and_write(workspace_root, "".join(lines), expected, f"local.models.{name}")


def remove_local_model(workspace_root: Path, name: str) -> Path:
    """Delete ``[local.models.<name>]``; ConfigError if there is none (or it is not written as that table)."""
    text = _read(workspace_root)
    current = parse_settings(text)
    if name not in current.local_models:
        known = ", ".join(current.local_models) or "none"
        raise ConfigError(f"{FILE_NAME}: there is no added local model named {name!r}; added: {known}")
    lines = text.splitlines(keepends=True)
    spans = _table_spans(lines, ("local", "models", name))
    if not spans:
        raise ConfigError(f"{FILE_NAME}: local.models.{name} is not written as a [local.models.{name}] table; {_HAND}")
    for start, end in reversed(spans):
        del lines[start:end]
        if 0 < start <= len(lines) and not lines[start - 1].strip() and (start == len(lines) or not lines[start].strip()):
            del lines[start - 1]  # no double blank line where the table was
    expected = tomllib.loads(text)
    del expected["local"]["models"][name]
    if not expected["local"]["models"] and not any(_header_path(line) == ("local", "models") for line in lines):
        del expected["local"]["models"]
    if not expected["local"] and not any(_header_path(line) == ("local",) for line in lines):
        del expected["local"]
    return _check_and_write(workspace_root, "".join(lines), expected, f"local.models.{name}")


def _read(workspace_root: Path) -> str:
    path = config_path(workspace_root)
    try:
        return path.read_bytes().decode("utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{FILE_NAME}: cannot read it ({exc}); check the file's permissions and encoding (UTF-8)") from None


def _check_and_write(workspace_root: Path, new_text: str, expected: dict, what: str) -> Path:
    try:
        new = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        new = None
    if new != expected:
        raise ConfigError(f"{FILE_NAME}: could not update {what} without touching other settings "
                          f"(is [local] written inline or with dotted keys?); {_HAND}")
    parse_settings(new_text)
    path = config_path(workspace_root)
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
