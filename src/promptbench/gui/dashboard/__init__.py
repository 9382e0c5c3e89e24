"""The monitoring dashboard tab. pyqtgraph is imported only when the tab is first shown."""

from promptbench.gui.dashboard.view import DashboardView

__all__ = ["DashboardView"]
