"""Writing ``promptbench.toml``: the model catalog (``[models.<name>]``, :func:`save_model` /
:func:`remove_model`), the added GGUF files (``[local.models.<name>]``, :func:`add_local_model` /
:func:`remove_local_model`) and a few workspace-wide values (:func:`set_values`: local mode,
default compare models, timeouts and retries, how LLM judges' replies are read).

Every write edits tomlkit's format-preserving document of the file: a value keeps its place
and trailing comment, a new key goes after its table's last value (not after the comments
that introduce the next table), a new table gets one blank line on each side as the file's
tables do, a removed one leaves no double blank line, and every other byte, line endings
included, stays as it was. The result is parsed again with tomllib (only the asked-for values
may differ, and :func:`parse_settings` must accept it) and written atomically. Only the keys
in :data:`WRITABLE` and whole model tables can be written, and a model table holding a key is
refused, so no secret can end up here.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Item, Table
from tomlkit.toml_document import TOMLDocument

from promptbench.core.settings.config import (FILE_NAME, OLLAMA_BASE, ConfigError, ModelConfig, Settings, config_path,
                                              line_of, parse_settings, read_config_text, refuse_secrets)
from promptbench.core.atomic import write_atomic

_ATTRS = {("local", "mode"): "local_mode", ("compare", "default_models"): "default_models",
          ("timeouts", "connect_s"): "connect_timeout_s", ("timeouts", "first_token_s"): "first_token_timeout_s",
          ("timeouts", "idle_s"): "idle_timeout_s", ("retries", "max"): "max_retries",
          ("eval", "judging"): "eval_judging", ("eval", "pass_threshold"): "eval_pass_threshold"}
WRITABLE: frozenset[tuple[str, str]] = frozenset(_ATTRS)
_HAND = "edit it by hand"
_ABSENT = object()  # not in the file (a value not written yet, a table removed)
# Put around a table while it is placed: NUL cannot occur in a TOML file, and the newlines
# keep tomlkit from adding its own before the header and after the last value.
_HEAD, _TAIL = "\n\x00head\x00", "\n\x00tail\x00\n"
_BLANK_END = re.compile(r"\n[ \t\r]*\n\Z")  # text ending with a blank line
_BLANK_START = re.compile(r"[ \t\r]*\n")  # text starting with one


# -- values ---------------------------------------------------------------------

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
    text, current, doc = _open(workspace_root)
    old = tomllib.loads(text)
    tables: dict[str, dict[str, Any]] = {}
    for (table, key), value in values.items():
        written = old.get(table, {}).get(key, _ABSENT)
        if written == value or (written is _ABSENT and getattr(current, _ATTRS[table, key]) == value):
            continue  # already so, written or as the default: keep the file as it is
        tables.setdefault(table, {})[key] = value
    changes = {(table, key): value for table, new in tables.items() for key, value in new.items()}
    with _editing(text, changes):
        for table, new in tables.items():
            own = [part for part in _tables_at(doc, text, (table,)) if not part.is_super_table()]
            if not own:  # a new [table] at the end of the file
                _place(doc, doc, (table,), _new_table(new))
                continue
            for key, value in new.items():
                _set(own[0], key, value)
    return _finish(workspace_root, text, doc.as_string(), changes)


# -- the model catalog ------------------------------------------------------------

def save_model(workspace_root: Path, cfg: ModelConfig) -> Path:
    """Add ``[models.<cfg.name>]`` after the last model, or change the values of the existing
    table in place (the lines of unchanged values and their comments stay); nothing else changes."""
    if not cfg.name or not cfg.model:
        raise ConfigError("a model needs a name and a model string to be saved")
    values = _model_table(cfg)
    refuse_secrets({"models": {cfg.name: values}}, (), "")
    text, _, doc = _open(workspace_root)
    path = ("models", cfg.name)
    with _editing(text, {path: values}):
        existing = _tables_at(doc, text, path)
        if existing:
            _update(existing[0], values)
        else:  # after the last model, else at the end of the file
            catalog = _tables_at(doc, text, path[:1])
            parent, keys = (catalog[-1], path[1:]) if catalog else (doc, path)
            _place(doc, parent, keys, _new_table(values))
    return _finish(workspace_root, text, doc.as_string(), {path: values})


def remove_model(workspace_root: Path, name: str) -> Path:
    """Delete ``[models.<name>]`` (and its subtables); ConfigError if there is none."""
    text, current, doc = _open(workspace_root)
    path = ("models", name)
    if name not in current.models:
        raise ConfigError(f"{FILE_NAME}: there is no model named {name!r}; known: {', '.join(current.models) or 'none'}")
    with _editing(text, {path: _ABSENT}):
        new_text = _without_table(doc, text, path)
    return _finish(workspace_root, text, new_text, {path: _ABSENT})


def _model_table(cfg: ModelConfig) -> dict:
    """What :func:`save_model` writes for ``cfg`` (where the key is, never a key)."""
    table = {"model": cfg.model}
    for key in ("api_base", "api_key_env", "keyring", "input_cost_per_mtok", "output_cost_per_mtok", "max_concurrency"):
        value = getattr(cfg, key)
        if value is not None and not (key == "api_base" and cfg.provider == "ollama" and value == OLLAMA_BASE):
            table[key] = value
    if cfg.params:
        table["params"] = dict(cfg.params)
    return table


# -- added GGUF files ----------------------------------------------------------------

def add_local_model(workspace_root: Path, name: str, path: str | os.PathLike[str], mode: str) -> Path:
    """Add ``[local.models.<name>]`` (``path``, ``mode``) for a GGUF file, after checking the file
    (core/local_gguf.py: header, and a chat template for "chat"), the name (free, usable) and
    the mode. Nothing else in the file changes; LocalModelError or ConfigError say what is wrong."""
    from promptbench.core.local.gguf import MODES, inspect_gguf, name_problem, taken_names
    from promptbench.core.local.catalog import LocalModelError

    text, current, doc = _open(workspace_root)
    problem = name_problem(name, {*taken_names(), *current.local_models})
    if problem:
        raise LocalModelError(problem)
    if mode not in MODES:
        raise LocalModelError(f"mode {mode!r}: expected \"chat\" (the file's chat template) or \"transcript\" (plain text)")
    info = inspect_gguf(path)
    if mode == "chat" and not info.chat_template:
        raise LocalModelError(f"{info.path} has no chat template (tokenizer.chat_template): add it in plain-transcript mode")
    key, values = ("local", "models", name), {"path": str(info.path.resolve()), "mode": mode}
    with _editing(text, {key: values}):
        added = _tables_at(doc, text, key[:2])  # after the last added model, else at the end of the file
        parent, keys = (added[-1], key[2:]) if added else (doc, key)
        _place(doc, parent, keys, _new_table(values))
    return _finish(workspace_root, text, doc.as_string(), {key: values})


def remove_local_model(workspace_root: Path, name: str) -> Path:
    """Delete ``[local.models.<name>]``; ConfigError if there is none (or it is not written as that table)."""
    text, current, doc = _open(workspace_root)
    if name not in current.local_models:
        known = ", ".join(current.local_models) or "none"
        raise ConfigError(f"{FILE_NAME}: there is no added local model named {name!r}; added: {known}")
    key = ("local", "models", name)
    with _editing(text, {key: _ABSENT}):
        new_text = _without_table(doc, text, key)
    return _finish(workspace_root, text, new_text, {key: _ABSENT})


# -- editing the document -------------------------------------------------------------

def toml_value(value: Any) -> str:
    """``value`` as this module writes it in promptbench.toml (``0.2``, ``["a"]``, ``{ seed = 7 }``)."""
    return _item(value).as_string()


def _item(value: Any) -> Item:
    """``value`` as a tomlkit item. Tables are inline and padded, ``{ a = 1 }``, as the TOML spec
    and this file's examples write them (tomlkit alone writes ``{a = 1}``)."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for i, (key, val) in enumerate(value.items()):
            item = _item(val)
            if i == 0:
                item.trivia.indent = " "
            table.append(str(key), item)
        if table:
            table.append(None, tomlkit.ws(" "))
        return table
    if isinstance(value, (list, tuple)):
        array = tomlkit.array()
        for val in value:
            array.append(_item(val))
        return array
    if isinstance(value, (bool, int, float, str)):
        return tomlkit.item(value)
    raise ConfigError(f"cannot write a {type(value).__name__} to {FILE_NAME}; use strings, numbers, booleans, lists or tables")


def _new_table(values: dict) -> Table:
    table = tomlkit.table()
    for key, value in values.items():
        table.append(key, _item(value))
    return table


def _open(workspace_root: Path) -> tuple[str, Settings, TOMLDocument]:
    """The file's text as written, its settings, and its tomlkit document; ConfigError (naming
    the line) if it is invalid: a broken file is never rewritten."""
    text = read_config_text(workspace_root, as_written=True)
    current = parse_settings(text)
    try:
        return text, current, tomlkit.parse(text)
    except (TOMLKitError, ValueError, RecursionError) as exc:  # tomllib read it, tomlkit cannot
        line = getattr(exc, "line", None)
        raise ConfigError(f"{FILE_NAME}{f':{line}' if line else ''}: cannot be edited here ({exc}); {_HAND}") from None


@contextmanager
def _editing(text: str, changes: Mapping[tuple[str, ...], Any]) -> Iterator[None]:
    try:
        yield
    except (TOMLKitError, ValueError) as exc:
        what = ", ".join(".".join(path) for path in changes)
        raise _by_hand(text, next(iter(changes)), f"could not update {what} ({exc})") from None


def _by_hand(text: str, path: tuple[str, ...], problem: str) -> ConfigError:
    line = _line(text, path)
    return ConfigError(f"{FILE_NAME}{f':{line}' if line else ''}: {problem}; {_HAND}")


def _line(text: str, path: tuple[str, ...]) -> int | None:
    """The line of ``path``, else of its first value (``local.mode = ...`` for ``local``), else of
    the nearest table around it."""
    data = tomllib.loads(text)
    for depth in range(len(path), 0, -1):
        table = _get(data, path[:depth])
        inside = [line_of(text, (*path[:depth], key)) for key in table] if isinstance(table, dict) else []
        line = line_of(text, path[:depth]) or min(filter(None, inside), default=None)
        if line:
            return line
    return None


def _tables_at(doc: TOMLDocument, text: str, path: tuple[str, ...]) -> list[Table]:
    """The ``[a.b.c]`` tables of ``path`` in file order (a table split by others comes in parts);
    ConfigError if it is written inline or with dotted keys: those are not guessed at."""
    found = []
    for key, item in doc.body:
        if key is None or key.key != path[0]:
            continue
        item = None if key.is_dotted() else item
        for name in path[1:]:
            item = item.get(name, _ABSENT) if isinstance(item, Table) else None
            if item is _ABSENT:
                break
        if item is _ABSENT:
            continue
        if not isinstance(item, Table):
            dotted = ".".join(path)
            raise _by_hand(text, path, f"{dotted} is written inline or with dotted keys, not as a [{dotted}] table")
        found.append(item)
    return found


def _set(table: Table, key: str, value: Any) -> None:
    """``key = value`` in ``table``: in place if it is there (its comment and layout stay), else
    after the table's last value. tomlkit would append it after the table's trailing comments,
    which introduce the next table, and has no public insert."""
    item = _item(value)
    if key in table:
        table[key] = item
        return
    body = table.value.body
    last = max((i for i, (k, v) in enumerate(body) if k is not None and not (isinstance(v, (Table, AoT)) and not k.is_dotted())),
               default=-1)
    if last + 1 < len(body):
        table.value._insert_at(last + 1, key, item)
    else:
        table.append(key, item)


def _update(table: Table, values: dict) -> None:
    """Make ``table`` hold ``values``: changed values in place, missing ones deleted, new ones added."""
    for key in [key for key in table if key not in values]:
        del table[key]
    for key, value in values.items():
        if key in table and _same(table[key].unwrap(), value):
            continue
        if isinstance(table.get(key), Table):  # a [<name>.params] subtable is written inline instead
            del table[key]
        _set(table, key, value)


def _same(a: Any, b: Any) -> bool:
    """Equal as TOML values: 1 and 1.0 are, 1 and true are not, nan and nan are."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _place(doc: TOMLDocument, parent: TOMLDocument | Table, keys: tuple[str, ...], table: Table) -> None:
    """Add ``table`` at ``parent``'s ``keys``, a blank line from what comes before and after it
    (tomlkit adds none after it, and none before a table of a super table)."""
    item, last = table, next(v for k, v in reversed(table.value.body) if k is not None)
    table.trivia.indent, last.trivia.trail = _HEAD, _TAIL
    for key in reversed(keys[1:]):
        item = tomlkit.table(is_super_table=True).append(key, item)
    parent.append(keys[0], item)
    before, _, rest = doc.as_string().partition(_HEAD)
    after = rest.partition(_TAIL)[2]
    table.trivia.indent = "" if not before or _BLANK_END.search(before) else "\n" if before.endswith("\n") else "\n\n"
    last.trivia.trail = "\n\n" if after.strip() and not _BLANK_START.match(after) else "\n"


def _without_table(doc: TOMLDocument, text: str, path: tuple[str, ...]) -> str:
    """The document's text without the table at ``path`` (every part), and no double blank line where it was."""
    if not _tables_at(doc, text, path):
        dotted = ".".join(path)
        raise _by_hand(text, path, f"{dotted} is not written as a [{dotted}] table")
    while holders := [part for part in _tables_at(doc, text, path[:-1]) if isinstance(part.get(path[-1]), Table)]:
        holders[0][path[-1]].trivia.indent = _HEAD
        before = doc.as_string().partition(_HEAD)[0]
        del holders[0][path[-1]]
        after = doc.as_string()[len(before):]
        blank = _BLANK_END.search(before)
        if blank and (not after or _BLANK_START.match(after)):
            before = before[:blank.start() + 1]
        doc = tomlkit.parse(before + after)
    return doc.as_string()


def _finish(workspace_root: Path, text: str, new_text: str, changes: Mapping[tuple[str, ...], Any]) -> Path:
    """Check ``new_text`` (the ``changes`` made, nothing else changed, valid settings) and write it
    atomically, unless it is ``text``."""
    path = config_path(workspace_root)
    if "\r\n" in text and "\n" not in text.replace("\r\n", ""):  # tomlkit ends the lines it adds with \n
        new_text = re.sub(r"(?<!\r)\n", "\r\n", new_text)
    if new_text == text:
        return path
    try:
        new = tomllib.loads(new_text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        new = None
    if new is not None:
        parse_settings(new_text)  # the values themselves: types and bounds, with line numbers
    if new is None or not _same(_strip(new, changes), _strip(tomllib.loads(text), changes)) or not all(
            _same(_get(new, key), value) for key, value in changes.items()):
        what = ", ".join(".".join(key) for key in changes)
        raise _by_hand(text, next(iter(changes)), f"could not update {what} without touching other settings "
                                                  "(is a table written inline or with dotted keys?)")
    try:
        write_atomic(path, new_text)
    except OSError as exc:
        raise ConfigError(f"{FILE_NAME}: cannot write it ({exc.strerror or exc}); check the folder's permissions; "
                          "the file is unchanged") from None
    return path


def _get(data: dict, path: tuple[str, ...]) -> Any:
    """The value at ``path``, or _ABSENT."""
    for key in path:
        data = data.get(key, _ABSENT) if isinstance(data, dict) else _ABSENT
    return data


def _strip(data: dict, paths: Iterable[tuple[str, ...]]) -> dict:
    """``data`` without the values at ``paths`` and the tables along them left empty (a table
    that only held what changed may come or go)."""
    data = copy.deepcopy(data)
    for path in paths:
        chain = [data]
        for key in path[:-1]:
            chain.append(chain[-1].get(key))
            if not isinstance(chain[-1], dict):
                break
        else:
            chain[-1].pop(path[-1], None)
            for depth in range(len(path) - 1, 0, -1):
                if chain[depth]:
                    break
                del chain[depth - 1][path[depth - 1]]
    return data
