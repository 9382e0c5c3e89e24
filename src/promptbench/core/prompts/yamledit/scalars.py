"""Writing one scalar value as YAML text in a given style.

``inline`` gives a one-line form (plain, single- or double-quoted); ``block_content``
gives the lines of a literal (``|``) or folded (``>``) block, reusing the original
lines wherever the value's lines did not change, so a changed word is a changed line.
Every form is checked by parsing it back (``reads_back``) before it is used.
"""

from __future__ import annotations

import functools
import math
import re
from difflib import SequenceMatcher
from typing import Any

from promptbench.core.prompts import yamlio

_PLAIN_FIRST = set("-?:,[]{}#&*!|>'\"%@`")
_FLOW_CHARS = set(",[]{}")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0", "\x07": "\\a", "\b": "\\b",
            "\x0b": "\\v", "\x0c": "\\f", "\x1b": "\\e", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


_NOT_PRINTABLE = re.compile("[^\n\t -~\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]")
_ASCII_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> bool:
    """Only characters YAML can hold unescaped (line breaks other than \\n excluded)."""
    if text.isascii():  # the common case, 10x faster than the full class on a big prompt
        return _ASCII_CONTROL.search(text) is None
    return _NOT_PRINTABLE.search(text) is None


def double_quoted(text: str) -> str:
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif printable(c):
            out.append(c)
        elif ord(c) <= 0xFF:
            out.append(f"\\x{ord(c):02x}")
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def single_quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def inline(value: Any, style: str | None, in_flow: bool) -> str | None:
    """*value* on one line, in *style* where it can be; None for a multi-line string
    outside a flow collection (that needs a block)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    text = str(value)
    if "\n" in text and not in_flow:
        return None
    if "\n" in text or not printable(text) or style == '"':
        return double_quoted(text)
    if style == "'":
        return single_quoted(text)
    if _plain_ok(text, in_flow):
        return text
    return single_quoted(text) if "'" not in text else double_quoted(text)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _plain_ok(text: str, in_flow: bool) -> bool:
    if not text or text != text.strip() or text[0] in _PLAIN_FIRST or ": " in text or " #" in text or text.endswith(":"):
        return False
    if "\t" in text or (in_flow and _FLOW_CHARS & set(text)):
        return False
    return _reads_as_plain_string(text)


@functools.lru_cache(maxsize=512)
def _reads_as_plain_string(text: str) -> bool:
    try:
        value = yamlio.load(f"k: {text}\n")["k"]
    except Exception:  # noqa: BLE001
        return False
    return type(yamlio.plain_scalar(value)) is str and value == text


def reads_back(snippet: str, expected: Any) -> bool:
    """True if ``snippet`` (a one-key mapping document) parses to ``{k: expected}``."""
    try:
        data = yamlio.to_plain(yamlio.load(snippet))
    except Exception:  # noqa: BLE001
        return False
    if not isinstance(data, dict) or len(data) != 1:
        return False
    got = next(iter(data.values()))
    return type(got) is type(expected) and got == expected


# -- blocks -----------------------------------------------------------------------------------
def chomp_for(value: str) -> tuple[str, int]:
    """(chomping indicator, blank lines after the content) that give *value*'s trailing newlines."""
    body = value.rstrip("\n")
    trailing = len(value) - len(body)
    if not body:
        return ("+", trailing) if trailing else ("-", 0)  # only newlines: empty lines under "|+"
    if trailing == 0:
        return "-", 0
    if trailing == 1:
        return "", 0
    return "+", trailing - 1


def literal_lines(value: str, indent: int, old_raw: list[str], old_value: str | None) -> list[str]:
    """Content lines of a literal block holding *value* (without its trailing newlines);
    lines whose text did not change are the original lines, byte for byte."""
    body = value.rstrip("\n")
    new = body.split("\n") if body else []
    old = _decode_literal(old_raw, indent, old_value)
    if old is None:
        return [_indented(line, indent) for line in new]
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out.extend(old_raw[i1:i2])
        else:
            out.extend(_indented(line, indent) for line in new[j1:j2])
    return out


def _decode_literal(raw: list[str], indent: int, value: str | None) -> list[str] | None:
    if value is None:
        return None
    decoded = [line[indent:] if len(line) > indent else "" for line in raw]
    if any(line[:indent].strip(" ") for line in raw):
        return None
    return decoded if "\n".join(decoded).rstrip("\n") == value.rstrip("\n") else None


def _indented(line: str, indent: int) -> str:
    return " " * indent + line if line else ""


_SPACE = re.compile(r"(?<=[^ \t]) (?=[^ \t])")


def folded_lines(value: str, indent: int, old_raw: list[str], old_value: str | None, width: int) -> list[str] | None:
    """Content lines of a folded block holding *value*, keeping the original line breaks
    inside paragraphs where the text around them is unchanged; None when *value* cannot
    be folded simply (a line starting with a space or tab: "more indented" text)."""
    body = value.rstrip("\n")
    items = body.split("\n") if body else []
    if any(item[:1] in (" ", "\t") for item in items):
        return None
    old = _decode_folded(old_raw, indent, old_value) or []
    old_texts = [" ".join(lines) for _sep, lines, _raw in old]
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old_texts, items, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i1, i2):
                separator, _lines, raw_lines = old[k]
                if j1 + k - i1 > 0:  # a paragraph after the first follows one empty line
                    out.append(separator if separator is not None else "")
                out.extend(raw_lines)
            continue
        for offset, j in enumerate(range(j1, j2)):
            if j > 0:
                out.append("")
            if items[j]:
                partner = old[i1 + offset][1] if tag == "replace" and i1 + offset < i2 else None
                out.extend(_indented(line, indent) for line in _refold(items[j], partner, width))
    return out


def _decode_folded(raw: list[str], indent: int, value: str | None) -> list | None:
    """Paragraphs of a simple folded block: [(separator raw line or None, [line texts], [raw lines])]."""
    if value is None or any(line[:indent].strip(" ") for line in raw):
        return None
    paragraphs: list = []
    current: list[str] = []
    current_raw: list[str] = []
    separator: str | None = None
    for line in raw:
        text = line[indent:] if len(line) > indent else ""
        if text[:1] in (" ", "\t"):
            return None
        if text == "":
            paragraphs.append((separator, current, current_raw))
            current, current_raw, separator = [], [], line
        else:
            current.append(text)
            current_raw.append(line)
    paragraphs.append((separator, current, current_raw))
    if not raw:
        paragraphs = []
    decoded = "\n".join(" ".join(lines) for _s, lines, _r in paragraphs)
    return paragraphs if decoded == value.rstrip("\n") else None


def _refold(text: str, old_lines: list[str] | None, width: int) -> list[str]:
    """*text* split into lines at the original breaks that survive the edit, long lines wrapped."""
    breaks: list[int] = []
    if old_lines:
        old_text = " ".join(old_lines)
        positions, pos = [], -1
        for line in old_lines[:-1]:
            pos += len(line) + 1
            positions.append(pos)
        ops = SequenceMatcher(None, old_text, text, autojunk=False).get_opcodes()
        for b in positions:
            for tag, i1, i2, j1, _j2 in ops:
                if tag == "equal" and i1 <= b < i2:
                    new_b = b - i1 + j1
                    if 0 < new_b < len(text) - 1 and text[new_b] == " " and text[new_b - 1] not in " \t" \
                            and text[new_b + 1] not in " \t":
                        breaks.append(new_b)
                    break
    lines, start = [], 0
    for b in sorted(set(breaks)):
        lines.append(text[start:b])
        start = b + 1
    lines.append(text[start:])
    old_set = set(old_lines or ())
    out: list[str] = []
    for line in lines:
        out.extend([line] if line in old_set or len(line) <= width else _wrap(line, width))
    return out


def _wrap(line: str, width: int) -> list[str]:
    """Greedy wrap at single spaces between words (a fold there reads back as that space)."""
    out, start, candidate = [], 0, None
    for match in _SPACE.finditer(line):
        cut = match.start()
        if cut - start > width and candidate is not None:
            out.append(line[start:candidate])
            start = candidate + 1
        candidate = cut
    if len(line) - start > width and candidate is not None and candidate > start:
        out.append(line[start:candidate])
        start = candidate + 1
    out.append(line[start:])
    return out
