"""The work the history panel hands to background tasks: plain functions over the store.

They run on the task pool (git and file reads never on the GUI thread) and return
plain data for the panel to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from promptbench.core.store.history import Version
from promptbench.core.store.promptstore import PromptStore, RollbackResult
from promptbench.gui.history.sidebyside import DiffRow, align_lines


@dataclass(frozen=True)
class HistoryResult:
    versions: list[Version]
    dirty: bool


@dataclass(frozen=True)
class DiffResult:
    old_rev: str | None  # None: the version before the first one (nothing)
    new_rev: str
    rows: list[DiffRow]
    structured: dict
    unified: str


@dataclass(frozen=True)
class RollbackOutcome:
    result: RollbackResult
    target: str           # the version rolled back to
    undo_to: str | None   # the version that was current just before (snapshot of edits included)


def load_history(store: PromptStore, rel: str) -> HistoryResult:
    versions = store.history(rel)
    return HistoryResult(versions, store.is_dirty(rel) if versions or store.path(rel).exists() else False)


def compute_diff(store: PromptStore, rel: str, old_rev: str | None, new_rev: str) -> DiffResult:
    """The store's diff (old_rev None: the first version against nothing), aligned side by side."""
    diff = store.diff(rel, old_rev, new_rev)
    rows = align_lines(diff.old.decode(errors="replace"), diff.new.decode(errors="replace"))
    return DiffResult(old_rev, new_rev, rows, diff.structured, diff.unified)


def rollback(store: PromptStore, rel: str, sha: str) -> RollbackOutcome:
    result = store.rollback(rel, sha)
    undo_to = None
    if result.version is not None:
        versions = store.history(rel)
        undo_to = versions[1].sha if len(versions) > 1 else None
    return RollbackOutcome(result, sha, undo_to)
