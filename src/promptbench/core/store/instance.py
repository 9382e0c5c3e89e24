"""Which promptbench process owns a "running" row, and whether that process still lives.

Two app instances (or the app and a CLI eval) may use one workspace at once. At start-up
each marks runs and batches left "running" by a *dead* process as "interrupted"; rows of
a live one must be left alone. A row stores its owner as ``host:pid:start``, where
``start`` is the process start time in clock ticks since boot (Linux ``/proc``), so a
recycled pid is not mistaken for the owner.
"""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: starttime


@functools.lru_cache(maxsize=1)
def _this(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid) or '?'}"


def this_instance() -> str:
    """The owner tag of this process (computed once per pid, so a forked child gets its own)."""
    return _this(os.getpid())


def instance_alive(owner: str | None) -> bool:
    """True if ``owner`` is this process or a live process on this host. Unknown formats,
    other hosts (a workspace on a network share) and unreadable processes count as alive:
    wrongly calling a live run interrupted is worse than showing a dead one as running."""
    if not owner:
        return False
    try:
        host, pid_text, start = owner.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    now = _start_ticks(pid)
    return start == "?" or now is None or now == start
