"""What a killed process leaves behind in a workspace, and how it is cleared safely.

A SIGKILL during a save can leave two kinds of debris (measured by
tests/core/test_crash_consistency.py over 100 kills):

- git lock files (``.git/index.lock``, ``HEAD.lock``, ``refs/heads/main.lock`` ...): git
  refuses every later commit while one exists. A lock is stale when the process that made
  it is gone. On Linux we can prove that: scan ``/proc`` for git processes working in the
  repository, then remove only locks older than the scan started; a lock created after
  the scan began is left alone, so a git started meanwhile keeps its lock. Without
  ``/proc`` only locks older than :data:`UNPROVABLE_LOCK_AGE_S` are removed.
- temp files of an atomic write (``.NAME.prompt.yml.XXXX.tmp``): the real file is intact
  (the write is a rename), the temp file is just clutter. Removed once a minute old.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from promptbench.core.store.paths import SKIPPED_DIRS

log = logging.getLogger(__name__)

UNPROVABLE_LOCK_AGE_S = 600.0
TEMP_FILE_AGE_S = 60.0
_CLOCK_SLACK_S = 0.1  # file-system timestamps lag the wall clock by up to a kernel tick
_TOP_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "packed-refs.lock", "config.lock",
              "shallow.lock")


def git_lock_files(git_dir: Path) -> list[Path]:
    found = [git_dir / name for name in _TOP_LOCKS if (git_dir / name).exists()]
    found += sorted(git_dir.glob("next-index-*.lock"))
    for sub in ("refs", "logs"):
        if (git_dir / sub).is_dir():
            found += sorted((git_dir / sub).rglob("*.lock"))
    return found


def git_running_in(folders: list[Path]) -> bool | None:
    """True if a live git process works in one of ``folders`` (our long-lived read-only
    ``cat-file`` readers excepted: they take no locks); None when this OS cannot tell."""
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return None
    roots = [f.resolve() for f in folders]
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not (entry / "comm").read_text().strip().startswith("git"):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue  # a zombie holds nothing
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"cat-file" in argv:
                continue
            cwd = Path(os.readlink(entry / "cwd"))
        except FileNotFoundError:
            continue  # ended while we looked
        except (PermissionError, IndexError, OSError):
            return True  # somebody else's git: cannot see where it works, so assume here
        if any(cwd == root or root in cwd.parents for root in roots):
            return True
    return False


def clear_stale_git_locks(toplevel: Path, git_dir: Path) -> list[str]:
    """Remove lock files no running git process can own. Returns their names (relative to the git dir)."""
    if not git_lock_files(git_dir):
        return []
    scan_started = time.time()
    running = git_running_in([toplevel, git_dir])
    if running:
        return []
    newest_allowed = scan_started - (UNPROVABLE_LOCK_AGE_S if running is None else _CLOCK_SLACK_S)
    removed = []
    for lock in git_lock_files(git_dir):
        try:
            if lock.stat().st_mtime < newest_allowed:
                lock.unlink()
                removed.append(lock.relative_to(git_dir).as_posix())
        except FileNotFoundError:
            continue
    if removed:
        log.warning("removed stale git locks left by a process that was killed: %s in %s", ", ".join(removed), git_dir)
    return removed


def is_atomic_write_temp(name: str) -> bool:
    """Names made by core/atomic.py: ``.<file name>.<random>.tmp``."""
    return name.startswith(".") and name.endswith(".tmp") and (
        ".prompt.yml." in name or ".prompt.yaml." in name or name.startswith(".promptbench.toml."))


def remove_stale_temp_files(root: Path, older_than_s: float = TEMP_FILE_AGE_S) -> list[str]:
    """Delete atomic-write temp files older than ``older_than_s`` under ``root``. Returns their paths."""
    cutoff = time.time() - older_than_s
    removed = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIPPED_DIRS and not (d.startswith(".") and d != ".")]
        for name in filenames:
            if not is_atomic_write_temp(name):
                continue
            path = Path(dirpath) / name
            try:
                if not path.is_symlink() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed.append(path.relative_to(root).as_posix())
            except FileNotFoundError:
                continue
    if removed:
        log.info("removed %d temp file(s) left by an interrupted save: %s", len(removed), ", ".join(removed))
    return removed
