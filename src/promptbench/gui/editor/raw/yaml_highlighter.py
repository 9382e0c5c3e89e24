"""Syntax colours for prompt YAML: keys, strings, comments, numbers and ``{{variables}}``.

A line-by-line highlighter with one bit of state: inside a block scalar (``content: |``)
the indented lines that follow are text, not keys. The block state is the parent's
indent + 1, so the scalar ends at the first non-blank line indented no deeper.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QPalette, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from promptbench.core.prompts.templating import VARIABLE

_KEY = re.compile(r"""^(\s*(?:-\s+)*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\-?:][^#]*?|-[^\s#][^#]*?)(\s*):(?=\s|$)""")
_DASH = re.compile(r"^(\s*)((?:-(?:\s+|$))+)")
_NUMBER = re.compile(r"[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_KEYWORD = re.compile(r"true|false|True|False|TRUE|FALSE|null|Null|NULL|~|yes|no")
_BLOCK_START = re.compile(r"(?:^|\s)[|>][-+0-9]*$")
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?:\s|$)")

# name -> (light colour, dark colour, bold, italic)
_THEME = {
    "key": ("#1f4fa8", "#7fb0ff", False, False),
    "string": ("#2e7d32", "#a5d6a7", False, False),
    "comment": ("#7a7a7a", "#8c8c8c", False, True),
    "number": ("#b35c00", "#ffb86c", False, False),
    "keyword": ("#8e24aa", "#d7a0ff", False, False),
    "punct": ("#7a7a7a", "#9a9a9a", False, False),
    "variable": ("#c2185b", "#ff8ac0", True, False),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


class YamlHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, dark: bool = False):
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.formats = {}
        for name, (light, darkc, bold, italic) in _THEME.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(darkc if dark else light))
            if bold:
                fmt.setFontWeight(QFont.Weight.Bold)
            if italic:
                fmt.setFontItalic(True)
            if name == "variable":
                bg = QColor(darkc if dark else light)
                bg.setAlpha(40)
                fmt.setBackground(bg)
            self.formats[name] = fmt
        self.rehighlight()

    # -- QSyntaxHighlighter ------------------------------------------------------------
    def highlightBlock(self, text: str) -> None:  # noqa: N802 (Qt name)
        indent = len(text) - len(text.lstrip(" "))
        previous = self.previousBlockState()
        if previous > 0:
            parent_indent = previous - 1
            if not text.strip() or indent > parent_indent:
                self._text_run(text, 0, len(text), "string")
                self.setCurrentBlockState(previous)
                return
        self.setCurrentBlockState(-1)
        if _DOC_MARKER.match(text):
            self.setFormat(0, 3, self.formats["punct"])
            return
        comment = _comment_start(text)
        body = text[:comment] if comment is not None else text
        pos = 0
        dash = _DASH.match(body)
        if dash:
            self.setFormat(dash.start(2), len(dash.group(2)), self.formats["punct"])
            pos = dash.end()
        key = _KEY.match(body)
        if key:
            self.setFormat(key.start(2), len(key.group(2)), self.formats["key"])
            self.setFormat(key.end(), 1, self.formats["punct"])
            pos = key.end() + 1
        self._value(body, pos)
        if comment is not None:
            self.setFormat(comment, len(text) - comment, self.formats["comment"])
        if _BLOCK_START.search(body.rstrip()):
            # The scalar's lines must be indented deeper than its key (or list dash).
            parent = len(key.group(1)) if key else (len(dash.group(1)) if dash else indent)
            self.setCurrentBlockState(parent + 1)

    def _value(self, body: str, start: int) -> None:
        value = body[start:].strip()
        if not value:
            return
        begin = body.index(value, start)
        if value[0] in "\"'":
            self._text_run(body, begin, len(value), "string")
        elif value[0] in "[{":
            self._flow(body, begin)
        elif _NUMBER.fullmatch(value):
            self.setFormat(begin, len(value), self.formats["number"])
        elif _KEYWORD.fullmatch(value):
            self.setFormat(begin, len(value), self.formats["keyword"])
        elif re.fullmatch(r"[|>][-+0-9]*", value):
            self.setFormat(begin, len(value), self.formats["punct"])
        else:
            self._text_run(body, begin, len(value), "string")

    def _flow(self, body: str, begin: int) -> None:
        """Flow collections ([a, b], {k: v}): colour quoted parts and numbers inside."""
        for match in re.finditer(r""""(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[-+]?\d+(?:\.\d+)?|[\[\]{},:]""", body[begin:]):
            token, at = match.group(0), begin + match.start()
            kind = "string" if token[0] in "\"'" else "punct" if token in "[]{},:" else "number"
            if kind == "string":
                self._text_run(body, at, len(token), "string")
            else:
                self.setFormat(at, len(token), self.formats[kind])

    def _text_run(self, text: str, start: int, length: int, kind: str) -> None:
        self.setFormat(start, length, self.formats[kind])
        for match in VARIABLE.finditer(text, start, start + length):
            self.setFormat(match.start(), match.end() - match.start(), self.formats["variable"])


def _comment_start(text: str) -> int | None:
    """Index of a ``#`` comment outside quotes (at line start or after whitespace)."""
    quote = None
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\" and quote == '"':
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t:[{,-"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return i
    return None


class VariableHighlighter(QSyntaxHighlighter):
    """Only ``{{variables}}``: for message content edited as plain text."""

    def __init__(self, document: QTextDocument, dark: bool = False):
        super().__init__(document)
        light, darkc, _, _ = _THEME["variable"]
        self.fmt = QTextCharFormat()
        self.fmt.setForeground(QColor(darkc if dark else light))
        self.fmt.setFontWeight(QFont.Weight.Bold)

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        for match in VARIABLE.finditer(text):
            self.setFormat(match.start(), match.end() - match.start(), self.fmt)
