"""The workspace's private folder, ``.promptbench/``: database, logs and drafts.

git must never offer it for a commit, whoever made the repository: the folder carries
its own ``.gitignore`` holding ``*`` (as pytest does for its cache), so nothing of the
user's tracked files (their ``.gitignore`` included) is touched.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from promptbench.core.atomic import write_atomic

PRIVATE_DIR = ".promptbench"
_IGNORE_ALL = "# Made by promptbench: its database, logs and drafts stay out of git.\n*\n"


def ensure_private_dir(root: Path) -> Path:
    """``root/.promptbench``, created if missing and always ignored by git."""
    folder = Path(root) / PRIVATE_DIR
    folder.mkdir(exist_ok=True)
    ignore_private_dir(folder)
    return folder


def ignore_private_dir(folder: Path) -> None:
    """Give an existing private folder its ``.gitignore`` (quietly skipped if it cannot be written:
    a read-only workspace has nothing of ours to hide)."""
    ignore = folder / ".gitignore"
    if ignore.exists():
        return
    with contextlib.suppress(OSError):
        write_atomic(ignore, _IGNORE_ALL)
