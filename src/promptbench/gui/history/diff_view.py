"""Side-by-side diff: old text on the left, new on the right, line-aligned.

Rows come from ``sidebyside.align_lines`` (computed in a task). Each pane is a
read-only QPlainTextEdit whose block backgrounds mark removed, added and changed lines,
with character highlights inside changed lines and hatched gaps where only the other
side has a line. Both panes have the same number of rows, so their scroll bars are
simply tied together.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QFontDatabase, QPainter, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy, QSplitter, QStackedWidget, QVBoxLayout,
                               QWidget)

from promptbench.gui.history.sidebyside import DiffRow, changed_lines
from promptbench.gui.history.theme import DiffColors, diff_colors

_SIDE_KINDS = {"left": ("replace", "delete"), "right": ("replace", "insert")}


class _Gutter(QWidget):
    def __init__(self, pane: "DiffPane"):
        super().__init__(pane)
        self.pane = pane

    def sizeHint(self) -> QSize:
        return QSize(self.pane.gutter_width(), 0)

    def paintEvent(self, event) -> None:
        self.pane.paint_gutter(event.rect())


class DiffPane(QPlainTextEdit):
    """One side of the diff, with a gutter of original line numbers (blank for gaps)."""

    def __init__(self, side: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.side = side
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._numbers: list[int | None] = []
        self._marks: list[str] = []
        self._gutter = _Gutter(self)
        self.updateRequest.connect(self._on_update_request)
        self._update_margins()

    # -- content ---------------------------------------------------------------------------
    def show_rows(self, rows: list[DiffRow], colors: DiffColors) -> None:
        left = self.side == "left"
        self._numbers = [r.left_no if left else r.right_no for r in rows]
        self._marks = []
        self.clear()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        plain, strong = QTextCharFormat(), QTextCharFormat()
        strong.setBackground(colors.removed_strong if left else colors.added_strong)
        for index, row in enumerate(rows):
            text = row.left if left else row.right
            spans = row.left_spans if left else row.right_spans
            block = QTextBlockFormat()
            if text is None:
                block.setBackground(QBrush(colors.gap, Qt.BrushStyle.BDiagPattern))
                mark = ""
            elif row.kind in _SIDE_KINDS[self.side]:
                block.setBackground(colors.removed if left else colors.added)
                mark = "−" if left else "+"
            else:
                mark = ""
            self._marks.append(mark)
            if index:
                cursor.insertBlock(block, plain)
            else:
                cursor.setBlockFormat(block)
            _insert_with_spans(cursor, text or "", spans, plain, strong)
        cursor.endEditBlock()
        self._update_margins()
        self._gutter.update()

    def numbers(self) -> list[int | None]:
        return list(self._numbers)

    # -- gutter ----------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = len(str(max((n for n in self._numbers if n), default=1)))
        return self.fontMetrics().horizontalAdvance("9") * (max(digits, 2) + 3) + 6

    def _update_margins(self) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, rect: QRect) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        painter.fillRect(rect, palette.color(palette.ColorRole.AlternateBase))
        colors = diff_colors(palette)
        painter.setPen(colors.gutter_text)
        digit = self.fontMetrics().horizontalAdvance("9")
        width = self._gutter.width()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        while block.isValid() and top <= rect.bottom():
            height = round(self.blockBoundingRect(block).height())
            index = block.blockNumber()
            if block.isVisible() and top + height >= rect.top() and index < len(self._numbers):
                number = self._numbers[index]
                if number is not None:
                    painter.drawText(0, top, width - digit * 2 - 4, height, Qt.AlignmentFlag.AlignRight, str(number))
                if self._marks[index]:
                    painter.drawText(width - digit * 2, top, digit * 2, height, Qt.AlignmentFlag.AlignCenter, self._marks[index])
            block = block.next()
            top += height
        painter.end()


def _insert_with_spans(cursor: QTextCursor, text: str, spans, plain: QTextCharFormat, strong: QTextCharFormat) -> None:
    pos = 0
    for start, end in spans:
        if start > pos:
            cursor.insertText(text[pos:start], plain)
        cursor.insertText(text[start:end], strong)
        pos = end
    if pos < len(text):
        cursor.insertText(text[pos:], plain)


class SideBySideDiffView(QWidget):
    """Two aligned panes with titles; scrolling one scrolls the other."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.left_pane, self.right_pane = DiffPane("left"), DiffPane("right")
        self.left_title, self.right_title = QLabel(), QLabel()
        for title in (self.left_title, self.right_title):
            title.setTextFormat(Qt.TextFormat.PlainText)
            title.setContentsMargins(4, 2, 4, 2)
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._rows: list[DiffRow] = []
        self._syncing = False
        self._link(self.left_pane, self.right_pane)

        columns = QSplitter(Qt.Orientation.Horizontal)
        for title, pane in ((self.left_title, self.left_pane), (self.right_title, self.right_pane)):
            column = QWidget()
            layout = QVBoxLayout(column)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(2)
            layout.addWidget(title)
            layout.addWidget(pane, 1)
            columns.addWidget(column)
        columns.setChildrenCollapsible(False)
        self.placeholder = QLabel("Select a version to see what changed.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setEnabled(False)
        self._stack = QStackedWidget()
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(columns)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)

    def _link(self, a: DiffPane, b: DiffPane) -> None:
        for source, target in ((a, b), (b, a)):
            source.verticalScrollBar().valueChanged.connect(lambda v, t=target: self._sync(t.verticalScrollBar(), v))
            source.horizontalScrollBar().valueChanged.connect(lambda v, t=target: self._sync(t.horizontalScrollBar(), v))

    def _sync(self, bar, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            bar.setValue(value)
        finally:
            self._syncing = False

    # -- content ---------------------------------------------------------------------------
    def set_diff(self, rows: list[DiffRow], left_title: str, right_title: str) -> None:
        self._rows = rows
        self.left_title.setText(left_title)
        self.right_title.setText(right_title)
        self.left_title.setToolTip(left_title)
        self.right_title.setToolTip(right_title)
        self._render()
        self._stack.setCurrentIndex(1)
        self.scroll_to_first_change()

    def show_message(self, text: str) -> None:
        self._rows = []
        self.placeholder.setText(text)
        self._stack.setCurrentIndex(0)

    def message(self) -> str | None:
        return self.placeholder.text() if self._stack.currentIndex() == 0 else None

    def rows(self) -> list[DiffRow]:
        return list(self._rows)

    def changed_lines(self) -> tuple[list[str], list[str]]:
        return changed_lines(self._rows)

    def scroll_to_first_change(self) -> None:
        first = next((i for i, r in enumerate(self._rows) if r.kind != "equal"), None)
        if first is None:
            return
        block = self.left_pane.document().findBlockByNumber(max(first - 3, 0))
        self.left_pane.verticalScrollBar().setValue(block.firstLineNumber())

    def _render(self) -> None:
        colors = diff_colors(self.palette())
        self.left_pane.show_rows(self._rows, colors)
        self.right_pane.show_rows(self._rows, colors)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._rows:
            self._render()

