"""Journey on a real X server, at 1024x700 and 1600x1000: every tab, with something in it,
fits the window with nothing clipped (each visible widget inside its parent, scroll areas'
contents excepted; no button narrower than its text), and visiting every tab never
resizes the window or squeezes the prompt list."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from promptbench.gui.mainwindow import TAB_COMPARE, TAB_EVAL, TAB_NAMES, MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT
from tests.gui.layout_checks import clipped_widgets

pytestmark = [pytest.mark.xserver, pytest.mark.journey]
MODELS = ("gpt-mini", "claude-like", "a-rather-long-gateway-model-name")


@pytest.fixture
def ws(workspace, openai_server):
    from promptbench.core.store.workspace import sample_prompts_dir

    for sample in sorted(sample_prompts_dir().glob("*.prompt.yml")):
        workspace.save(sample.name, sample.read_text(), f"add {sample.name}")
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT, "greeter")
    toml = workspace.root / "promptbench.toml"
    toml.write_text(toml.read_text() + "".join(
        f'\n[models.{m}]\nmodel = "openai/{m}"\napi_base = "{openai_server.base_url}"\n'
        f"input_cost_per_mtok = 0.15\noutput_cost_per_mtok = 0.6\n" for m in MODELS))
    for m in MODELS:
        openai_server.set_scenario(m, chunks=[f"{m}: ", "Summary: the council ", "approved the lane."])
    return workspace


@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000)])
def test_every_tab_fits_and_nothing_is_clipped(qtbot, ws, tmp_path, size):
    qsettings = QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("welcome/closed", True)
    qsettings.setValue(f"lastPrompt/{ws.root}", "summarize.prompt.yml")
    win = MainWindow(Services(ws, key_lookup=lambda m: None), qsettings)
    qtbot.addWidget(win, before_close_func=lambda w: w.editor.discard_edits())
    win.resize(*size)
    with qtbot.waitExposed(win):
        win.show()
    qtbot.waitUntil(lambda: win.editor.current_rel() == "summarize.prompt.yml" and not win.editor._loading, timeout=15000)
    # Something in the compare view (and so in Runs and the Dashboard) first.
    win.tabs.setCurrentIndex(TAB_COMPARE)
    qtbot.waitUntil(win.compare.picker.is_loaded, timeout=15000)
    picker = win.compare.picker
    rows = [picker.tree.topLevelItem(g).child(i) for g in range(picker.tree.topLevelItemCount())
            for i in range(picker.tree.topLevelItem(g).childCount())]
    local = [row for row in rows if row.text(0).startswith("local/")]
    assert local, "the embedded local models are listed"
    for row in local:  # the model list widens (up to half the tab) until names show whole
        shown = picker.tree.visualItemRect(row).width() - picker.tree.indentation()
        assert picker.tree.fontMetrics().horizontalAdvance(row.text(0)) + 24 <= min(shown, picker.tree.header().sectionSize(0)), row.text(0)
    win.compare.picker.set_selected(list(MODELS))
    win.compare.run()
    qtbot.waitUntil(lambda: len(win.compare.panes()) == 3 and not win.compare.is_running(), timeout=20000)
    # ... and a finished eval (its verdict line is long: it wraps, it never widens the window).
    win.tabs.setCurrentIndex(TAB_EVAL)
    qtbot.waitUntil(lambda: win.eval is not None and win.eval.is_loaded(), timeout=15000)
    win.eval.setup_panel.set_models(list(MODELS[1:]))
    win.eval.setup_panel.judge.setCurrentText(MODELS[0])
    win.eval.run()
    qtbot.waitUntil(lambda: "Eval finished" in win.eval.progress.label.text(), timeout=30000)
    tree_width = win.tree.width()
    problems = {}
    for index, name in enumerate(TAB_NAMES):
        win.tabs.setCurrentIndex(index)
        qtbot.wait(600)  # tabs built on first view load their data
        assert (win.width(), win.height()) == size, f"the {name} tab resized the window to {win.width()}x{win.height()}"
        found = clipped_widgets(win)
        if found:
            problems[name] = found
    assert win.tree.width() >= min(tree_width, 170), "the prompt list was squeezed"
    assert not problems, "\n".join(f"{tab}: {p}" for tab, found in problems.items() for p in found[:8])
