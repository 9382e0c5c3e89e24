"""Three-way merge of a prompt edited in the app and, meanwhile, outside it (git merge-file).

The base is the text the editor loaded; "yours" is the editor's text; "on disk" is what
another editor, instance or git command wrote since. Changes on different lines merge
cleanly; overlapping ones are kept both, between conflict markers, for the person to
resolve: nothing either side wrote is dropped.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from promptbench.core.errors import StoreError
from promptbench.core.store.gitrepo import run_git

MINE_LABEL, BASE_LABEL, THEIRS_LABEL = "yours (promptbench)", "as loaded", "on disk"
_MARKER = re.compile(r"^(<{7}|>{7}) |^={7}$", re.MULTILINE)


@dataclass(frozen=True)
class MergeResult:
    text: str
    conflicts: int  # 0: merged cleanly


def has_conflict_markers(text: str) -> bool:
    """True if ``text`` still holds merge conflict markers (``<<<<<<< ``, ``=======``, ``>>>>>>> ``)."""
    return bool(_MARKER.search(text))


def merge3(base: str, mine: str, theirs: str) -> MergeResult:
    with tempfile.TemporaryDirectory(prefix="promptbench-merge-") as folder:
        paths = []
        for name, text in (("mine", mine), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_bytes(text.encode("utf-8"))
            paths.append(str(path))
        proc = run_git(Path(folder), "merge-file", "-p", "-L", MINE_LABEL, "-L", BASE_LABEL, "-L", THEIRS_LABEL,
                       *paths, check=False)
    if proc.returncode < 0 or proc.returncode > 127:
        raise StoreError(f"merging your edits with the file on disk failed: {proc.stderr.decode(errors='replace').strip()}")
    return MergeResult(proc.stdout.decode("utf-8", errors="surrogateescape"), proc.returncode)
