"""The error every part of the embedded local models raises."""

from promptbench.core.errors import PromptbenchError


class LocalModelError(PromptbenchError):
    """A local model is unknown, not installed, or its server failed; says what to do."""
