"""Where each node of a YAML document sits in its text.

ruamel's round-trip tree knows a node's value and style but not where its text ends,
and an alias in it is the anchored node itself. This tree is built from ruamel's parse
events instead, so every node (aliases included) has its own start and end in the
text, its style, and for block scalars the lines that hold their content.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from ruamel.yaml.events import (AliasEvent, DocumentStartEvent, MappingEndEvent, MappingStartEvent, ScalarEvent,
                                SequenceEndEvent, SequenceStartEvent)

from promptbench.core.prompts import yamlio


class Unpatchable(Exception):
    """The text cannot be edited in place; the caller falls back to a coarser strategy."""


@dataclass
class Block:
    """A block scalar's layout: the header line and the lines of its content."""

    header_line: int
    indicator: str          # "|" or ">"
    chomp: str              # "", "-" or "+"
    explicit_indent: int | None
    header_end: int         # index just after the indicator characters (a comment may follow)
    indent: int             # columns of indentation of the content
    first: int              # first content line
    content_last: int       # last line with content (inclusive); first - 1 when there is none
    last: int               # last line of the value: content_last, or with "+" its trailing empty lines
    trail_last: int         # last of the empty lines that follow the content (part of the value only with "+")


@dataclass
class Node:
    kind: str               # "map", "seq", "scalar" or "alias"
    start: int              # first character, anchor and tag included
    value_start: int        # first character after the anchor and tag
    end: int                # just after the last character of content (never a trailing comment)
    last_line: int          # the line holding the last character of content (or a block's last line)
    line: int
    col: int
    parent_indent: int      # indentation of the enclosing block collection (-1 at the top)
    style: str | None = None
    flow: bool = False
    anchor: str | None = None
    tagged: bool = False
    block: Block | None = None
    items: list = field(default_factory=list)  # map: [(key Node, value Node)]; seq: [Node]


class Text:
    """The document text with its line starts."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        self.starts.extend(i + 1 for i, c in enumerate(text) if c == "\n")

    def line_of(self, index: int) -> int:
        return bisect_right(self.starts, index) - 1

    def line(self, number: int) -> str:
        """Line *number* without its line break."""
        start = self.starts[number]
        end = self.starts[number + 1] - 1 if number + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]

    def line_end(self, number: int) -> int:
        """Index just after line *number*'s line break (or the end of the text)."""
        return self.starts[number + 1] if number + 1 < len(self.starts) else len(self.text)

    @property
    def line_count(self) -> int:
        return len(self.starts)


def parse_tree(text: Text) -> Node:
    """The document's root node; raises Unpatchable for anything but one document."""
    try:
        events = iter(yamlio.make_yaml().parse(text.text))
        for event in events:
            if isinstance(event, DocumentStartEvent):
                return _build(next(events), events, text, -1)
    except RecursionError:
        raise Unpatchable("nesting too deep") from None
    except Exception as exc:  # noqa: BLE001 - an unparsable text cannot be patched
        raise Unpatchable(f"cannot parse: {exc}") from None
    raise Unpatchable("no document")


def _build(event, events, text: Text, parent_indent: int) -> Node:
    start = event.start_mark.index
    anchor = getattr(event, "anchor", None)
    value_start = start if isinstance(event, AliasEvent) else _skip_properties(text.text, start)
    tagged = "!" in text.text[start:value_start]
    line, col = text.line_of(value_start), value_start - text.starts[text.line_of(value_start)]
    if isinstance(event, AliasEvent):
        end = event.end_mark.index
        return Node("alias", start, start, end, text.line_of(max(end - 1, start)), line, col, parent_indent, anchor=anchor)
    if isinstance(event, ScalarEvent):
        end = event.end_mark.index
        node = Node("scalar", start, value_start, end, text.line_of(max(end - 1, value_start)), line, col, parent_indent,
                    style=event.style, anchor=anchor, tagged=tagged)
        if event.style in ("|", ">"):
            node.block = _block_layout(text, value_start, event.end_mark, parent_indent)
            last = node.block.last
            node.end = text.starts[last] + len(text.line(last)) if last >= node.block.first else node.block.header_end
            node.last_line = last if last >= node.block.first else node.block.header_line
        return node
    if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
        is_map = isinstance(event, MappingStartEvent)
        flow = bool(event.flow_style)
        node = Node("map" if is_map else "seq", start, value_start, start, line, line, col, parent_indent,
                    flow=flow, anchor=anchor, tagged=tagged)
        child_indent = parent_indent if flow else col
        end_type = MappingEndEvent if is_map else SequenceEndEvent
        while True:
            child = next(events)
            if isinstance(child, end_type):
                if flow:
                    node.end = child.end_mark.index
                    node.last_line = text.line_of(max(node.end - 1, start))
                else:
                    last = _last_child(node)
                    node.end, node.last_line = (last.end, last.last_line) if last else (start, line)
                return node
            if is_map:
                key = _build(child, events, text, child_indent)
                node.items.append((key, _build(next(events), events, text, child_indent)))
            else:
                node.items.append(_build(child, events, text, child_indent))
    raise Unpatchable(f"unexpected {type(event).__name__}")


def _last_child(node: Node) -> Node | None:
    if not node.items:
        return None
    last = node.items[-1]
    return last[1] if isinstance(last, tuple) else last


def _skip_properties(text: str, index: int) -> int:
    """Index of the value after an anchor (``&a``) and/or tag (``!!str``), spaces included."""
    while index < len(text) and text[index] in "&!":
        while index < len(text) and text[index] not in " \t\n":
            index += 1
        while index < len(text) and text[index] in " \t\n":
            index += 1
    return index


def _block_layout(text: Text, value_start: int, end_mark, parent_indent: int) -> Block:
    header_line = text.line_of(value_start)
    header = text.text[value_start:text.starts[header_line] + len(text.line(header_line))]
    indicator, chomp, explicit = header[0], "", None
    pos = 1
    while pos < len(header) and header[pos] in "+-0123456789":
        if header[pos] in "+-":
            chomp = header[pos]
        else:
            explicit = int(header[pos])
        pos += 1
    # The content runs to end_mark's line; ruamel puts end_mark after the trailing line
    # breaks and any spaces of the next line's indentation.
    end_line = end_mark.line
    at_end = end_mark.index == len(text.text) and not text.text.endswith("\n")
    if (at_end or text.text[text.starts[end_line]:end_mark.index].strip(" ")) and end_line < text.line_count:
        end_line += 1  # the text ends on a line of the block without a line break
    first = header_line + 1
    lines = [text.line(i) for i in range(first, min(end_line, text.line_count))]
    minimum = max(parent_indent + 1, 1)
    if explicit is not None:
        indent = max(parent_indent, 0) + explicit
    else:
        indent = minimum
        for raw in lines:
            if raw.strip(" "):
                indent = max(minimum, len(raw) - len(raw.lstrip(" ")))
                break
            indent = max(indent, len(raw))
    trail_last = first + len(lines) - 1
    content_last = trail_last
    while content_last >= first and not _is_content(text.line(content_last), indent):
        content_last -= 1
    last = trail_last if chomp == "+" else content_last
    return Block(header_line, indicator, chomp, explicit, value_start + pos, indent, first, content_last, last, trail_last)


def _is_content(line: str, indent: int) -> bool:
    """A line that holds block scalar content (not an empty or trailing line)."""
    return bool(line.strip(" ")) or len(line) > indent
