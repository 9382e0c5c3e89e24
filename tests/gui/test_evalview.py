"""The Eval tab against the loopback OpenAI server: real engine, real eval runner, real SQLite."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from promptbench.gui.evalview import EvalView
from promptbench.gui.evalview.results_model import TONE_ROLE
from promptbench.gui.services import Services

P = "greeter.prompt.yml"
MODELS = ("alpha", "beta")
WAIT_MS = 60000
PROMPT = """\
name: Greeter
model: openai/gpt-4o-mini
modelParameters:
  maxTokens: 32
messages:
  - role: system
    content: You are friendly.
  - role: user
    content: 'Say hello to {{name}}.'
testData:
  - name: Ada
  - name: Linus
evaluators:
  - name: says hello
    string:
      contains: hello
  - name: names them
    regex:
      pattern: 'Ada|Linus'
"""


def catalog(base_url: str) -> str:
    tables = "".join(f"""
[models.{name}]
model = "openai/{name}"
api_base = "{base_url}"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 2.0
""" for name in (*MODELS, "judge"))
    return f"""
[compare]
default_models = ["alpha", "beta"]

[eval]
concurrency = 2

[timeouts]
connect_s = 3
first_token_s = 10
idle_s = 5

[retries]
max = 0
{tables}"""


@pytest.fixture
def services(workspace, openai_server):
    (workspace.root / "promptbench.toml").write_text(catalog(openai_server.base_url))
    workspace.save(P, PROMPT, "greeter")
    svc = Services(workspace, key_lookup=lambda m: None)
    yield svc
    svc.close()
    shiboken6.delete(svc)  # on the GUI thread, as in test_compare


@pytest.fixture
def view(qtbot, services):
    widget = EvalView(services)
    widget.resize(1400, 860)
    widget.set_prompt(P)
    qtbot.waitUntil(widget.is_loaded, timeout=WAIT_MS)
    yield widget
    widget.shutdown()
    shiboken6.delete(widget)


def answer(server, model: str, passes: bool, **scenario) -> None:
    if passes:
        server.set_scenario(model, echo=True, **scenario)  # "Say hello to Ada." passes both evaluators
    else:
        server.set_scenario(model, chunks=["Good", "bye", "."], **scenario)


def run_eval(qtbot, view, services, *, resume=False):
    (view.resume if resume else view.run)()
    assert view.is_running()
    wait_done(qtbot, view, services)
    return view.model.report()


def wait_done(qtbot, view, services):
    def done():
        report = view.model.report()
        return (not view.is_running() and report is not None and report["status"] != "running"
                and report["eval_id"] == view.shown_eval() and not services.tasks.is_busy())

    try:
        qtbot.waitUntil(done, timeout=WAIT_MS)
    except Exception:
        r = view.model.report()
        print("eval view state:", view.is_running(), r and r["status"], r and r["eval_id"], view.shown_eval(),
              services.tasks.is_busy(), repr(view.banner.text()), repr(view.progress.label.text()))
        raise


def sent(server) -> list[tuple[str, str]]:
    return [(r["model"], r["body"]["messages"][-1]["content"]) for r in server.log()]


def dark(widget) -> None:
    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, "#2b2b2b"), (QPalette.ColorRole.WindowText, "#e6e6e6"),
                        (QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.AlternateBase, "#262626"),
                        (QPalette.ColorRole.Text, "#e6e6e6"), (QPalette.ColorRole.Button, "#333333"),
                        (QPalette.ColorRole.ButtonText, "#e6e6e6"), (QPalette.ColorRole.Highlight, "#2f5f9f"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff"), (QPalette.ColorRole.ToolTipBase, "#333333"),
                        (QPalette.ColorRole.PlaceholderText, "#8a8a8a")):
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6f6f6f"))
    widget.setPalette(palette)


def test_grid_shows_pass_and_fail_per_model_and_test_case(view, services, openai_server, qtbot):
    answer(openai_server, "alpha", passes=True)
    answer(openai_server, "beta", passes=False)
    assert view.setup_panel.choice().models == MODELS  # the workspace's default models
    assert view.setup_panel.concurrency.value() == 2     # [eval] concurrency
    qtbot.waitUntil(lambda: "4 runs" in view.estimate.text(), timeout=WAIT_MS)
    assert "$" in view.estimate.text()
    report = run_eval(qtbot, view, services)
    assert report["status"] == "finished"
    grid = view.grid
    for case in (0, 1):
        assert grid.text_at(case, "alpha") == "✓ 2/2 · 1.00"  # evaluators passed / decided · mean score,
        assert grid.text_at(case, "beta") == "✗ 0/2 · 0.00"   # as the Pass rate row below counts them
        assert grid.results.index_of(case, "alpha").data(TONE_ROLE) == "pass"
        assert grid.results.index_of(case, "beta").data(TONE_ROLE) == "fail"
    assert grid.results.headerData(0, Qt.Orientation.Vertical) == "#1  name=Ada"
    assert grid.summary_text("Pass rate", 0) == "100%  (4/4)"  # 2 evaluators x 2 test cases
    assert grid.summary_text("Pass rate", 1) == "0%  (0/4)"
    assert grid.summary_text("Cost", 0).startswith("$")
    assert grid.summary_text("p50 TTFT", 0).endswith(("ms", " s"))
    assert "Eval finished" in view.progress.label.text() and "4 of 8 checks passed" in view.progress.label.text()
    assert view.progress.bar.value() == 4 and view.progress.bar.maximum() == 4
    assert not view.resume_action.isEnabled() and view.run_action.isEnabled()

    # clicking a cell shows its output and each evaluator's reason
    index = grid.results.index_of(1, "beta")
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=grid.visualRect(index).center())
    assert view.detail.current_output() == "Goodbye."
    assert "Linus" in view.detail.title.text() and "beta" in view.detail.title.text()
    reasons = view.detail.reasons()
    assert len(reasons) == 2 and "hello" in reasons[0] and "Ada|Linus" in reasons[1]
    assert view.detail.evaluators.topLevelItem(0).text(1) == "✗ fail"
    assert view.agreement.rows() == [] and view.agreement.empty.isVisibleTo(view.agreement)
    view.grab().save("/tmp/eval_view.png")
    assert view.select_cell(0, "alpha")
    assert "Ada" in view.detail.current_output()
    dark(view)
    view.grid.set_report(view.model.report(), view.setup_panel.setup().test_cases)  # colours for the dark palette
    view.select_cell(1, "beta")
    view.grab().save("/tmp/eval_view_dark.png")


def test_cancel_then_resume_runs_only_the_unfinished_cells(view, services, openai_server, qtbot):
    for name in MODELS:
        answer(openai_server, name, passes=True, first_token_delay_s=0.4)
    view.setup_panel.concurrency.setValue(1)
    view.run()
    qtbot.waitUntil(lambda: view.progress.bar.value() >= 1, timeout=WAIT_MS)
    assert view.cancel_action.isEnabled() and not view.run_action.isEnabled() and not view.resume_action.isEnabled()
    view.grab().save("/tmp/eval_view_running.png")
    view.cancel()
    wait_done(qtbot, view, services)
    first = view.model.report()
    assert first["status"] == "cancelled"
    done_before = {(c["test_case"], c["model"]): c["run_id"] for c in first["cells"] if c["status"] == "finished"}
    assert 1 <= len(done_before) < 4
    assert first["summary"]["not_run"] >= 1
    not_run = [c for c in first["cells"] if c["status"] != "finished"]
    assert view.grid.text_at(not_run[0]["test_case"], not_run[0]["model"]) in ("not run", "…")
    assert view.resume_action.isEnabled()
    requests_before = len(openai_server.log())
    view.grab().save("/tmp/eval_view_cancelled.png")

    report = run_eval(qtbot, view, services, resume=True)
    assert report["eval_id"] == first["eval_id"] and report["status"] == "finished"
    assert all(c["status"] == "finished" and c["evaluated"] for c in report["cells"])
    after = {(c["test_case"], c["model"]): c["run_id"] for c in report["cells"]}
    for key, run_id in done_before.items():
        assert after[key] == run_id  # never run again
    resent = sent(openai_server)[requests_before:]
    assert len(resent) == 4 - len(done_before)
    cases = ("Say hello to Ada.", "Say hello to Linus.")
    for tc, model in done_before:
        assert (model, cases[tc]) not in resent
    assert all(view.grid.text_at(tc, m) == "✓ 2/2 · 1.00" for tc in (0, 1) for m in MODELS)
    assert not view.resume_action.isEnabled()


def test_baseline_highlights_a_regression(view, services, openai_server, qtbot):
    answer(openai_server, "alpha", passes=True)
    answer(openai_server, "beta", passes=True)
    good = run_eval(qtbot, view, services)["eval_id"]
    assert view.grid.text_at(0, "beta") == "✓ 2/2 · 1.00"
    answer(openai_server, "beta", passes=False)
    bad = run_eval(qtbot, view, services)["eval_id"]
    assert view.shown_eval() == bad  # the newest eval is shown
    assert view.picker.baseline.count() == 2  # "none" and the first eval
    view.picker.set_baseline(good)
    qtbot.waitUntil(lambda: (view.model.report() or {}).get("baseline") is not None, timeout=WAIT_MS)
    report = view.model.report()
    assert report["baseline"]["eval_id"] == good
    assert {(r["test_case"], r["model"]) for r in report["baseline"]["regressions"]} == {(0, "beta"), (1, "beta")}
    results = view.grid.results
    for case in (0, 1):
        beta, alpha = results.index_of(case, "beta"), results.index_of(case, "alpha")
        assert beta.data().startswith("✗") and beta.data().endswith("▼")
        assert beta.data(Qt.ItemDataRole.BackgroundRole) is not None
        assert "▼ says hello: 100% → 0% passed" in beta.data(Qt.ItemDataRole.ToolTipRole)
        assert alpha.data() == "✓ 2/2 · 1.00" and alpha.data(Qt.ItemDataRole.BackgroundRole) is None
    view.select_cell(0, "beta")
    assert view.detail.changes.isVisibleTo(view.detail) and "100% → 0%" in view.detail.changes.text()
    view.grab().save("/tmp/eval_view_baseline.png")
    view.picker.set_baseline(None)
    qtbot.waitUntil(lambda: (view.model.report() or {}).get("baseline", 1) is None, timeout=WAIT_MS)
    assert not view.grid.text_at(0, "beta").endswith("▼")


JUDGED = PROMPT + """\
  - name: judge says
    llm:
      modelId: judge
      prompt: 'Grade this greeting: {{completion}}'
      choices:
        - {choice: hello, score: 1.0}
        - {choice: Goodbye, score: 0.0}
"""


def test_repeats_show_counts_and_spread_and_judge_agreement_lists_votes(view, services, workspace, openai_server,
                                                                        qtbot):
    from promptbench.core.ranking.leaderboard import Contestant
    from promptbench.core.ranking.votes import VoteStore

    workspace.save(P, JUDGED, "judged by a model")
    view.refresh()
    qtbot.waitUntil(lambda: view.setup_panel.setup().has_judges and view.is_loaded(), timeout=WAIT_MS)
    assert view.setup_panel.judge.isEnabled()
    # the first alpha request fails (a provider error, no retries); the judge echoes its prompt, so it
    # names "hello" for alpha's echo and "Goodbye" for beta's answer
    openai_server.set_scenario("alpha", echo=True, fault="status", status_code=500, fail_times=1)
    answer(openai_server, "beta", passes=False)
    openai_server.set_scenario("judge", echo=True)
    view.setup_panel.repeats.setValue(2)
    view.setup_panel.concurrency.setValue(1)  # plan order: (Ada, repeat 1, alpha) is the first request
    view.setup_panel.judge.setCurrentText("judge")
    assert view.setup_panel.choice().judge_model == "judge"
    qtbot.waitUntil(lambda: view.estimate.text().startswith("8 runs"), timeout=WAIT_MS)
    assert "judge runs" in view.estimate.text()
    report = run_eval(qtbot, view, services)
    assert report["judge_model"] == "judge"
    grid = view.grid
    assert grid.text_at(0, "alpha") == "✓ 3/3 · 1.00  (3 ?)"  # one repeat's run failed: its 3 checks undecided
    assert grid.text_at(1, "alpha") == "✓ 6/6 · 1.00 ±0.00"   # 3 evaluators x 2 repeats
    assert grid.text_at(0, "beta") == "✗ 0/6 · 0.00 ±0.00"
    # The cells add up to the summary row: the same verdicts, counted the same way.
    assert grid.summary_text("Pass rate", 0) == "100%  (9/9)" and grid.summary_text("Pass rate", 1) == "0%  (0/12)"
    assert grid.summary_text("Errors", 0) == "1 run failed"
    view.select_cell(0, "alpha")
    assert view.detail.repeats.isVisibleTo(view.detail) and view.detail.repeats.count() == 2
    assert view.detail.repeats.tabText(0) == "Repeat 1 ⚠" and "failed" in view.detail.meta.text()
    view.detail.repeats.setCurrentIndex(1)
    assert view.detail.current_output() == "Say hello to Ada."
    judge_row = view.detail.evaluators.topLevelItem(2)
    assert judge_row.text(1) == "✓ pass" and judge_row.text(2) == "1.00" and "[judge judge]" in judge_row.text(3)
    view.grab().save("/tmp/eval_view_repeats.png")

    # people vote on pairs of judged runs: the judge agrees on Ada (alpha) and not on Linus
    cells = {(c["test_case"], c["model"], c["repeat"]): c for c in report["cells"]}
    version = report["versions"][0]["version"]
    votes = VoteStore(services.runs())
    for case, winner in ((0, "a"), (1, "b")):
        a, b = cells[(case, "alpha", 1)], cells[(case, "beta", 1)]
        votes.record_vote(a=Contestant(P, version, "alpha"), b=Contestant(P, version, "beta"), winner=winner,
                          test_case=case, a_run_id=a["run_id"], b_run_id=b["run_id"], prompt_path=P)
    view.refresh()
    qtbot.waitUntil(lambda: view.agreement.rows() != [], timeout=WAIT_MS)
    assert view.agreement.rows() == [["judge says", "judge", "2", "50%", "0.00 (none)"]]
    view.tabs.setCurrentWidget(view.agreement)
    view.grab().save("/tmp/eval_view_agreement.png")


def test_a_prompt_without_evaluators_cannot_run_and_says_why(view, workspace, qtbot):
    workspace.save(P, PROMPT.split("evaluators:")[0], "no evaluators")
    view.refresh()
    qtbot.waitUntil(lambda: view.is_loaded() and view.setup_panel.setup().problem is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "no evaluators" in view.estimate.text(), timeout=WAIT_MS)
    assert not view.run_action.isEnabled()
    view.run()
    assert not view.is_running()


def test_a_small_local_judge_is_called_a_smoke_test(view, services, workspace, qtbot):
    from promptbench.core.eval.judges import parameter_count, small_judge_warning

    assert parameter_count("local/smollm2-135m-instruct") == 135e6
    assert small_judge_warning("openai/gpt-4o") is None and small_judge_warning(None) is None
    workspace.save(P, JUDGED, "judged by a model")
    view.refresh()
    qtbot.waitUntil(lambda: view.setup_panel.setup().has_judges and view.is_loaded(), timeout=WAIT_MS)
    panel = view.setup_panel
    panel.judge.setCurrentText("local/smollm2-135m-instruct")
    assert panel.judge_note.isVisibleTo(panel)
    assert panel.judge_note.text().startswith("The judge, local/smollm2-135m-instruct, has about 135M parameters")
    assert "Judge agreement" in panel.judge_note.text()
    panel.judge.setCurrentText("judge")  # a model the name does not size: no note
    assert not panel.judge_note.isVisibleTo(panel)
