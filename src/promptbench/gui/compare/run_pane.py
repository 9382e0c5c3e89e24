"""One model's run: header with status and badges, live counters, the streamed output.

A pane shows either a live run (fed events by the compare view) or, read-only, a run
stored in the database (the runs view). It asks nothing itself: cancel and re-run
are signals the owner acts on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton,
                               QVBoxLayout, QWidget)

from promptbench.core.figures import fmt_cost, fmt_elapsed, fmt_ms, fmt_tokens, fmt_tps, ttft_breakdown
from promptbench.core.engine.live_run import LiveRun
from promptbench.gui.widgets.markdown import OutputView
from promptbench.gui.widgets.elided import ElidedLabel

STATUS_COLORS = {"queued": "#616161", "waiting": "#546e7a", "streaming": "#1565c0", "retrying": "#ef6c00",
                 "done": "#2e7d32", "error": "#c62828", "cancelled": "#6d4c41", "interrupted": "#6d4c41"}
# Each insert re-lays the output's last paragraph and each new figure re-lays its row, so a
# streaming pane shows new text at most 20 times and new figures 10 times a second
# (benchmarks/gui.py: the GUI thread's CPU while 8 panes stream). The first text, a new
# status and the end show at once.
TEXT_EVERY_NS = 50_000_000
FIGURES_EVERY_NS = 100_000_000
BADGE_COLORS = {"lowest TTFT": "#00838f", "fastest tok/s": "#1565c0", "cheapest": "#2e7d32"}
_CHIP = "QLabel {{ background: {bg}; color: white; border-radius: 8px; padding: 1px 8px; font-size: {size}pt; }}"
_METRICS = (("ttft", "TTFT", "Time to first token: request sent → first text read off the wire"),
            ("tps", "tok/s", "Generation speed: (output tokens − 1) / (last token − first token)"),
            ("cost", "cost", "Input and output tokens × the model's price"),
            ("out", "output", "Output tokens; ~ = estimated with a tokenizer, plain = reported by the provider"),
            ("in", "input", "Input (prompt) tokens; ~ = estimated, plain = reported by the provider"),
            ("elapsed", "elapsed", "Request sent → now while it streams; request sent → stream ended once it is done "
                                   "(with retries, from the first request)"))


def _chip(text: str, color: str, size: float) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(_CHIP.format(bg=color, size=size))
    label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return label


class RunPane(QFrame):
    cancel_clicked = Signal()
    rerun_clicked = Signal()
    settings_requested = Signal(str)  # a model name whose key must be set

    def __init__(self, model_name: str, *, read_only: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("RunPane")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(240)
        self.read_only = read_only
        self.model = None          # ModelConfig, once the run is bound
        self.request = None        # the ComparisonRequest this run belongs to (for re-run)
        self.binding = None        # token of the launch that owns this pane (compare view)
        self.waiting_note = ""     # e.g. "starting local model" while queued/waiting (set by the compare view)
        self.state = LiveRun(model_name)
        self._badges: list[str] = []
        self._pending: list[str] = []   # streamed text not shown yet
        self._text_ns = 0               # when text was last shown
        self._figures_ns = 0            # when the figures were last refreshed
        self._shown: dict[tuple[int, str], object] = {}  # (widget, setter) -> the value it was given
        base_pt = self.font().pointSizeF() if self.font().pointSizeF() > 0 else 9.0
        self._small_pt = max(7.0, base_pt * 0.85)

        self.name_label = ElidedLabel(model_name)
        bold = QFont(self.font())
        bold.setBold(True)
        self.name_label.setFont(bold)
        self.name_label.setMinimumWidth(60)
        self.status_label = _chip("queued", STATUS_COLORS["queued"], self._small_pt)
        # The name has its own line: a status chip or a badge never cuts it.
        self.badge_box = QWidget()
        self.badge_row = QHBoxLayout(self.badge_box)
        self.badge_row.setContentsMargins(0, 0, 0, 0)
        self.badge_row.setSpacing(4)
        self.badge_row.addWidget(self.status_label)
        self.badge_row.addStretch(1)

        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        caption_color = self.palette().color(self.foregroundRole())
        caption_css = f"color: rgba({caption_color.red()},{caption_color.green()},{caption_color.blue()},150);"
        for i, (key, caption, tip) in enumerate(_METRICS):
            cap = QLabel(caption)
            cap.setStyleSheet(caption_css + f"font-size: {self._small_pt}pt;")
            value = QLabel("—")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            for w in (cap, value):
                w.setToolTip(tip)
            row, col = divmod(i, 3)
            cell = QHBoxLayout()
            cell.setSpacing(5)
            cell.addWidget(cap)
            cell.addWidget(value, 1)
            grid.addLayout(cell, row, col)
            self.values[key] = value
        for col in range(3):
            grid.setColumnStretch(col, 1)

        self.error_banner = QLabel()
        self.error_banner.setWordWrap(True)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.setStyleSheet("QLabel { background: #b71c1c; color: white; border-radius: 4px; padding: 6px 8px; }")
        self.error_banner.hide()
        self.settings_button = QPushButton("Set the key in Settings…")
        self.settings_button.setToolTip("Open Settings → Models for this model")
        self.settings_button.clicked.connect(lambda: self.settings_requested.emit(self.state.model_name))
        self.settings_button.hide()
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(caption_css)
        self.note_label.hide()

        self.output = OutputView()
        self.output.setMinimumHeight(120)

        self.cancel_button = self._tool("Cancel", "Stop this run (partial output is kept)", self.cancel_clicked.emit)
        self.rerun_button = self._tool("Re-run", "Run this model again with the same request", self.rerun_clicked.emit)
        self.copy_button = self._tool("Copy", "Copy the output text", self.copy_output)
        self.markdown_button = self._tool("Markdown", "Show the finished output as Markdown (off: raw text)", None)
        self.markdown_button.setCheckable(True)
        self.markdown_button.setChecked(True)
        self.markdown_button.toggled.connect(self.output.set_markdown)
        footer = QHBoxLayout()
        footer.setSpacing(4)
        for button in (self.cancel_button, self.rerun_button):
            footer.addWidget(button)
            button.setVisible(not read_only)
        footer.addStretch(1)
        footer.addWidget(self.markdown_button)
        footer.addWidget(self.copy_button)
        self.footer = footer
        self.grid = grid

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(self.name_label)
        layout.addWidget(self.badge_box)
        layout.addLayout(grid)
        layout.addWidget(self.error_banner)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.note_label)
        layout.addWidget(self.output, 1)
        layout.addLayout(footer)
        self._refresh()
        self._fit_minimum_width()

    def _tool(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        if slot is not None:
            button.clicked.connect(slot)
        return button

    def _fit_minimum_width(self) -> None:
        """Wide enough for the footer's buttons and the figures, never less: a narrow window
        scrolls the panes sideways (PaneGrid) instead of eliding "Cancel" into "Ca…el"."""
        for i in range(self.footer.count()):
            widget = self.footer.itemAt(i).widget()
            if widget is not None:
                widget.setMinimumWidth(widget.sizeHint().width())
        margins = self.layout().contentsMargins()
        width = max(self.footer.sizeHint().width(), self.grid.sizeHint().width()) + margins.left() + margins.right() + 4
        self.setMinimumWidth(max(240, width))

    # -- live runs (compare view) ------------------------------------------------------
    def add_footer_widget(self, widget) -> None:
        """Extra controls (e.g. thumbs) go in the footer, before the stretch."""
        self.footer.insertWidget(2, widget)
        self._fit_minimum_width()

    @property
    def run_id(self) -> str | None:
        return self.state.run_id

    def bind(self, run_id: str, model=None) -> None:
        self.state.run_id = run_id
        if model is not None:
            self.model = model
        self._refresh()

    def reset(self) -> None:
        """Empty the pane for a new run of the same model (re-run)."""
        self.state = LiveRun(self.state.model_name)
        self._pending, self._text_ns = [], 0
        self.waiting_note = ""
        self.output.clear_output()
        self.set_badges([])
        self._refresh()

    def apply_events(self, events: list, now_ns: int) -> None:
        """One bridge batch of this pane's events: at most one text insert and one refresh of
        the figures (fewer while text streams: TEXT_EVERY_NS, FIGURES_EVERY_NS)."""
        state, pending = self.state, self._pending
        status = state.status
        for event in events:
            text = state.apply(event)
            if text:
                pending.append(text)
            elif getattr(event, "discard_output", False):  # Retrying from the start
                pending.clear()
                self._text_ns = 0
                self.output.clear_output()
        first_text = pending and not self._text_ns
        if pending and (state.terminal or first_text or now_ns - self._text_ns >= TEXT_EVERY_NS):
            self._show_pending(now_ns)
        if state.terminal:
            self.output.complete(state.final_output)
        if state.terminal or state.status != status or first_text or now_ns - self._figures_ns >= FIGURES_EVERY_NS:
            self._refresh(now_ns)

    def _show_pending(self, now_ns: int) -> None:
        if self._pending:
            self.output.append("".join(self._pending))
            self._pending = []
        self._text_ns = now_ns

    def mark_cancelled(self) -> None:
        """Cancelled before the engine knew of it (the run was still being prepared)."""
        if not self.state.terminal:
            self.state.status = "cancelled"
            self.output.complete()
            self._refresh()

    def mark_failed(self, error_class: str, message: str) -> None:
        self.state.status, self.state.error_class, self.state.error_message = "error", error_class, message
        self.output.complete()
        self._refresh()

    def tick(self, now_ns: int) -> None:
        """The compare view's clock (every 100 ms while runs go): elapsed time, and text or
        figures held back by the rate limits above."""
        if self._pending and now_ns - self._text_ns >= TEXT_EVERY_NS:
            self._show_pending(now_ns)
        if now_ns - self._figures_ns >= 2 * FIGURES_EVERY_NS:  # no events lately: the stream waits
            self._refresh(now_ns)
        else:
            self._put(self.values["elapsed"], "setText", fmt_elapsed(self.state.elapsed_s(now_ns), live=not self.state.terminal))

    def set_waiting_note(self, note: str) -> None:
        if note != self.waiting_note:
            self.waiting_note = note
            self._refresh()

    # -- stored runs (runs view) -------------------------------------------------------
    def show_record(self, run: dict) -> None:
        self.state = LiveRun(run.get("model_name") or self.state.model_name)
        self.state.load_record(run)
        self._pending = []
        self.output.clear_output()
        self.output.complete(self.state.final_output or "")
        self._refresh()

    # -- shared ------------------------------------------------------------------------
    def output_text(self) -> str:
        """Everything received so far, also text not shown yet."""
        return self.output.text() + "".join(self._pending)

    def copy_output(self) -> None:
        QGuiApplication.clipboard().setText(self.output_text())

    def set_badges(self, badges: list[str]) -> None:
        if badges == self._badges:
            return
        self._badges = list(badges)
        while self.badge_row.count() > 2:  # keep the status chip and the trailing stretch
            item = self.badge_row.takeAt(1)
            if item.widget():
                item.widget().deleteLater()
        for i, badge in enumerate(badges):
            self.badge_row.insertWidget(1 + i, _chip(badge, BADGE_COLORS.get(badge, "#455a64"), self._small_pt))

    def badges(self) -> list[str]:
        return list(self._badges)

    def status_text(self) -> str:
        s = self.state
        if s.status in ("queued", "waiting") and self.waiting_note:
            return self.waiting_note
        if s.status == "waiting":
            return "waiting for first token"
        if s.status == "retrying":
            return f"retrying ({s.retries})"
        text = f"error: {s.error_class}" if s.status == "error" and s.error_class else s.status
        if s.terminal and s.retries:
            text += f" ({s.retries} {'retry' if s.retries == 1 else 'retries'})"
        return text

    def _refresh(self, now_ns: int | None = None) -> None:
        s = self.state
        if now_ns is not None:
            self._figures_ns = now_ns
        status = self.status_text()
        put = self._put
        put(self.status_label, "setStyleSheet", _CHIP.format(bg=STATUS_COLORS.get(s.status, "#616161"), size=self._small_pt))
        put(self.status_label, "setText", status)
        put(self.status_label, "setToolTip", s.retry_note or status)
        put(self.values["ttft"], "setText", fmt_ms(s.ttft_ms))
        put(self.values["ttft"], "setToolTip", (ttft_breakdown(s.final) if s.final is not None else None) or _METRICS[0][2])
        put(self.values["tps"], "setText", fmt_tps(s.tokens_per_s))
        put(self.values["out"], "setText", fmt_tokens(s.output_tokens if (s.started_ns or s.final) else None, s.tokens_reported))
        put(self.values["in"], "setText", fmt_tokens(s.input_tokens, s.input_reported))
        cost = self.values["cost"]
        put(cost, "setText", fmt_cost(s.cost_usd, failed=s.failed) if (s.started_ns or s.final) else "—")
        put(cost, "setToolTip", s.cost_note or _METRICS[2][2])
        if now_ns is not None or s.terminal:
            put(self.values["elapsed"], "setText", fmt_elapsed(s.elapsed_s(now_ns or 0), live=not s.terminal))
        failed = bool(s.error_message or s.status == "error")
        if failed:
            put(self.error_banner, "setText", f"<b>{s.error_class or 'error'}</b> — {_escape(s.error_message or '')}")
        put(self.error_banner, "setVisible", failed)
        put(self.settings_button, "setVisible", s.status == "error" and s.error_class == "auth" and not self.read_only)
        note = s.retry_note if s.status == "retrying" else ""
        put(self.note_label, "setText", note)
        put(self.note_label, "setVisible", bool(note))
        put(self.cancel_button, "setEnabled", not s.terminal)
        put(self.rerun_button, "setEnabled", s.terminal or s.run_id is not None)

    def _put(self, widget, setter: str, value) -> None:
        """``widget.setter(value)`` unless that is what it shows already: every Qt call gives
        up the GIL and waits to take it back while the engine thread parses streams, so a
        refresh makes only the calls that change something."""
        key = (id(widget), setter)
        if self._shown.get(key, _UNSET) != value:
            self._shown[key] = value
            getattr(widget, setter)(value)


_UNSET = object()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
