"""The Eval tab: automated evaluation of a prompt over test cases x versions x models."""

from promptbench.gui.evalview.eval_view import EvalView

__all__ = ["EvalView"]
