"""Owner tags (core/instance.py) of processes that have ended or still live, for tests."""

from __future__ import annotations

import socket
import subprocess
import sys

from promptbench.core.store.instance import _start_ticks


def dead_owner() -> str:
    """The owner tag of a process that has ended (as a killed promptbench leaves its rows)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:1"


def live_process() -> tuple[subprocess.Popen, str]:
    """A sleeping child standing in for another promptbench instance, and its owner tag."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    return proc, f"{socket.gethostname()}:{proc.pid}:{_start_ticks(proc.pid) or '?'}"
