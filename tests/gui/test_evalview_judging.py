"""The Eval tab shows both readings of a judge's reply where they disagree ([eval] judging):
real engine, real eval runner, real SQLite, judges on the loopback OpenAI server."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from promptbench.gui.evalview.results_model import TONE_ROLE
from tests.gui.test_evalview import P, PROMPT, WAIT_MS, run_eval, services, view  # noqa: F401 (fixtures)
from tests.gui.test_settings import dialog  # noqa: F401 (a fixture: the settings dialog on these services)

JUDGED = PROMPT.split("evaluators:")[0] + """\
evaluators:
  - name: Rated
    llm:
      modelId: judge
      prompt: 'Rate 1-5: {{completion}}'
      choices: [{choice: '1', score: 0}, {choice: '2', score: 0.25}, {choice: '3', score: 0.5},
                {choice: '4', score: 0.75}, {choice: '5', score: 1}]
"""
GITHUB_SAYS, STRICT_SAYS = "GitHub's reading: fail ('1', score 0)", "strict reading: pass ('5', score 1)"
SHOWN = {  # what a person reads for the judge reply "5 (certainly not 1)" under each setting
    "github": {"cell": "✗ 0/1 · 0.00  (strict: ✓ 1/1 · 1.00)", "tone": "fail", "both": f"{GITHUB_SAYS}; {STRICT_SAYS}",
               "status": ["judged with GitHub's reading",
                          "4 judge verdicts differ under the strict reading (both shown in the cells)"],
               "result": "✗ fail (strict reading: pass)", "reason": STRICT_SAYS},
    "strict": {"cell": "✓ 1/1 · 1.00  (GitHub: ✗ 0/1 · 0.00)", "tone": "pass", "both": f"{STRICT_SAYS}; {GITHUB_SAYS}",
               "status": ["judged with the strict reading (pass at score >= 0.5)",
                          "4 judge verdicts differ under GitHub's reading (both shown in the cells)"],
               "result": "✓ pass (GitHub's reading: fail)", "reason": GITHUB_SAYS},
}


@pytest.mark.parametrize("judging", ["github", "strict"])
def test_a_cell_whose_readings_disagree_shows_both(view, services, workspace, openai_server, qtbot, judging):
    workspace.save(P, JUDGED, "rated by a judge")
    path = workspace.root / "promptbench.toml"
    path.write_text(path.read_text().replace("[eval]\n", f'[eval]\njudging = "{judging}"\n'))
    services.reload_settings()
    view.refresh()
    qtbot.waitUntil(lambda: view.setup_panel.setup().has_judges and view.is_loaded(), timeout=WAIT_MS)
    openai_server.set_scenario("alpha", echo=True)
    openai_server.set_scenario("beta", echo=True)
    openai_server.set_scenario("judge", chunks=["5 (certainly not 1)"])  # GitHub: '1' (listed first); strict: '5'
    report = run_eval(qtbot, view, services)
    assert report["status"] == "finished" and report["judging"]["mode"] == judging
    shown = SHOWN[judging]
    index = view.grid.results.index_of(0, "alpha")
    tooltip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert view.grid.text_at(0, "alpha") == shown["cell"] and index.data(TONE_ROLE) == shown["tone"]
    assert f"  {shown['both']}" in tooltip.splitlines()
    assert all(part in view.progress.label.text() for part in shown["status"])

    view.select_cell(0, "alpha")
    row = view.detail.evaluators.topLevelItem(0)
    assert row.text(1) == shown["result"] and row.toolTip(1) == shown["both"]
    assert row.text(3).endswith(f"; {shown['reason']}  [judge judge]")

def test_the_settings_dialog_chooses_the_reading_and_writes_only_those_lines(qtbot, services, dialog):
    from promptbench.core.settings.config import load_settings

    path = services.store.root / "promptbench.toml"
    before = path.read_text()
    page = dialog.general_page
    dialog.show_page("General")
    qtbot.waitUntil(lambda: not services.tasks.is_busy(), timeout=10000)
    assert page.judging.currentData() == "github" and not page.pass_threshold.isEnabled()
    assert page.judging_note.text().startswith("As gh models eval: the first listed choice the reply contains")
    page.judging.setCurrentIndex(page.judging.findData("strict"))
    assert page.pass_threshold.isEnabled() and page.save_button.isEnabled()
    assert page.judging_note.text().startswith("Whole-word choices; the one the reply opens with")
    page.pass_threshold.setValue(0.75)
    with qtbot.waitSignal(page.settings_saved, timeout=10000):
        page.save()
    settings = load_settings(services.store.root)
    assert (settings.eval_judging, settings.eval_pass_threshold) == ("strict", 0.75)
    added = [line for line in path.read_text().splitlines() if line not in before.splitlines()]
    assert added == ['judging = "strict"', "pass_threshold = 0.75"]
