"""A first start that shows the way: the welcome steps run the sample, Help lists the
shortcuts, Run is on the Edit tab, and an empty workspace offers a new prompt."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QPushButton

from promptbench.gui.mainwindow import TAB_COMPARE, MainWindow
from promptbench.gui.services import Services
from tests.gui.unsaved_helpers import answer_dialog, close_window, open_window

pytestmark = pytest.mark.journey


@pytest.fixture
def sample_ws(tmp_path):
    from promptbench.core.store.workspace import init_workspace

    store = init_workspace(tmp_path / "sample", samples=True)
    yield store
    store.close()


def test_the_welcome_steps_run_the_sample(qtbot, sample_ws, tmp_path, openai_server):
    toml = sample_ws.root / "promptbench.toml"
    # Stand-ins for the two local models (the real ones run in tests marked local_model).
    toml.write_text(toml.read_text().replace('default_models = ["local/smollm2-135m-instruct", "local/gemma3-270m"]',
                                             'default_models = ["loop-a"]')
                    + f'\n[models.loop-a]\nmodel = "openai/loop-a"\napi_base = "{openai_server.base_url}"\n')
    openai_server.set_scenario("loop-a", chunks=["Summary: ", "fine."])
    win = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        assert win.welcome.isVisible()
        assert [b.text() for b in win.welcome.findChildren(QPushButton)] == ["Close", "Open it", "Go to Compare", "Run"]
        win.welcome.buttons["open"].click()
        qtbot.waitUntil(lambda: win.editor.current_rel() == "summarize.prompt.yml", timeout=10000)
        assert win.welcome.marks["open"].text() == "✓"
        win.welcome.buttons["compare"].click()
        assert win.tabs.currentIndex() == TAB_COMPARE and win.welcome.marks["compare"].text() == "✓"
        qtbot.waitUntil(win.compare.picker.is_loaded, timeout=10000)
        win.compare.picker.set_selected(["loop-a"])  # the sample's local models are replaced here (see above)
        win.welcome.buttons["run"].click()
        qtbot.waitUntil(lambda: win.compare.panes() and not win.compare.is_running(), timeout=20000)
        assert win.welcome.marks["run"].text() == "✓"
        win.welcome.findChildren(QPushButton)[0].click()  # Close
        assert not win.welcome.isVisible() and win.qsettings.value("welcome/closed") in (True, "true")
    finally:
        close_window(win)
    again = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        assert not again.welcome.isVisible()  # closed once: Help → Getting started brings it back
        again.show_welcome()
        assert again.welcome.isVisible()
        # the steps done before are still ticked at the next start
        assert [again.welcome.marks[k].text() for k in ("open", "compare", "run")] == ["✓", "✓", "✓"]
    finally:
        close_window(again)


def test_a_step_done_stays_ticked_at_the_next_start(qtbot, sample_ws, tmp_path):
    win = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        win.welcome.buttons["compare"].click()   # only one step: a list of one survives the ini file
        assert win.welcome.marks["compare"].text() == "✓"
    finally:
        close_window(win)
    again = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        assert again.welcome.isVisible()
        assert again.welcome.marks["compare"].text() == "✓" and again.welcome.marks["run"].text() != "✓"
    finally:
        close_window(again)


def test_help_lists_the_shortcuts_and_run_is_on_the_edit_tab(qtbot, sample_ws, tmp_path):
    win = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        titles = [a.text().replace("&", "") for a in win.menuBar().actions()[-1].menu().actions() if a.text()]
        assert titles == ["Getting started", "Keyboard shortcuts", "README (how promptbench works)", "About promptbench"]
        seen = []

        def read(dialog):
            table = dialog.table
            seen.extend(table.topLevelItem(i).text(0) for i in range(table.topLevelItemCount()))
        answer_dialog("Close", read)
        win.show_shortcuts()
        assert {"Ctrl+Enter", "Ctrl+S", "Ctrl+Q", "Esc"} <= set(seen)
        assert win.edit_run_button.isVisible() and win.edit_run_button.text() == "▶ Run"
        win.edit_run_button.click()
        assert win.tabs.currentIndex() == TAB_COMPARE
    finally:
        close_window(win)


def test_an_empty_workspace_offers_a_new_prompt(qtbot, workspace, tmp_path):
    services = Services(workspace, key_lookup=lambda m: None)
    win = MainWindow(services, QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win, before_close_func=lambda w: w.editor.discard_edits())
    win.show()
    qtbot.waitUntil(lambda: win.tree.empty.isVisible(), timeout=10000)
    assert not win.welcome.isVisible()
    assert win.tree.new_button.text() == "New prompt…"

    def name_it(dialog):
        dialog.setTextValue("first")
    answer_dialog("OK", name_it)
    win.tree.new_button.click()
    qtbot.waitUntil(lambda: win.editor.current_rel() == "first.prompt.yml", timeout=10000)
    assert not win.tree.empty.isVisible() and (workspace.root / "first.prompt.yml").exists()
    win.close()
    assert QApplication.activeModalWidget() is None


def test_a_long_description_reads_from_its_start(qtbot, sample_ws, tmp_path):
    win = open_window(qtbot, sample_ws, tmp_path / "q.ini", select="classify-ticket.prompt.yml")
    try:
        win.resize(1024, 700)
        field = win.editor.structured.description
        qtbot.waitUntil(lambda: field.text().startswith("Labels a support ticket"), timeout=10000)
        assert field.cursorPosition() == 0    # QLineEdit would otherwise scroll to the text's tail
    finally:
        close_window(win)


@pytest.mark.local_model
def test_local_models_checked_in_compare_start_loading_before_run_is_pressed(qtbot, sample_ws, tmp_path):
    win = open_window(qtbot, sample_ws, tmp_path / "q.ini")
    try:
        local = win.services.local()
        assert local.status() == {} and not local.warming()  # nothing loads while Compare is not shown
        win.tabs.setCurrentIndex(TAB_COMPARE)
        qtbot.waitUntil(win.compare.picker.is_loaded, timeout=10000)
        win.compare.picker.set_selected(["local/smollm2-135m-instruct"])
        qtbot.waitUntil(lambda: bool(local.status().get("local/smollm2-135m-instruct", {}).get("alive")), timeout=90000)
        server_pid = local.status()["local/smollm2-135m-instruct"]["pid"]
        # once its server runs, the model counts the input itself: no "~" estimate any more
        qtbot.waitUntil(lambda: picker_input(win, "local/smollm2-135m-instruct").isdigit(), timeout=15000)
        counted = picker_input(win, "local/smollm2-135m-instruct")
        win.run_compare()
        qtbot.waitUntil(lambda: win.compare.panes() and not win.compare.is_running(), timeout=90000)
        (pane,) = win.compare.panes()
        assert pane.status_text() == "done" and pane.output_text().strip()
        # exact local figures: plain token counts (no "~"), and TTFT's tooltip splits it in the server's own timings
        assert pane.values["out"].text().isdigit() and pane.values["in"].text() == counted  # the run's count, before it ran
        tip = pane.values["ttft"].toolTip()
        assert tip.startswith(f"TTFT {pane.values['ttft'].text()} = the server reading the prompt "), tip
        assert f"({pane.values['in'].text()} tokens" in tip and "The server's own decode rate:" in tip
        # the run used the server that was started while the person looked at Compare
        assert local.status()["local/smollm2-135m-instruct"]["pid"] == server_pid
    finally:
        close_window(win)


def picker_input(win, name: str) -> str:
    from promptbench.gui.compare.model_picker import COL_INPUT

    for item in win.compare.picker._items():
        if win.compare.picker._item_name(item) == name:
            return item.text(COL_INPUT)
    raise LookupError(name)
