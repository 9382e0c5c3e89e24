"""Rewrite only what changed: the original YAML text with the changed nodes' text replaced.

``patch_text(original, old, new, data, indent)`` walks the original document's nodes
(positions from ``nodes.parse_tree``) alongside the old and new plain values and makes
the smallest text edits that turn one into the other:

- a changed scalar is rewritten where it stands, in its style (a literal or folded
  block keeps its header and every unchanged line, see ``scalars``);
- a new mapping key goes on new lines right after the key that precedes it in the new
  order; a removed key or list item takes exactly its own lines; a list item that moved
  is copied with its text (and comments) as it was;
- own-line comments and blank lines between entries are never touched.

The result is parsed back and must equal ``new``; anything else raises Unpatchable and
the caller uses a coarser strategy.
"""

from __future__ import annotations

import io
import json
import re
import threading
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from promptbench.core.prompts import yamlio
from promptbench.core.prompts.yamledit import scalars
from promptbench.core.prompts.yamledit.nodes import Node, Text, Unpatchable, parse_tree

_DASH_PREFIX = re.compile(r" *- +")
_COMMENT_AFTER = re.compile(r"([ \t]+)#")
FOLD_WIDTH = 80


@dataclass
class _Edit:
    start: int
    end: int
    text: str


class _Replace(Exception):
    """This node cannot be patched inside: its parent rewrites the whole entry or item."""


def same(a: Any, b: Any) -> bool:
    """Equal plain values of equal types (``1``, ``1.0`` and ``True`` differ), key order included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(type(x) is type(y) and x == y and same(a[x], b[y]) for x, y in zip(a, b))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


class Patcher:
    """One original text, patched towards any number of new values (the tree is parsed once)."""

    def __init__(self, original: str, indent: tuple[int, int, int] = (2, 4, 2)):
        self.src = Text(original)
        self.root = parse_tree(self.src)
        self.indent = indent
        self._lock = threading.Lock()  # one patch at a time: the walk keeps its edits on self

    def patch(self, old: Any, new: Any, data: Any) -> str:
        """The original text edited to hold *new* (whose round-trip tree is *data*)."""
        if same(old, new):
            return self.src.text
        with self._lock:
            return self._patch(old, new, data)

    def _patch(self, old: Any, new: Any, data: Any) -> str:
        self._edits: list[_Edit] = []
        self._anchored: dict[str, Any] = {}
        try:
            self._node(self.root, old, new, data, in_flow=False)
        except _Replace:
            raise Unpatchable("the document's top level changed type") from None
        result = self._apply()
        try:
            check = yamlio.to_plain(yamlio.load(result))
        except Exception as exc:  # noqa: BLE001
            raise Unpatchable(f"patched text does not parse: {exc}") from None
        if not same(check, new):
            raise Unpatchable("patched text does not read back as the new value")
        return result

    # -- walking ------------------------------------------------------------------------------
    def _node(self, node: Node, old: Any, new: Any, data: Any, in_flow: bool) -> None:
        if node.kind == "alias":
            if node.anchor in self._anchored:  # the anchored node is being rewritten
                if same(self._anchored[node.anchor], new):
                    return
                raise _Replace  # this alias keeps the old value: write it out
            if same(old, new):
                return
            raise _Replace
        if same(old, new):
            return
        if node.anchor:
            self._anchored[node.anchor] = new
        if node.tagged:
            raise _Replace
        if node.kind == "scalar":
            if isinstance(new, (dict, list)):
                raise _Replace
            self._scalar(node, old, new, in_flow)
        elif node.kind == "map":
            if not isinstance(old, dict) or not isinstance(new, dict) or not isinstance(data, dict):
                raise _Replace
            self._map(node, old, new, data, in_flow)
        else:
            if not isinstance(old, list) or not isinstance(new, list) or not isinstance(data, list):
                raise _Replace
            self._seq(node, old, new, data, in_flow)

    def _try(self, node: Node, old: Any, new: Any, data: Any, in_flow: bool) -> bool:
        """Patch inside *node*; False (with its partial edits undone) if it must be rewritten whole."""
        mark = len(self._edits)
        try:
            self._node(node, old, new, data, in_flow)
            return True
        except _Replace:
            del self._edits[mark:]
            return False

    # -- mappings -----------------------------------------------------------------------------
    def _map(self, node: Node, old: dict, new: dict, data: dict, in_flow: bool) -> None:
        keys = list(old)
        if len(keys) != len(node.items) or any(k.kind == "scalar" and k.style is None and _key_text(self.src, k) == "<<"
                                               for k, _v in node.items):
            raise _Replace  # merge keys: the text's entries are not the value's
        entries = dict(zip(keys, node.items))
        kept_old = [k for k in keys if k in new]
        kept_new = [k for k in new if k in old]
        if kept_old != kept_new:
            raise _Replace  # reordered
        if not new:
            raise _Replace
        if node.flow or in_flow:
            if set(keys) != set(new) or not all(self._try(entries[k][1], old[k], new[k], data[k], True) for k in keys):
                self._replace_flow(node, data)
            return
        for key in kept_old:
            if not self._try(entries[key][1], old[key], new[key], data[key], False):
                start, end, at_line_start = self._entry_span(entries[key])
                self._edits.append(_Edit(start, end, self._render_map([(key, data[key])], node.col, at_line_start)
                                         + ("" if at_line_start else "\n")))
        removed = [k for k in keys if k not in new]
        covered: set[int] = set()
        for index, key in enumerate(keys):
            if key in removed and index not in covered:
                covered.update(self._delete_entry(node, keys, index, removed))
        groups: dict[Any, list] = {}
        anchor = None
        for key in new:
            if key in old:
                anchor = key
            else:
                groups.setdefault(("after", anchor), []).append(key)
        for (_tag, after), added in groups.items():
            pairs = [(k, data[k]) for k in added]
            if after is not None:
                self._insert_after(entries[after][1], self._render_map(pairs, node.col, True))
            else:
                first_key = node.items[0][0]
                if self._at_line_start(first_key.start):
                    at = self.src.starts[first_key.line]
                    self._edits.append(_Edit(at, at, self._render_map(pairs, node.col, True)))
                else:
                    text = self._render_map(pairs, node.col, False)
                    self._edits.append(_Edit(first_key.start, first_key.start, text + "\n" + " " * node.col))

    def _entry_span(self, entry: tuple[Node, Node]) -> tuple[int, int, bool]:
        """(start, end, starts at a line start) of a block mapping entry's text."""
        key, value = entry
        return (*self._span(key.start, value), self._at_line_start(key.start))

    def _delete_entry(self, node: Node, keys: list, index: int, removed: list) -> range:
        """Delete entry *index*; returns the indexes of the entries the deletion covered."""
        key, value = node.items[index]
        start, end = self._span(key.start, value)
        if self._at_line_start(key.start):
            self._edits.append(_Edit(start, end, ""))
            return range(index, index + 1)
        # The first key of a list item shares the dash's line: the next kept key moves up.
        following = next((i for i in range(index + 1, len(keys)) if keys[i] not in removed), None)
        if following is None:
            raise _Replace
        self._edits.append(_Edit(key.start, node.items[following][0].start, ""))
        return range(index, following)

    # -- sequences ------------------------------------------------------------------------------
    def _seq(self, node: Node, old: list, new: list, data: list, in_flow: bool) -> None:
        if node.flow or in_flow:
            if len(old) != len(new) or not all(self._try(n, o, v, d, True)
                                               for n, o, v, d in zip(node.items, old, new, data)):
                self._replace_flow(node, data)
            return
        if not new or len(old) != len(node.items):
            raise _Replace
        old_keys = [_fingerprint(v) for v in old]
        new_keys = [_fingerprint(v) for v in new]
        ops = SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
        gone: dict[str, list[int]] = {}
        for tag, i1, i2, j1, j2 in ops:
            if tag == "delete" or (tag == "replace" and i2 - i1 > j2 - j1):
                first = i1 if tag == "delete" else i1 + (j2 - j1)
                for i in range(first, i2):
                    gone.setdefault(old_keys[i], []).append(i)
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for k in range(paired):
                if not self._try(node.items[i1 + k], old[i1 + k], new[j1 + k], data[j1 + k], False):
                    start, end = self._item_span(node, i1 + k)
                    self._edits.append(_Edit(start, end, self._render_seq([data[j1 + k]], node.col)))
            for i in range(i1 + paired, i2):
                self._edits.append(_Edit(*self._item_span(node, i), ""))
            if j1 + paired < j2:
                texts = []
                for j in range(j1 + paired, j2):
                    moved = gone.get(new_keys[j])
                    if moved:
                        start, end = self._item_span(node, moved.pop(0))
                        texts.append(self.src.text[start:end] if self.src.text[start:end].endswith("\n")
                                     else self.src.text[start:end] + "\n")
                    else:
                        texts.append(self._render_seq([data[j]], node.col))
                at = i1 + paired
                if at > 0:
                    self._insert_after(node.items[at - 1], "".join(texts))
                else:
                    line_start = self.src.starts[node.items[0].line]
                    self._edits.append(_Edit(line_start, line_start, "".join(texts)))

    def _item_span(self, node: Node, index: int) -> tuple[int, int]:
        item = node.items[index]
        line_start = self.src.starts[item.line] if item.kind != "alias" else self.src.starts[self.src.line_of(item.start)]
        prefix = self.src.text[line_start:item.start]
        if not _DASH_PREFIX.fullmatch(prefix):
            raise Unpatchable("a list item that does not start on its dash's line")
        return self._span(line_start, item)

    # -- scalars --------------------------------------------------------------------------------
    def _scalar(self, node: Node, old: Any, new: Any, in_flow: bool) -> None:
        text = self.src.text
        if node.block is not None and isinstance(new, str) and not in_flow:
            self._block(node, old if isinstance(old, str) else None, new)
            return
        one = scalars.inline(new, node.style if node.style in ("'", '"') else None, in_flow)
        if one is not None:
            if node.block is not None:
                tail = text[node.block.header_end:self._line_end_no_break(node.block.header_line)]
                self._edits.append(_Edit(node.value_start, node.end, one + tail))
                return
            if node.value_start == node.end and text[node.value_start - 1:node.value_start] == ":":
                one = " " + one  # "key:" with no value
            end = node.end
            comment = _COMMENT_AFTER.match(text, end)
            if comment and self.src.line_of(node.value_start) == self.src.line_of(end):
                # keep a comment after the value in its column when there is room
                gap = len(comment.group(1)) - (len(one) - (end - node.value_start))
                one += " " * max(1, gap)
                end = comment.end(1)
            self._edits.append(_Edit(node.value_start, end, one))
            return
        # A multi-line text where a one-line scalar stood: a literal block, never a quoted line.
        indent = max(node.parent_indent, 0) + max(self.indent[0], 1)
        chomp, blank = scalars.chomp_for(new)
        lines = scalars.literal_lines(new, indent, [], None)
        header = "|" + self._indent_indicator(lines, indent, node.parent_indent) + chomp
        end_line = self.src.line_of(node.end)
        tail = text[node.end:self._line_end_no_break(end_line)]
        if tail.strip() and not tail.strip().startswith("#"):
            raise Unpatchable("text after a scalar")
        body = header + tail + "".join("\n" + line for line in lines + [""] * blank)
        end = self._line_end_no_break(end_line)
        if end == len(text) and new.endswith("\n") and not text.endswith("\n"):
            body += "\n"  # the value's final newline needs the file's
        self._check_block(node, body, new, end)
        self._edits.append(_Edit(node.value_start, end, body))

    def _block(self, node: Node, old: str | None, new: str) -> None:
        block = node.block
        src = self.src
        raw = [src.line(i) for i in range(block.first, block.content_last + 1)]
        chomp, blank = scalars.chomp_for(new)
        last = block.trail_last if chomp == "+" else block.last
        end = src.starts[last] + len(src.line(last)) if last >= block.first else self._line_end_no_break(block.header_line)
        tail = src.text[block.header_end:self._line_end_no_break(block.header_line)]
        original_header = src.text[node.value_start:block.header_end]
        attempts = []
        if block.indicator == ">":
            folded = scalars.folded_lines(new, block.indent, raw, old, max(FOLD_WIDTH, *(len(r) for r in raw), 0))
            if folded is not None:
                attempts.append((">", folded, raw))
        attempts.append(("|", scalars.literal_lines(new, block.indent, raw if block.indicator == "|" else [], old), raw))
        for indicator, lines, _raw in attempts:
            for use_chomp in dict.fromkeys([block.chomp if blank == 0 else chomp, chomp]):
                explicit = str(block.explicit_indent) if block.explicit_indent is not None else \
                    self._indent_indicator(lines, block.indent, node.parent_indent)
                header = indicator + explicit + use_chomp
                if indicator == block.indicator and use_chomp == block.chomp and explicit == (
                        str(block.explicit_indent) if block.explicit_indent is not None else ""):
                    header = original_header
                body = header + tail + "".join("\n" + line for line in lines + [""] * (blank if use_chomp == "+" else 0))
                if end == len(src.text) and new.endswith("\n") and not src.text.endswith("\n"):
                    body += "\n"  # the value's final newline needs the file's
                if self._check_block(node, body, new, end, raise_=False):
                    self._edits.append(_Edit(node.value_start, end, body))
                    return
        raise Unpatchable("no block form reads back as the new text")

    def _indent_indicator(self, lines: list[str], indent: int, parent_indent: int) -> str:
        # Needed when the first line that is not empty starts with a space (even a line of
        # spaces only): YAML would otherwise take that space as indentation.
        first = next((line for line in lines if len(line) > indent), "")
        if first[indent:indent + 1] != " ":
            return ""
        step = indent - max(parent_indent, 0)
        if not 1 <= step <= 9:
            raise Unpatchable("indentation indicator out of range")
        return str(step)

    def _check_block(self, node: Node, body: str, new: str, end: int, raise_: bool = True) -> bool:
        at_eof = end == len(self.src.text)
        snippet = " " * max(node.parent_indent, 0) + "k: " + body + ("" if at_eof else "\n")
        ok = scalars.reads_back(snippet, new)
        if not ok and raise_:
            raise Unpatchable("block does not read back")
        return ok

    # -- rendering new text ------------------------------------------------------------------------
    def _render_map(self, pairs: list, col: int, indent_first: bool) -> str:
        text = _dump(CommentedMap((k, _without_comments(v)) for k, v in pairs), self.indent)
        lines = text.rstrip("\n").split("\n")
        out = [(" " * col + line if line and (i or indent_first) else line) for i, line in enumerate(lines)]
        return "\n".join(out) + ("\n" if indent_first else "")

    def _render_seq(self, items: list, dash_col: int) -> str:
        text = _dump(CommentedSeq(_without_comments(v) for v in items), self.indent)
        lines = text.rstrip("\n").split("\n")
        shift = dash_col - (len(lines[0]) - len(lines[0].lstrip(" ")))
        if shift < 0 and any(line[:-shift].strip(" ") for line in lines if line):
            raise Unpatchable("cannot indent a new list item")
        return "".join((" " * shift + line if shift >= 0 else line[-shift:]) + "\n" if line else "\n" for line in lines)

    def _replace_flow(self, node: Node, data: Any) -> None:
        plain = _without_comments(data)
        if isinstance(plain, (CommentedMap, CommentedSeq)):
            plain.fa.set_flow_style()
        text = _dump(CommentedMap([("k", plain)]), self.indent)
        if not text.startswith("k: ") or text.count("\n") != 1:
            raise Unpatchable("flow collection does not fit on one line")
        self._edits.append(_Edit(node.value_start, node.end, text[3:-1]))

    # -- text positions ------------------------------------------------------------------------------
    def _at_line_start(self, index: int) -> bool:
        line = self.src.line_of(index)
        return not self.src.text[self.src.starts[line]:index].strip(" ")

    def _line_end_no_break(self, line: int) -> int:
        return self.src.starts[line] + len(self.src.line(line))

    def _span(self, start: int, node: Node) -> tuple[int, int]:
        """From *start* to the end of *node*'s last line (its line break included), if only
        spaces or a comment follow *node* on that line."""
        line_end = self._line_end_no_break(node.last_line)
        rest = self.src.text[node.end:line_end] if node.end <= line_end else ""
        if rest.strip() and not rest.lstrip().startswith("#"):
            raise Unpatchable("something follows the node on its line")
        if self._at_line_start(start):
            start = self.src.starts[self.src.line_of(start)]
        return start, self.src.line_end(node.last_line)

    def _insert_after(self, node: Node, text: str) -> None:
        """Insert whole lines after *node*'s last line."""
        at = self.src.line_end(node.last_line)
        if at == len(self.src.text) and not self.src.text.endswith("\n"):
            text = "\n" + text[:-1] if text.endswith("\n") else "\n" + text
        self._edits.append(_Edit(at, at, text))

    def _apply(self) -> str:
        merged: list[_Edit] = []
        for edit in sorted(self._edits, key=lambda e: (e.start, e.end)):
            if merged and edit.start == edit.end == merged[-1].start == merged[-1].end:
                merged[-1] = _Edit(edit.start, edit.end, merged[-1].text + edit.text)  # two insertions at one place
            elif merged and edit.start < merged[-1].end:
                raise Unpatchable("overlapping edits")
            else:
                merged.append(edit)
        text = self.src.text
        for edit in reversed(merged):
            text = text[:edit.start] + edit.text + text[edit.end:]
        return text


def _key_text(src: Text, node: Node) -> str:
    return src.text[node.value_start:node.end]


def _fingerprint(value: Any) -> str:
    return json.dumps(_typed(value), sort_keys=False, ensure_ascii=False)


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return ["map", [[_typed(k), _typed(v)] for k, v in value.items()]]
    if isinstance(value, list):
        return ["seq", [_typed(v) for v in value]]
    return [type(value).__name__, value if isinstance(value, (str, int, bool)) or value is None else repr(value)]


def _without_comments(node: Any) -> Any:
    """A copy of a round-trip tree without its comments (they stay where they are in the
    text); scalars keep their style, collections their flow style."""
    if isinstance(node, dict):
        out = CommentedMap((k, _without_comments(v)) for k, v in node.items())
        if isinstance(node, CommentedMap) and node.fa.flow_style():
            out.fa.set_flow_style()
        return out
    if isinstance(node, list):
        out = CommentedSeq(_without_comments(v) for v in node)
        if isinstance(node, CommentedSeq) and node.fa.flow_style():
            out.fa.set_flow_style()
        return out
    return node


def _dump(data: Any, indent: tuple[int, int, int]) -> str:
    stream = io.StringIO()
    yamlio.make_yaml(indent).dump(data, stream)
    return stream.getvalue()


def patch_text(original: str, old: Any, new: Any, data: Any, indent: tuple[int, int, int] = (2, 4, 2)) -> str:
    """*original* edited to hold *new*; raises Unpatchable when it cannot be done exactly."""
    return Patcher(original, indent).patch(old, new, data)
