"""Round-trip YAML for prompt files: load with positions, dump without reformatting.

ruamel.yaml keeps comments, key order, quoting and block scalars, but it cannot
reproduce every hand-written shape byte for byte (``~`` becomes empty, plain scalars
folded over several lines are joined, mixed indentation is normalised). So a save
starts from the original text and replays onto it only the lines that ruamel's output
says changed (a three-way merge); when that is not possible it falls back to
ruamel's output for the whole file.
"""

from __future__ import annotations

import datetime
import io
import re
import warnings
from difflib import SequenceMatcher
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.composer import ReusedAnchorWarning
from ruamel.yaml.scalarbool import ScalarBoolean

# A reused anchor name is legal YAML (the later one wins); don't print it to stderr.
warnings.filterwarnings("ignore", category=ReusedAnchorWarning)

_DOC_START = re.compile(r"(?:[ \t]*(?:#[^\n]*)?\n)*---(?:[ \t]|$)", re.MULTILINE)


def make_yaml(indent: tuple[int, int, int] = (2, 4, 2), explicit_start: bool = False) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never refold long lines
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = explicit_start
    return yaml


def load(text: str) -> Any:
    """Parse one YAML document; errors propagate (the caller turns them into Problems)."""
    return make_yaml().load(text)


def dump(data: Any, indent: tuple[int, int, int], explicit_start: bool) -> str:
    stream = io.StringIO()
    make_yaml(indent, explicit_start).dump(data, stream)
    return stream.getvalue()


def has_explicit_start(text: str) -> bool:
    return _DOC_START.match(text) is not None


def guess_indent(data: Any, text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as ruamel's ``YAML.indent`` takes them, read from
    the first nested block mapping and block sequence in the document."""
    lines = text.split("\n")
    found: dict[str, int] = {}

    def walk(node: Any, depth: int) -> None:
        if depth > 50 or ("mapping" in found and "sequence" in found):
            return
        if isinstance(node, CommentedMap):
            for key, value in node.items():
                try:
                    key_line, key_col = node.lc.key(key)
                except (KeyError, TypeError):
                    continue
                _measure(value, key_line, key_col)
                walk(value, depth + 1)
        elif isinstance(node, CommentedSeq):
            for item in node:
                walk(item, depth + 1)

    def _measure(value: Any, key_line: int, key_col: int) -> None:
        if isinstance(value, CommentedMap) and value and not value.fa.flow_style():
            line, col = value.lc.key(next(iter(value)))
            if line > key_line and col > key_col:
                found.setdefault("mapping", col - key_col)
        elif isinstance(value, CommentedSeq) and value and not value.fa.flow_style():
            position = value.lc.item(0)  # None for a null item under a tag ("!a\n  - ")
            if position is None:
                return
            line, col = position
            if line > key_line and line < len(lines):
                dash = lines[line].rfind("-", 0, col)
                if dash >= key_col and not lines[line][dash + 1 : col].strip():
                    found.setdefault("offset", dash - key_col)
                    found.setdefault("sequence", col - key_col)

    walk(data, 0)
    offset = found.get("offset", 2)
    sequence = max(found.get("sequence", offset + 2), offset + 2)
    mapping = found.get("mapping", max(sequence - offset, 2))
    return mapping, sequence, offset


def merge(original: str, base: str, new: str) -> str | None:
    """Apply the line changes base -> new onto original, where base is ruamel's dump of
    original unchanged. None when a change touches lines that base and original
    disagree on (the caller then uses new as is)."""
    orig = original.splitlines(keepends=True)
    base_lines = base.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    to_orig: dict[int, int] = {len(base_lines): len(orig)}
    for tag, i1, i2, j1, _ in SequenceMatcher(None, base_lines, orig, autojunk=False).get_opcodes():
        if tag == "equal":
            to_orig.update((i1 + k, j1 + k) for k in range(i2 - i1))
    out: list[str] = []
    pos = 0
    ops = SequenceMatcher(None, base_lines, new_lines, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        if i1 < i2:
            if any(i not in to_orig for i in range(i1, i2)):
                return None
            start, end = to_orig[i1], to_orig[i2 - 1] + 1
            if end - start != i2 - i1:
                return None
        elif i1 in to_orig:
            start = end = to_orig[i1]
        elif i1 - 1 in to_orig:
            start = end = to_orig[i1 - 1] + 1
        elif i1 == 0:
            start = end = 0
        else:
            return None
        if start < pos:
            return None
        out.extend(orig[pos:start])
        out.extend(new_lines[j1:j2])
        pos = end
    out.extend(orig[pos:])
    return "".join(out)


def to_plain(node: Any, _memo: dict[int, Any] | None = None) -> Any:
    """ruamel's round-trip types -> plain dict / list / str / int / float / bool / None.
    Dates become ISO strings so the result is JSON-able; shared (aliased) nodes are
    converted once, so an alias bomb costs no more than its source text."""
    memo = {} if _memo is None else _memo
    if id(node) in memo:
        return memo[id(node)]
    if isinstance(node, dict):
        out: Any = {}
        memo[id(node)] = out
        for key, value in node.items():
            out[_plain_key(key)] = to_plain(value, memo)
        return out
    if isinstance(node, (list, tuple)):
        out = []
        memo[id(node)] = out
        out.extend(to_plain(item, memo) for item in node)
        return out
    return plain_scalar(node)


def plain_scalar(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, TaggedScalar):
        return plain_scalar(value.value)
    if isinstance(value, ScalarBoolean):  # an anchored boolean: an int subclass
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _plain_key(key: Any) -> Any:
    # Complex keys (``? [a, b]``) cannot be dict keys in JSON: name them by their text.
    return str(to_plain(key)) if isinstance(key, (tuple, list, dict)) else plain_scalar(key)
