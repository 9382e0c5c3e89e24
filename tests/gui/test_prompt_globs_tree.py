"""The app's prompt list is core's listing: ``[workspace] prompt_globs`` files show and open."""

from __future__ import annotations

import gc

from PySide6.QtCore import QSettings

from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT


def test_globbed_files_are_listed_and_open_in_the_editor(qtbot, workspace, tmp_path):
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT, "v1")
    (workspace.root / "evals").mkdir()
    (workspace.root / "evals" / "check_prompt.yml").write_text(SIMPLE_PROMPT.replace("Greeter", "Checker"))
    (workspace.root / "evals" / "data.yml").write_text("not: a prompt\n")
    (workspace.root / "promptbench.toml").write_text('[workspace]\nprompt_globs = ["**/*_prompt.yml"]\n')
    services = Services(workspace, key_lookup=lambda m: None)
    win = MainWindow(services, QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    try:
        win.show()
        qtbot.waitUntil(lambda: len(win.tree.paths()) > 1, timeout=10000)
        assert sorted(win.tree.paths()) == ["evals/check_prompt.yml", "greeter.prompt.yml"]
        win.tree.select("evals/check_prompt.yml")
        qtbot.waitUntil(lambda: win.editor.current_rel() == "evals/check_prompt.yml"
                        and "Checker" in win.editor.current_text(), timeout=10000)
    finally:
        win.close()
        del services
        gc.collect()
