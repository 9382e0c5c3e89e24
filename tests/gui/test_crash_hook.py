"""An exception escaping a slot: a redacted crash report, one dialog, the app goes on."""

from __future__ import annotations

import sys

from promptbench.core.redaction import remember_secret
from promptbench.gui.runtime import crash_hook

KEY = "pbtest-CRASHPLANT-8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f"


def test_unexpected_error_writes_a_redacted_report_and_asks_once(monkeypatch, _isolated_git, capsys):
    remember_secret(KEY)  # as get_api_key does for every key it hands out
    shown = []
    monkeypatch.setattr(crash_hook.QMessageBox, "critical", lambda parent, title, text: shown.append((title, text)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    crash_hook.install_crash_hook(lambda: None)
    for _ in range(2):  # e.g. the same bug in two repaints
        try:
            raise ValueError(f"provider echoed {KEY}")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    reports = sorted((_isolated_git / ".local" / "state" / "promptbench" / "crashes").glob("crash-*.txt"))
    assert len(reports) == 2, "one crash report per exception"
    for report in reports:
        text = report.read_text()
        assert "ValueError: provider echoed" in text and "running the desktop app" in text and KEY not in text
    assert len(shown) == 1 and shown[0][0] == "Unexpected error"
    assert KEY not in shown[0][1] and str(reports[0].parent) in shown[0][1]
    err = capsys.readouterr().err
    assert "unexpected error: ValueError" in err and KEY not in err
