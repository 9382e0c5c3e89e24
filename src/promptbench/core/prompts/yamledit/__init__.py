"""Editing YAML text in place: only the nodes whose value changed are rewritten."""

from promptbench.core.prompts.yamledit.nodes import Unpatchable
from promptbench.core.prompts.yamledit.patch import Patcher, patch_text, same

__all__ = ["Patcher", "Unpatchable", "patch_text", "same"]
