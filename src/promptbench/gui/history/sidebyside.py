"""Line alignment for the side-by-side diff: plain Python, computed in a task.

``align_lines`` pairs the lines of two texts into rows (left line, right line), with a
gap on one side where the other has extra lines, so both panes have the same number of
rows and scroll together. Paired changed lines carry intra-line spans (character ranges
that differ) for a stronger highlight.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

Span = tuple[int, int]
_MAX_INTRALINE = 2000  # char-level matching is quadratic: skip it for very long lines
_MIN_SIMILARITY = 0.35  # below this, lines are "rewritten": highlight the whole line only


@dataclass(frozen=True)
class DiffRow:
    kind: str                  # equal, replace, delete, insert
    left_no: int | None        # 1-based line number in the old text; None for a gap
    left: str | None
    right_no: int | None
    right: str | None
    left_spans: tuple[Span, ...] = ()
    right_spans: tuple[Span, ...] = ()


def intraline_spans(old: str, new: str) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
    """Character ranges that differ between two paired lines (empty when too different)."""
    if len(old) > _MAX_INTRALINE or len(new) > _MAX_INTRALINE:
        return (), ()
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < _MIN_SIMILARITY:
        return (), ()
    left: list[Span] = []
    right: list[Span] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            left.append((i1, i2))
        if j2 > j1:
            right.append((j1, j2))
    return tuple(left), tuple(right)


def align_lines(old: str, new: str) -> list[DiffRow]:
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]) for k in range(i2 - i1))
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            left_spans, right_spans = intraline_spans(a[i1 + k], b[j1 + k])
            rows.append(DiffRow("replace", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k], left_spans, right_spans))
        rows.extend(DiffRow("delete", i + 1, a[i], None, None) for i in range(i1 + paired, i2))
        rows.extend(DiffRow("insert", None, None, j + 1, b[j]) for j in range(j1 + paired, j2))
    return rows


def changed_lines(rows: list[DiffRow]) -> tuple[list[str], list[str]]:
    """The old lines removed or changed, and the new lines added or changed."""
    left = [r.left for r in rows if r.kind != "equal" and r.left is not None]
    right = [r.right for r in rows if r.kind != "equal" and r.right is not None]
    return left, right
