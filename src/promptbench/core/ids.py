"""The ids promptbench makes: row ids, and the version id of prompt text never saved.

A prompt version is a commit sha (``3f7107a2…``) or, for text that is not a commit
(unsaved edits, a file outside the workspace's git), ``draft:<hash>``: the first 12 hex
digits of the text's sha1. Every place that makes, tests or takes apart such an id uses
the helpers here. Plain functions; imports nothing of promptbench.
"""

from __future__ import annotations

import uuid

DRAFT_PREFIX = "draft:"


def new_id() -> str:
    """A fresh id for a run, comparison, batch, vote or session: 16 random hex digits."""
    return uuid.uuid4().hex[:16]


def draft_version(content_hash: str) -> str:
    """``draft:<hash>``: the version id of text that is not a commit."""
    return DRAFT_PREFIX + content_hash


def is_draft_version(version: str | None) -> bool:
    return bool(version) and version.startswith(DRAFT_PREFIX)


def draft_sha(version: str) -> str:
    """The content hash of a ``draft:<hash>`` version ("" for any other version)."""
    return version[len(DRAFT_PREFIX):] if is_draft_version(version) else ""
