"""The ``.prompt.yml`` model (GitHub Models prompt files): load, validate, render, save.

A ``PromptFile`` wraps the round-trip YAML tree, so a file saved without changes is
returned byte for byte and an edit made through the mutation helpers changes only the
lines it touches, keeping comments, quoting and block scalars.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from promptbench.core.prompts import yamlio
from promptbench.core.prompts.yamledit import Patcher, Unpatchable, same
from promptbench.core.prompts.yamledit.scalars import printable as _printable
from promptbench.core.errors import Problem, PromptFileError
from promptbench.core.prompts.schema import EVALUATOR_SECTIONS, GITHUB_IGNORED_PARAMETERS, KNOWN_FIELDS, ROLES, check, json_schema_of, validate
from promptbench.core.prompts.templating import Rendered, find_variables, find_variables_in, render, require_complete

__all__ = [
    "MAX_PROMPT_BYTES", "ROLES", "Message", "PromptFile", "Rendered", "find_variables",
    "load_prompt", "parse_prompt", "parse_prompt_bytes", "render", "require_complete", "validate",
]

MAX_PROMPT_BYTES = 1 * 1024 * 1024
_BOM = "\ufeff"


@dataclass(frozen=True)
class Message:
    role: str
    content: str


class PromptFile:
    """One parsed prompt file. ``data`` is the ruamel round-trip tree; the properties
    return plain Python copies."""

    def __init__(self, data: CommentedMap, source: str, text: str | None = None, *, warnings: list[Problem] | None = None):
        self.data = data
        self.source = source
        self.warnings: list[Problem] = check(data, source)[1] if warnings is None else warnings
        self._original = text
        self._base: str | None = None  # ruamel's dump of the original, made on demand
        self._patcher: Patcher | None = None
        self._original_plain: Any = None
        self.last_save_method = "unchanged"  # how dumps() made its text: unchanged, patch, merge, dump or lossy
        body = (text or "").removeprefix(_BOM)
        self._bom = bool(text) and text.startswith(_BOM)
        self._crlf = "\r\n" in body
        self._final_newline = text is None or body.endswith("\n")
        body = body.replace("\r\n", "\n")
        self._exact_body = body
        self._indent = yamlio.guess_indent(data, body)
        self._explicit_start = yamlio.has_explicit_start(body)
        self._body = body if body.endswith("\n") else body + "\n"

    @classmethod
    def from_plain(cls, data: Mapping[str, Any], source: str) -> PromptFile:
        """A new prompt built from plain data in a standard layout; raises like ``parse_prompt``."""
        text = yamlio.dump(_styled_tree(dict(data)), (2, 4, 2), False)
        return parse_prompt(text, source)

    # -- reading -------------------------------------------------------------------
    def _text_field(self, key: str) -> str | None:
        value = self.data.get(key)
        return str(value) if isinstance(value, str) else None

    @property
    def name(self) -> str | None:
        return self._text_field("name")

    @property
    def description(self) -> str | None:
        return self._text_field("description")

    @property
    def model(self) -> str | None:
        return self._text_field("model")

    @property
    def model_parameters(self) -> dict:
        """The parameters sent: as written, less the keys GitHub ignores (max_tokens, top_p,
        max_completion_tokens; a load warning names each)."""
        return {k: v for k, v in self.model_parameters_in_file.items() if k not in GITHUB_IGNORED_PARAMETERS}

    @property
    def model_parameters_in_file(self) -> dict:
        """Every parameter as written, those GitHub ignores included (for editing)."""
        params = self.data.get("modelParameters")
        return yamlio.to_plain(params) if isinstance(params, dict) else {}

    @property
    def response_format(self) -> str:
        return str(self.data.get("responseFormat") or "text")

    @property
    def json_schema(self) -> dict | None:
        if "jsonSchema" not in self.data:
            return None
        schema, _, _ = json_schema_of(self.data["jsonSchema"])
        return None if schema is None else yamlio.to_plain(schema)

    @property
    def messages(self) -> list[Message]:
        """Roles in lower case (``System`` is ``system``, as gh-models reads it); the file
        keeps what it says."""
        return [
            Message(_role(m.get("role")), str(m.get("content") or ""))
            for m in self.data.get("messages") or ()
            if isinstance(m, dict)
        ]

    @property
    def test_data(self) -> list[dict]:
        return [yamlio.to_plain(c) for c in self.data.get("testData") or () if isinstance(c, dict)]

    @property
    def evaluators(self) -> list[dict]:
        """Every evaluator: GitHub's ``evaluators`` list, then promptbench's own section."""
        return [spec for _, spec in self.evaluator_entries]

    @property
    def evaluator_entries(self) -> list[tuple[str, dict]]:
        """(field path such as ``promptbenchEvaluators[0]``, evaluator) for every evaluator."""
        entries = []
        for section in EVALUATOR_SECTIONS:
            items = self.data.get(section)
            for i, spec in enumerate(items if isinstance(items, list) else ()):
                if isinstance(spec, dict):
                    entries.append((f"{section}[{i}]", yamlio.to_plain(spec)))
        return entries

    @property
    def variables(self) -> list[str]:
        return find_variables_in(m.content for m in self.messages)

    def to_plain(self) -> dict:
        return yamlio.to_plain(self.data)

    def problems(self) -> list[Problem]:
        """Validate the current (possibly edited) data again."""
        return validate(self.data, self.source)

    # -- saving --------------------------------------------------------------------
    def dumps(self) -> str:
        """The file's text: the original bytes when nothing changed, else the original
        with only the changed lines replaced (ruamel's full output as a fallback)."""
        if self._original is None:
            self.last_save_method = "dump"
            return yamlio.dump(self.data, self._indent, self._explicit_start)
        want = self.to_plain()
        if same(want, self._original_values()):
            self.last_save_method = "unchanged"
            return self._original
        try:
            patched = self._the_patcher().patch(self._original_plain, want, self.data)
            self.last_save_method = "patch"
            return self._restore_line_ends(patched)
        except Unpatchable:
            pass
        # Coarser: ruamel's dump of the whole tree, with only its changed lines replayed
        # onto the original text.
        dumped = yamlio.dump(self.data, self._indent, self._explicit_start)
        if self._base is None:
            self._base = yamlio.dump(yamlio.load(self._body), self._indent, self._explicit_start)
        merged = yamlio.merge(self._body, self._base, dumped)
        for method, candidate in (("merge", merged), ("dump", dumped)):
            if candidate is not None:
                text = self._restore_layout(candidate)
                if same(_plain_of(text), want):
                    self.last_save_method = method
                    return text
        # ruamel can misplace a comment next to a changed block scalar so that it
        # becomes content; never save that: drop the comments instead ("lossy": the
        # editor refuses such an edit from the forms rather than rewrite the file).
        self.last_save_method = "lossy"
        return self._restore_layout(yamlio.dump(_styled_tree(want), self._indent, self._explicit_start))

    def dump_job(self) -> "Callable[[], str | None]":
        """A function that makes ``dumps()``'s text from a snapshot of the current values,
        safe to run on another thread while this file keeps being edited (the slow parts,
        parsing the original and patching it, happen in the function). It returns None
        when the text needs the full ``dumps()`` (an edit the in-place patch cannot make)."""
        want = self.to_plain()
        if self._original is None:
            return lambda: None

        def run() -> str | None:
            original_plain = self._original_values()
            if same(want, original_plain):
                return self._original
            try:
                return self._restore_line_ends(self._the_patcher().patch(original_plain, want, _styled_tree(want)))
            except Unpatchable:
                return None
        return run

    def _original_values(self) -> Any:
        if self._original_plain is None:
            self._original_plain = yamlio.to_plain(yamlio.load(self._exact_body))
        return self._original_plain

    def _the_patcher(self) -> Patcher:
        if self._patcher is None:
            self._patcher = Patcher(self._exact_body, self._indent)
        return self._patcher

    @property
    def modified(self) -> bool:
        return self._original is None or self.dumps() != self._original

    def _restore_layout(self, text: str) -> str:
        if not self._final_newline and text.endswith("\n"):
            text = text[:-1]
        return self._restore_line_ends(text)

    def _restore_line_ends(self, text: str) -> str:
        if self._crlf:
            text = text.replace("\n", "\r\n")
        return _BOM + text if self._bom else text

    # -- editing -------------------------------------------------------------------
    def set(self, path: Sequence[str | int], value: Any) -> None:
        """Set the value at *path* (keys and list indexes), creating missing mappings.
        A new string keeps the style (quotes, block scalar) of the string it replaces."""
        if not path:
            raise ValueError("empty path")
        parent = self.data
        for depth, key in enumerate(path[:-1]):
            if isinstance(parent, dict) and not isinstance(parent.get(key), (dict, list)):
                self._put(parent, key, CommentedMap(), top=depth == 0)
            parent = parent[key]
        last = path[-1]
        old = parent[last] if isinstance(parent, list) else parent.get(last)
        new = _styled_tree(value) if isinstance(value, (dict, list)) else _styled(old, value)
        if isinstance(parent, list):
            parent[last] = new
        else:
            self._put(parent, last, new, top=len(path) == 1)

    def delete(self, path: Sequence[str | int]) -> None:
        parent = self.data
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    def _put(self, parent: CommentedMap, key: Any, value: Any, top: bool) -> None:
        if key in parent or not top or key not in KNOWN_FIELDS:
            parent[key] = value
            return
        # Insert a new known field after the known fields that precede it.
        rank = KNOWN_FIELDS.index(key)
        keys = list(parent)
        pos = 0
        for i, existing in enumerate(keys):
            if existing in KNOWN_FIELDS and KNOWN_FIELDS.index(existing) < rank:
                pos = i + 1
        if pos >= len(keys):
            parent[key] = value
        else:
            parent.insert(pos, key, value)

    def set_field(self, key: str, value: Any) -> None:
        """Set a top-level field; ``None`` removes it."""
        if value is None:
            self.data.pop(key, None)
        else:
            self.set([key], value)

    def set_model_parameter(self, key: str, value: Any) -> None:
        """Set one model parameter; ``None`` removes it."""
        if value is None:
            params = self.data.get("modelParameters")
            if isinstance(params, dict):
                params.pop(key, None)
        else:
            self.set(["modelParameters", key], value)

    def set_message(self, index: int, role: str | None = None, content: str | None = None) -> None:
        self._index("messages", index)
        if role is not None:
            self.set(["messages", index, "role"], self._checked_role(role))
        if content is not None:
            self.set(["messages", index, "content"], content)

    def add_message(self, role: str, content: str, index: int | None = None) -> None:
        messages = self.data.get("messages")
        if not isinstance(messages, list):
            messages = CommentedSeq()
            self._put(self.data, "messages", messages, top=True)
        item = CommentedMap([("role", self._checked_role(role)), ("content", _styled(None, content))])
        messages.insert(len(messages) if index is None else index, item)

    def remove_message(self, index: int) -> None:
        del self.data["messages"][self._index("messages", index)]

    def add_test_case(self, values: Mapping[str, Any], index: int | None = None) -> None:
        cases = self.data.get("testData")
        if not isinstance(cases, list):
            cases = CommentedSeq()
            self._put(self.data, "testData", cases, top=True)
        item = _styled_tree(dict(values))
        cases.insert(len(cases) if index is None else index, item)

    def set_test_case(self, index: int, values: Mapping[str, Any]) -> None:
        """Replace test case *index* with *values*, keeping the style of unchanged keys."""
        case = self.data["testData"][self._index("testData", index)]
        for key in [k for k in case if k not in values]:
            del case[key]
        for key, value in values.items():
            if case.get(key) != value:
                case[key] = _styled(case.get(key), value)

    def remove_test_case(self, index: int) -> None:
        del self.data["testData"][self._index("testData", index)]

    def _index(self, key: str, index: int) -> int:
        items = self.data.get(key)
        count = len(items) if isinstance(items, list) else 0
        if not 0 <= index < count:
            noun = "message" if key == "messages" else "test case"
            raise PromptFileError([Problem(self.source, None, f"{key}[{index}]", f"no {noun} {index}: the file has {count} {noun}(s)")])
        return index

    def _checked_role(self, role: str) -> str:
        if not isinstance(role, str) or role.lower() not in ROLES:
            raise PromptFileError([Problem(self.source, None, "role", f"unknown role {role!r}: expected one of {', '.join(ROLES)}")])
        return role

    def __repr__(self) -> str:
        return f"PromptFile({self.source!r}, name={self.name!r})"


def _role(role: Any) -> str:
    text = str(role)
    return text.lower() if text.lower() in ROLES else text


def _styled(old: Any, new: Any) -> Any:
    """*new* written in the style of *old*: a multi-line string becomes a ``|`` block."""
    if not isinstance(new, str):
        return new
    new = str(new)
    if not _printable(new):
        # ruamel writes some of these raw in plain/block style and cannot read them back.
        return DoubleQuotedScalarString(new)
    multiline = "\n" in new.rstrip("\n")
    if isinstance(old, (LiteralScalarString, FoldedScalarString)) or multiline:
        # Not for several final newlines: a "|+" block would swallow following blank lines.
        if _block_safe(new) and not new.endswith("\n\n"):
            return LiteralScalarString(new)
        return DoubleQuotedScalarString(new)
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(new)
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(new)
    return new


def _styled_tree(node: Any) -> Any:
    """Plain containers -> ruamel ones with styled strings; ruamel nodes (and their comments) stay."""
    if isinstance(node, (CommentedMap, CommentedSeq)):
        return node
    if isinstance(node, Mapping):
        return CommentedMap((k, _styled_tree(v)) for k, v in node.items())
    if isinstance(node, list):
        return CommentedSeq(_styled_tree(v) for v in node)
    return _styled(None, node)


def _block_safe(text: str) -> bool:
    # Trailing spaces on a line would be lost in a block scalar.
    return all(line == line.rstrip(" \t") for line in text.split("\n"))


def _plain_of(text: str) -> Any:
    try:
        return yamlio.to_plain(yamlio.load(text))
    except Exception:  # noqa: BLE001 - a candidate that does not parse is just rejected
        return None


# -- loading -----------------------------------------------------------------------
def parse_prompt(text: str, source: str) -> PromptFile:
    """Parse and validate; raises ``PromptFileError`` carrying every problem found."""
    try:
        data = yamlio.load(text.removeprefix(_BOM))
    except MarkedYAMLError as exc:
        raise PromptFileError([_yaml_problem(exc, source)]) from None
    except RecursionError:
        raise PromptFileError([Problem(source, None, "", "invalid YAML: nesting is too deep")]) from None
    except ReaderError as exc:
        line = text.removeprefix(_BOM).count("\n", 0, max(exc.position, 0)) + 1
        what = f"character U+{exc.character:04X} is not allowed in YAML text" if isinstance(exc.character, int) else str(exc.reason)
        what = f"invalid YAML: {what} (write it as an escape in a double-quoted string)"
        raise PromptFileError([Problem(source, line, "", what)]) from None
    except (YAMLError, ValueError, TypeError) as exc:
        raise PromptFileError([Problem(source, None, "", "invalid YAML: " + " ".join(str(exc).split()))]) from None
    problems, warnings = check(data, source)
    if problems:
        raise PromptFileError(sorted(problems, key=lambda p: p.line or 0))
    return PromptFile(data, source, text, warnings=warnings)


def _yaml_problem(exc: MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = (exc.problem or exc.context or "cannot parse").strip()
    if what.startswith("found duplicate key"):
        key = what.split('"')[1] if '"' in what else "?"
        return Problem(source, line, key, f"duplicate key {key!r}: each key may appear only once")
    column = f" at column {mark.column + 1}" if mark is not None else ""
    context = exc.context_mark
    if exc.context and context is not None and context is not mark and context.line != mark.line:
        what += f" ({exc.context.strip()} that starts on line {context.line + 1})"
    return Problem(source, line, "", f"invalid YAML{column}: {what}")


def parse_prompt_bytes(raw: bytes, source: str) -> PromptFile:
    if len(raw) > MAX_PROMPT_BYTES:
        size = len(raw) / (1024 * 1024)
        limit = MAX_PROMPT_BYTES // (1024 * 1024)
        raise PromptFileError([Problem(source, None, "", f"file is {size:.1f} MiB; prompt files are limited to {limit} MiB")])
    try:
        if b"\0" in raw:
            raise UnicodeDecodeError("utf-8", raw, raw.index(b"\0"), raw.index(b"\0") + 1, "NUL byte")
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PromptFileError([Problem(source, None, "", "not a UTF-8 text file")]) from None
    return parse_prompt(text, source)


def load_prompt(path: Path, source: str | None = None) -> PromptFile:
    source = source or Path(path).name
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PromptFileError([Problem(source, None, "", f"cannot read the file: {exc.strerror or exc}")]) from None
    return parse_prompt_bytes(raw, source)
