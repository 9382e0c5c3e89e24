"""The work the history panel hands to background tasks: plain functions over the store.

They run on the task pool (git and file reads never on the GUI thread) and return
plain data for the panel to show.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from promptbench.core.errors import PromptFileError
from promptbench.core.store.history import Version
from promptbench.core.prompts.diff import structured_diff
from promptbench.core.prompts.promptfile import parse_prompt_bytes
from promptbench.core.store.promptstore import PromptStore, RollbackResult
from promptbench.gui.history.sidebyside import DiffRow, align_lines

WORKTREE = "WORKTREE"


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


def read_version(store: PromptStore, rel: str, rev: str) -> bytes:
    if rev == WORKTREE:
        path = store.path(rel)
        return path.read_bytes() if path.exists() else b""
    return store.read_at(rel, rev)


def compute_diff(store: PromptStore, rel: str, old_rev: str | None, new_rev: str) -> DiffResult:
    new = read_version(store, rel, new_rev)
    if old_rev is None:
        old = b""
        try:
            structured = structured_diff(None, parse_prompt_bytes(new, f"{rel}@{new_rev}")) if new else structured_diff(None, None)
        except PromptFileError as exc:
            structured = {"error": str(exc)}
        unified = "".join(difflib.unified_diff([], new.decode(errors="replace").splitlines(keepends=True),
                                               fromfile="/dev/null", tofile=f"{rel}@{new_rev}"))
    else:
        old = read_version(store, rel, old_rev)
        diff = store.diff(rel, old_rev, new_rev)
        structured, unified = diff.structured, diff.unified
    rows = align_lines(old.decode(errors="replace"), new.decode(errors="replace"))
    return DiffResult(old_rev, new_rev, rows, structured, unified)


def rollback(store: PromptStore, rel: str, sha: str) -> RollbackOutcome:
    result = store.rollback(rel, sha)
    undo_to = None
    if result.version is not None:
        versions = store.history(rel)
        undo_to = versions[1].sha if len(versions) > 1 else None
    return RollbackOutcome(result, sha, undo_to)
