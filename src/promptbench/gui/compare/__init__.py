"""The live compare view and the run pane it (and the runs view) show runs in."""

from promptbench.gui.compare.compare_view import CompareView
from promptbench.gui.compare.run_pane import RunPane

__all__ = ["CompareView", "RunPane"]
