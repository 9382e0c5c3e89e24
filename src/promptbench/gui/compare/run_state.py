"""One pane's run as it streams: core/live_run.py (the command line's live table uses it too)."""

from promptbench.core.live_run import TERMINAL_STATUSES, LiveRun as RunState

__all__ = ["TERMINAL_STATUSES", "RunState"]
