"""A run's output: raw text that grows while it streams, Markdown once it is complete.

Streaming appends each batch at the end of the document through a QTextCursor (one
insert per 30 ms batch, never a full setPlainText), and follows the end only while
the reader has not scrolled up. A finished output is rendered once as Markdown; a
toggle shows the raw text instead.
"""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QPalette, QTextBlockFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QStackedWidget, QTextBrowser

_FOLLOW_SLACK_PX = 4


class OutputView(QStackedWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.raw = QPlainTextEdit(readOnly=True)
        self.raw.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.raw.setPlaceholderText("The answer appears here as it streams.")
        self.raw.setFrameShape(QPlainTextEdit.Shape.NoFrame)
        self.rendered = QTextBrowser()
        self.rendered.setOpenExternalLinks(True)
        self.rendered.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.rendered.document().setDocumentMargin(6)
        self.addWidget(self.raw)
        self.addWidget(self.rendered)
        self._text_parts: list[str] = []
        self._markdown_wanted = True
        self._complete = False

    # -- streaming ---------------------------------------------------------------------
    def clear_output(self) -> None:
        self._text_parts = []
        self._complete = False
        self.raw.clear()
        self.raw.setPlaceholderText("The answer appears here as it streams.")
        self.rendered.clear()
        self.setCurrentWidget(self.raw)

    def append(self, text: str) -> None:
        """Add streamed text at the end; keep the view at the end unless the reader scrolled up."""
        if not text:
            return
        self._text_parts.append(text)
        bar = self.raw.verticalScrollBar()
        following = bar.value() >= bar.maximum() - _FOLLOW_SLACK_PX
        cursor = QTextCursor(self.raw.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        if following:
            bar.setValue(bar.maximum())

    def text(self) -> str:
        if len(self._text_parts) > 1:
            self._text_parts = ["".join(self._text_parts)]
        return self._text_parts[0] if self._text_parts else ""

    # -- complete ----------------------------------------------------------------------
    def complete(self, final_text: str | None = None) -> None:
        """The run ended: keep the exact final text and show it as Markdown if wanted."""
        if final_text is not None and final_text != self.text():
            self._text_parts = [final_text]
            self.raw.setPlainText(final_text)
        self._complete = True
        if not self.text():
            self.raw.setPlaceholderText("No output.")
        self.rendered.setMarkdown(self.text())
        self._shade_code_blocks()
        self._show_wanted()

    def _shade_code_blocks(self) -> None:
        """Give fenced/indented code blocks a background, as Markdown viewers do."""
        shade = QTextBlockFormat()
        shade.setBackground(self.palette().color(QPalette.ColorRole.AlternateBase))
        block = self.rendered.document().begin()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.nonBreakableLines() or fmt.hasProperty(QTextFormat.Property.BlockCodeFence):
                QTextCursor(block).mergeBlockFormat(shade)
            block = block.next()

    def set_markdown(self, wanted: bool) -> None:
        self._markdown_wanted = wanted
        self._show_wanted()

    def showing_markdown(self) -> bool:
        return self.currentWidget() is self.rendered

    def _show_wanted(self) -> None:
        markdown = self._complete and self._markdown_wanted and bool(self.text())
        self.setCurrentWidget(self.rendered if markdown else self.raw)
        if markdown:
            self.rendered.verticalScrollBar().setValue(0)
