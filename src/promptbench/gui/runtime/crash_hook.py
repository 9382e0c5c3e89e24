"""Unexpected exceptions in the app: a redacted crash report, a line on stderr, one dialog.

Qt calls ``sys.excepthook`` for an exception escaping a slot and carries on, so the app
keeps running: the person is told once (not once per repaint) and where the report is.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

from PySide6.QtWidgets import QMessageBox, QWidget

from promptbench.core.applog import write_crash_report
from promptbench.core.redaction import redact

_QUIET_S = 10.0  # no second dialog within this many seconds of the last one


def install_crash_hook(parent: Callable[[], QWidget | None]) -> None:
    state = {"showing": False, "last": 0.0}

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        report = write_crash_report(exc.with_traceback(tb), "running the desktop app")
        print(f"promptbench: unexpected error: {exc_type.__name__}: {redact(str(exc))}; report: {report}", file=sys.stderr)
        if state["showing"] or time.monotonic() - state["last"] < _QUIET_S:
            return
        state["showing"] = True
        try:
            QMessageBox.critical(parent(), "Unexpected error",
                                 f"{exc_type.__name__}: {redact(str(exc))}\n\nEverything saved so far is safe: prompts, "
                                 "runs and votes are written as they happen. Please report this; a report without "
                                 f"any key in it is at:\n{report or '(could not be written)'}")
        finally:
            state["showing"], state["last"] = False, time.monotonic()

    sys.excepthook = hook
