"""Journey: Compare shows what is on screen and numbers that agree. The real main window on a
real workspace and the loopback OpenAI server: the estimate follows the prompt the person
switched to and equals the run's header and pane; test cases read "Test case 1"; elapsed
never goes back and ends at the true total; a model whose key is missing is not sent."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from promptbench.core.figures import fmt_elapsed
from promptbench.core.db.runs import RunStore
from promptbench.gui.compare.model_picker import COL_INPUT
from promptbench.gui.mainwindow import TAB_COMPARE
from tests.conftest import SIMPLE_PROMPT
from tests.gui.unsaved_helpers import close_window, open_window

pytestmark = pytest.mark.journey

A, B = "alpha.prompt.yml", "beta.prompt.yml"
LONG = SIMPLE_PROMPT.replace("maxTokens: 64", "maxTokens: 96").replace(
    "You are friendly.", "You are friendly, patient and precise. Answer in two short sentences, and never guess.")


@pytest.fixture
def ws(workspace, openai_server):
    workspace.save(A, SIMPLE_PROMPT, "alpha")
    workspace.save(B, LONG, "beta")
    toml = workspace.root / "promptbench.toml"
    models = "".join(f'\n[models.{name}]\nmodel = "openai/{name}"\napi_base = "{openai_server.base_url}"\n'
                     f'input_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n{extra}'
                     for name, extra in (("plain", ""), ("usage", ""), ("nokey", 'api_key_env = "PB_TEST_NO_SUCH_KEY"\n')))
    toml.write_text(toml.read_text() + models)
    openai_server.set_scenario("plain", chunks=["Hello", " there"], include_usage=False)
    openai_server.set_scenario("usage", chunks=["Hi"], prompt_tokens=77, completion_tokens=1, include_usage=True)
    return workspace


@pytest.fixture
def window(qtbot, ws, tmp_path, monkeypatch):
    monkeypatch.delenv("PB_TEST_NO_SUCH_KEY", raising=False)
    win = open_window(qtbot, ws, tmp_path / "q.ini", select=A)
    win.tabs.setCurrentIndex(TAB_COMPARE)
    qtbot.waitUntil(win.compare.picker.is_loaded, timeout=15000)
    yield win
    close_window(win)


def picker_input(win, name: str) -> str:
    for item in win.compare.picker._items():
        if win.compare.picker._item_name(item) == name:
            return item.text(COL_INPUT)
    raise LookupError(name)


def run_and_wait(qtbot, win, timeout=20000):
    qtbot.keyClick(win.compare, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: win.compare.panes() and all(p.run_id for p in win.compare.panes()), timeout=timeout)
    qtbot.waitUntil(lambda: not win.compare.is_running(), timeout=timeout)


def test_the_estimate_follows_the_prompt_on_screen_and_equals_the_run(qtbot, window):
    win = window
    win.compare.picker.set_selected(["plain"])
    label = win.compare.picker.estimate_label
    qtbot.waitUntil(lambda: f"{A} · Test case 1" in label.text(), timeout=10000)
    assert "up to 64 output tokens" in label.text()
    alpha_tokens = picker_input(win, "plain")
    # The person switches prompts in the list: the estimate follows without a reload.
    win.tree.select(B)
    qtbot.waitUntil(lambda: f"{B} · Test case 1" in label.text(), timeout=10000)
    assert "up to 96 output tokens" in label.text()
    beta_tokens = picker_input(win, "plain")
    assert beta_tokens != alpha_tokens and beta_tokens.startswith("~")
    run_and_wait(qtbot, win)
    (pane,) = win.compare.panes()
    assert win.compare.summary.text().startswith(f"{B} @ ") and "Test case 1" in win.compare.summary.text()
    assert pane.values["in"].text() == beta_tokens  # the estimate was this run's input
    assert pane.output_text() == "Hello there"


def test_reported_usage_replaces_the_estimate(qtbot, window):
    window.compare.picker.set_selected(["usage"])
    run_and_wait(qtbot, window)
    (pane,) = window.compare.panes()
    assert pane.values["in"].text() == "77" and pane.values["out"].text() == "1"


def test_elapsed_never_goes_back_and_ends_at_the_true_total(qtbot, window, openai_server):
    openai_server.set_scenario("plain", chunks=[f" w{i}" for i in range(30)], first_token_delay_s=0.3,
                               chunk_interval_s=0.06, include_usage=False)
    window.compare.picker.set_selected(["plain"])
    qtbot.keyClick(window.compare, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.compare.panes() and window.compare.panes()[0].state.sent_ns, timeout=10000)
    (pane,) = window.compare.panes()
    samples = []
    while len(samples) < 10 and not pane.state.terminal:
        qtbot.wait(150)
        samples.append(pane.values["elapsed"].text())
    qtbot.waitUntil(lambda: pane.state.terminal, timeout=15000)
    final = pane.values["elapsed"].text()
    seconds = [float(re.match(r"([\d.]+) s", s).group(1)) for s in [*samples, final] if s != "—"]
    assert len(seconds) >= 8, samples
    assert seconds == sorted(seconds), f"elapsed went back: {samples} then {final}"
    true_total = (pane.state.ended_ns - pane.state.sent_ns) / 1e9
    assert final == fmt_elapsed(true_total)
    assert pane.state.final.total_ms == pytest.approx(true_total * 1000, abs=1)


def test_a_model_without_its_key_is_not_sent_and_costs_nothing(qtbot, window, openai_server, ws):
    before = [r for r in openai_server.log() if r.get("model") == "nokey"]
    window.compare.picker.set_selected(["nokey", "plain"])
    run_and_wait(qtbot, window)
    panes = {p.state.model_name: p for p in window.compare.panes()}
    nokey, plain = panes["nokey"], panes["plain"]
    assert [r for r in openai_server.log() if r.get("model") == "nokey"] == before, "the request was sent"
    assert nokey.status_label.text() == "error: auth"
    assert "PB_TEST_NO_SUCH_KEY is not set" in nokey.error_banner.text() and "nothing was sent" in nokey.error_banner.text()
    assert nokey.values["cost"].text() == "$0"
    assert plain.state.status == "done"  # the other model is not held back
    assert nokey.settings_button.isVisibleTo(nokey)
    seen = []

    def close_settings():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            qtbot.wait(20)
            return close_settings()
        seen.append((dialog.pages.currentWidget() is dialog.models_page, dialog.models_page.form.name.text()))
        dialog.reject()
    from PySide6.QtCore import QTimer
    QTimer.singleShot(0, close_settings)
    nokey.settings_button.click()
    assert seen == [(True, "nokey")]
    window.services.runs().flush()
    with RunStore(ws.root / ".promptbench" / "promptbench.db") as runs:
        stored = runs.get_run(nokey.run_id)
    assert (stored["status"], stored["error_class"], stored["cost_usd"], stored["kind"]) == ("error", "auth", 0.0, "comparison")


def test_test_cases_read_from_one_everywhere(qtbot, window):
    window.tabs.setCurrentIndex(0)
    assert window.editor.variables.source.itemText(1).startswith("Test case 1")
    window.editor.variables.select_test_case(1)
    window.tabs.setCurrentIndex(TAB_COMPARE)
    window.compare.picker.set_selected(["plain"])
    qtbot.waitUntil(lambda: f"{A} · Test case 2" in window.compare.picker.estimate_label.text(), timeout=10000)
    run_and_wait(qtbot, window)
    assert "Test case 2" in window.compare.summary.text() and "Test case 1" not in window.compare.summary.text()
