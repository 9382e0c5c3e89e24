"""Lazy tabs: the leaderboard and dashboard are built when first shown; a dashboard click filters Runs."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings

from promptbench.gui.mainwindow import TAB_DASHBOARD, TAB_EVAL, TAB_LEADERBOARD, TAB_RUNS, MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT


@pytest.fixture
def window(qtbot, workspace, tmp_path):
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT)
    win = MainWindow(Services(workspace, key_lookup=lambda m: None),
                     QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    gc.collect()


def test_leaderboard_and_dashboard_are_built_on_first_view(qtbot, window):
    assert window.leaderboard is None and window.dashboard is None
    window.tabs.setCurrentIndex(TAB_LEADERBOARD)
    assert window.leaderboard is not None and window.tabs.widget(TAB_LEADERBOARD) is window.leaderboard
    window.tabs.setCurrentIndex(TAB_EVAL)
    assert window.eval is not None and window.tabs.widget(TAB_EVAL) is window.eval
    qtbot.waitUntil(lambda: window.eval.prompt() == "greeter.prompt.yml", timeout=10000)
    window.tabs.setCurrentIndex(TAB_DASHBOARD)
    assert window.dashboard is not None and window.tabs.widget(TAB_DASHBOARD) is window.dashboard
    qtbot.waitUntil(window.dashboard.is_idle, timeout=20000)
    window.dashboard.runs_requested.emit({"prompt_path": "greeter.prompt.yml", "status": "error"})
    assert window.tabs.currentIndex() == TAB_RUNS
    assert window.runs.filters().prompt == "greeter.prompt.yml" and window.runs.filters().status == "error"
