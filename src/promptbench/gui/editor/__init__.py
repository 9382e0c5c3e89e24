"""The prompt editor: Structured forms and Raw YAML in sync, plus the variables panel."""

from promptbench.gui.editor.prompt_editor import PromptEditor

__all__ = ["PromptEditor"]
