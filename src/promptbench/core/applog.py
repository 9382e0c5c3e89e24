"""The app's own log file and crash reports, both passed through redaction.redact.

- ``WORKSPACE/.promptbench/logs/promptbench.log``: warnings from everything and info
  from promptbench, rotated at 1 MB (3 kept).
- crash reports: one file per unexpected exception, in ``$XDG_STATE_HOME/promptbench/crashes``
  (``~/.local/state/...``), with the traceback, versions and what was being done.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import os
import platform
import sys
import traceback
from pathlib import Path

from promptbench.core.redaction import RedactingFilter, install_log_redaction, redact

LOG_NAME = "promptbench.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def crash_dir() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "promptbench" / "crashes"


def install_file_log(log_dir: Path) -> Path | None:
    """Log to ``log_dir/promptbench.log`` (idempotent per folder). None if the folder is not writable."""
    path = log_dir / LOG_NAME
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.INFO)
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    logging.getLogger("promptbench").setLevel(logging.INFO)
    install_log_redaction()
    return path


def write_crash_report(exc: BaseException, doing: str, folder: Path | None = None) -> Path | None:
    """Write a redacted report of ``exc``; returns its path (None if it could not be written)."""
    from promptbench._version import __version__

    now = dt.datetime.now()
    text = "\n".join([
        f"promptbench {__version__} crash report, {now.isoformat(timespec='seconds')}",
        f"while: {doing}",
        f"python {platform.python_version()} on {platform.platform()}",
        f"argv: {' '.join(sys.argv[1:])}",
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ])
    folder = folder or crash_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{now:%Y%m%d-%H%M%S-%f}-{os.getpid()}.txt"
        path.write_text(redact(text), encoding="utf-8")
    except OSError:
        return None
    logging.getLogger("promptbench").error("unexpected error while %s; report written to %s", doing, path)
    return path
