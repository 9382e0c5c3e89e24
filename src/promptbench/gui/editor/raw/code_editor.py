"""A plain-text editor for YAML with a line-number gutter and inline problem marks.

Problems (``core.errors.Problem``) are drawn as a wavy underline under their line and a
marker in the gutter; hovering either shows the message. Errors are red, warnings amber.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (QColor, QFontDatabase, QPainter, QPalette, QTextCharFormat, QTextCursor, QTextFormat)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from promptbench.core.errors import Problem
from promptbench.gui.editor.raw.yaml_highlighter import YamlHighlighter, is_dark

ERROR_COLOR = QColor("#e53935")
WARNING_COLOR = QColor("#f9a825")


class _Gutter(QWidget):
    def __init__(self, editor: "CodeEditor"):
        super().__init__(editor)
        self.editor = editor
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:  # noqa: N802
        self.editor.paint_gutter(event)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            block = self.editor.cursorForPosition(event.pos()).block()
            self.editor.show_problem_tip(block.blockNumber() + 1, event.globalPos(), self)
            return True
        return super().event(event)


class CodeEditor(QPlainTextEdit):
    """QPlainTextEdit + gutter + YAML colours + problem marks."""

    problem_lines_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabChangesFocus(False)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 2)
        self._errors: dict[int, list[str]] = {}
        self._warnings: dict[int, list[str]] = {}
        self._gutter = _Gutter(self)
        self.highlighter = YamlHighlighter(self.document(), is_dark(self.palette()))
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._on_update_requested)
        self.cursorPositionChanged.connect(self._refresh_selections)
        self._update_gutter_width()

    # -- problems ----------------------------------------------------------------------
    def set_problems(self, errors: list[Problem], warnings: list[Problem] = ()) -> None:
        self._errors, self._warnings = _by_line(errors), _by_line(warnings)
        self._refresh_selections()
        self._gutter.update()
        self.problem_lines_changed.emit()

    def problem_text(self, line: int) -> str:
        return "\n".join(self._errors.get(line, []) + [f"warning: {m}" for m in self._warnings.get(line, [])])

    def show_problem_tip(self, line: int, global_pos, widget: QWidget) -> None:
        """The tooltip over ``line`` (from the text or the gutter): its problems, or none."""
        text = self.problem_text(line)
        if text:
            QToolTip.showText(global_pos, text, widget)
        else:
            QToolTip.hideText()

    def go_to_line(self, line: int) -> None:
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    def _refresh_selections(self) -> None:
        selections = []
        current = QTextEdit.ExtraSelection()
        shade = QColor(self.palette().color(QPalette.ColorRole.Highlight))
        shade.setAlpha(28)
        current.format.setBackground(shade)
        current.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        current.cursor = self.textCursor()
        current.cursor.clearSelection()
        selections.append(current)
        for lines, color in ((self._warnings, WARNING_COLOR), (self._errors, ERROR_COLOR)):
            for line in lines:
                block = self.document().findBlockByNumber(line - 1)
                if not block.isValid():
                    continue
                mark = QTextEdit.ExtraSelection()
                fmt = QTextCharFormat()
                fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
                fmt.setUnderlineColor(color)
                mark.format = fmt
                cursor = QTextCursor(block)
                text = block.text()
                start = len(text) - len(text.lstrip())
                cursor.setPosition(block.position() + start)
                cursor.setPosition(block.position() + max(len(text), start + 1), QTextCursor.MoveMode.KeepAnchor)
                mark.cursor = cursor
                selections.append(mark)
        self.setExtraSelections(selections)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            cursor = self.cursorForPosition(self.viewport().mapFromGlobal(event.globalPos()))
            self.show_problem_tip(cursor.blockNumber() + 1, event.globalPos(), self)
            return True
        return super().event(event)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.highlighter.set_dark(is_dark(self.palette()))

    # -- gutter ------------------------------------------------------------------------
    def gutter_width(self) -> int:
        digits = max(3, len(str(max(1, self.blockCount()))))
        return 14 + self.fontMetrics().horizontalAdvance("9") * digits + 8

    def _update_gutter_width(self, *_args) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_requested(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        area = self.contentsRect()
        self._gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def paint_gutter(self, event) -> None:
        painter = QPainter(self._gutter)
        palette = self.palette()
        background = palette.color(QPalette.ColorRole.Window)
        painter.fillRect(event.rect(), background)
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        strong = palette.color(QPalette.ColorRole.Text)
        current = self.textCursor().blockNumber()
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self._gutter.width()
        while block.isValid() and top <= event.rect().bottom():
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible() and bottom >= event.rect().top():
                line = number + 1
                marker = ERROR_COLOR if line in self._errors else WARNING_COLOR if line in self._warnings else None
                if marker is not None:
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(marker)
                    size = min(8, height - 4)
                    painter.drawEllipse(4, top + (height - size) // 2, size, size)
                painter.setPen(strong if number == current else dim)
                painter.drawText(0, top, width - 6, height, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
            number += 1
        painter.end()


def _by_line(problems) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for problem in problems:
        if problem.line:
            text = f"{problem.field}: {problem.message}" if problem.field else problem.message
            out.setdefault(problem.line, []).append(text)
    return out
