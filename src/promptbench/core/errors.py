"""Errors a person can act on.

Every error raised by core names the file, field or provider involved and says what
to do. Fronts (CLI, GUI) show ``str(error)`` as is: one line, no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class PromptbenchError(Exception):
    """Base class for every error core raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prompt file: where it is and what was expected."""

    file: str
    line: int | None  # 1-based; None when the position is unknown
    field: str  # dotted path such as "messages[1].role"; "" for the whole file
    message: str
    # A one-click repair core/promptfixes can apply ("move-evaluator", "rename-parameter"...).
    fix: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PromptFileError(PromptbenchError):
    """A prompt file cannot be read or is not valid. Carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid prompt file"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more)


class StoreError(PromptbenchError):
    """A workspace / git operation failed; the message says which file and what to do."""


class WorkspaceError(StoreError):
    """The workspace folder itself is unusable (not a repo, read-only, mid-merge...)."""


class IdentityMissingError(WorkspaceError):
    """git has no user name or email, so no commit can be made (the app asks for them)."""
