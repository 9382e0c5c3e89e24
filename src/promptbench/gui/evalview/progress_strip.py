"""An eval's progress: a bar (runs done of all) and one line of figures.

The runner reports on its own threads; :class:`ProgressBox` only keeps the latest
report (one attribute write, safe from any thread) and the view reads it on a timer.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from promptbench.core.figures import fmt_cost, fmt_elapsed


class ProgressBox:
    """The newest progress of one start/resume; written on worker threads, read on the GUI thread."""

    def __init__(self, eval_id: str | None = None):
        self.eval_id = eval_id
        self.latest = None
        self.seen = None

    def put(self, progress) -> None:
        self.latest = progress  # an attribute write is atomic: no lock needed

    def take(self):
        """The newest progress if it is new since the last take, else None."""
        latest = self.latest
        if latest is None or latest is self.seen:
            return None
        self.seen = latest
        self.eval_id = self.eval_id or latest.eval_id  # the final report may come before start() returned
        return latest


def progress_text(p) -> str:
    parts = [f"{p.done} of {p.total} runs", f"{p.evaluated} evaluated"]
    if p.evaluating:
        parts.append(f"{p.evaluating} being judged")
    if p.errors:
        parts.append(f"{p.errors} failed" if p.errors > 1 else "1 failed")
    if not p.final and p.eta_s is not None and p.done < p.total:
        parts.append(f"about {fmt_elapsed(p.eta_s)} left")
    parts.append(fmt_cost(p.running_cost_usd) if p.running_cost_usd else "$0 so far")
    parts.append(f"{fmt_elapsed(p.elapsed_s)} elapsed")
    return " · ".join(parts)


class ProgressStrip(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setFormat("%v / %m")
        self.bar.setMaximumWidth(260)
        self.bar.setMinimumWidth(160)
        self.label = QLabel()
        self.label.setWordWrap(True)  # a long verdict (a small judge's warning) wraps, never widens the window
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self.reset()

    def reset(self, text: str = "") -> None:
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setVisible(False)
        self.label.setText(text)

    def starting(self, text: str) -> None:
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)  # busy until the first report
        self.label.setText(text)

    def show_progress(self, p) -> None:
        self.bar.setVisible(True)
        self.bar.setRange(0, max(1, p.total))
        self.bar.setValue(min(p.done, p.total))
        self.label.setText(progress_text(p))

    def show_text(self, text: str) -> None:
        self.label.setText(text)
