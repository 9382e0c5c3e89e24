"""promptbench: a desktop workbench for iterating on LLM prompts, and its Python API.

    import promptbench

    with promptbench.Workspace("path/to/repo") as ws:
        p = ws.prompts.read("summarize")            # a PromptFile
        p.set_model_parameter("temperature", 0.5)   # a one-line change in the file
        ws.prompts.save("summarize", p, message="Warmer")
        result = ws.compare("summarize", models=["gpt-4o-mini"], test=0)

See README ("Python API") and :mod:`promptbench.api`. Importing this package is cheap: the
names below load on first use, and nothing imports Qt or litellm until a comparison runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from promptbench._version import __version__

__all__ = ["Workspace", "Prompts", "ComparisonResult", "PromptFile",
           "PromptbenchError", "PromptFileError", "StoreError", "WorkspaceError"]

_HOMES = {
    "Workspace": "promptbench.api", "Prompts": "promptbench.api", "ComparisonResult": "promptbench.api",
    "PromptFile": "promptbench.core.prompts.promptfile",
    "PromptbenchError": "promptbench.core.errors", "PromptFileError": "promptbench.core.errors",
    "StoreError": "promptbench.core.errors", "WorkspaceError": "promptbench.core.errors",
}

if TYPE_CHECKING:
    from promptbench.api import ComparisonResult, Prompts, Workspace
    from promptbench.core.errors import PromptbenchError, PromptFileError, StoreError, WorkspaceError
    from promptbench.core.prompts.promptfile import PromptFile


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'promptbench' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
