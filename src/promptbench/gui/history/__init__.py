"""The History tab: versions of a prompt, diffs between any two, rollback and labels."""

from promptbench.gui.history.history_panel import HistoryPanel

__all__ = ["HistoryPanel"]
