"""The live compare view against the loopback OpenAI server: real engine, real run store."""

from __future__ import annotations

import threading

import pytest
import shiboken6

from promptbench.core.prompts.promptfile import parse_prompt
from promptbench.gui.compare import CompareView
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"
MODELS = ("alpha", "beta", "gamma")
PRICE_IN, PRICE_OUT = 1.0, 2.0  # USD per million tokens, as in the catalog below
WAIT_MS = 30000


def catalog(base_url: str) -> str:
    tables = "".join(f"""
[models.{name}]
model = "openai/{name}"
api_base = "{base_url}"
input_cost_per_mtok = {PRICE_IN}
output_cost_per_mtok = {PRICE_OUT}
""" for name in MODELS)
    return f"""
[local]
mode = "sequential"

[compare]
default_models = {list(MODELS)!r}

[timeouts]
connect_s = 3
first_token_s = 10
idle_s = 5

[retries]
max = 1
{tables}""".replace("'", '"')


@pytest.fixture
def services(workspace, openai_server):
    (workspace.root / "promptbench.toml").write_text(catalog(openai_server.base_url))
    workspace.save(P, SIMPLE_PROMPT, "greeter")
    svc = Services(workspace, key_lookup=lambda m: None)
    yield svc
    svc.close()
    # Delete the Qt side now, on the GUI thread: left to Python's cyclic GC it could be
    # collected on a worker thread, which deletes its QTimer there (a crash later on).
    shiboken6.delete(svc)


@pytest.fixture
def widgets():
    """Widgets built by a test, deleted on the GUI thread when it ends (see services)."""
    made = []
    yield made.append
    for widget in reversed(made):
        if shiboken6.isValid(widget):
            if hasattr(widget, "shutdown"):
                widget.shutdown()
            shiboken6.delete(widget)


def source():
    return P, SIMPLE_PROMPT.encode(), parse_prompt(SIMPLE_PROMPT, P), 0, {}


@pytest.fixture
def view(qtbot, services, widgets):
    widget = CompareView(services)
    widgets(widget)
    widget.resize(1400, 800)
    widget.set_source(source)
    qtbot.waitUntil(widget.picker.is_loaded, timeout=WAIT_MS)
    return widget


def wait_terminal(qtbot, view, count=len(MODELS)):
    qtbot.waitUntil(lambda: len(view.panes()) == count and all(p.state.terminal for p in view.panes()), timeout=WAIT_MS)
    return {p.state.model_name: p for p in view.panes()}


def slow(server, *names):
    for name in names:
        server.set_scenario(name, n_chunks=400, chunk_text=" tick", chunk_interval_s=0.05)


def cost(tokens_in, tokens_out):
    return tokens_in * PRICE_IN / 1e6 + tokens_out * PRICE_OUT / 1e6


def test_three_models_stream_into_three_panes(view, openai_server, qtbot):
    sent = {"alpha": ["Hello", " **Ada**", "!\n\n- one\n- two\n"],
            "beta": [f" word{i}" for i in range(60)],
            "gamma": ["# Title\n\n", "Some `code` and ", "a [link](http://example.com)."]}
    usage = {"alpha": (11, 7), "beta": (23, 60), "gamma": (17, 9)}
    for name in MODELS:
        openai_server.set_scenario(name, chunks=sent[name], prompt_tokens=usage[name][0],
                                   completion_tokens=usage[name][1], chunk_interval_s=0.01)
    assert view.picker.selected_names() == list(MODELS)  # the workspace's default_models
    view.run()
    assert [p.state.model_name for p in view.panes()] == list(MODELS)
    seen_streaming = set()
    qtbot.waitUntil(lambda: seen_streaming.update(p.state.model_name for p in view.panes() if p.state.status == "streaming")
                    or all(p.state.terminal for p in view.panes()), timeout=WAIT_MS)
    panes = wait_terminal(qtbot, view)
    for name, pane in panes.items():
        s = pane.state
        assert s.status == "done", (name, s.status, s.error_message)
        assert pane.output_text() == "".join(sent[name])
        assert pane.output.raw.toPlainText() == "".join(sent[name])
        assert s.ttft_ms is not None and s.ttft_ms >= 0
        assert s.tokens_reported and s.output_tokens == usage[name][1]
        assert s.input_reported and s.input_tokens == usage[name][0]
        assert s.cost_usd == pytest.approx(cost(*usage[name]))
        assert pane.values["out"].text() == str(usage[name][1])  # no "~": reported
        assert pane.values["ttft"].text().endswith(("ms", " s"))
        assert pane.output.showing_markdown()
        assert not pane.error_banner.isVisibleTo(pane)
    assert "Ada" in panes["alpha"].output.rendered.toPlainText()
    assert "**" not in panes["alpha"].output.rendered.toPlainText()  # rendered, not raw
    assert "cheapest" in panes["alpha"].badges()
    assert "greeter.prompt.yml" in view.summary.text()
    assert not view.is_running()


def test_a_failing_provider_shows_in_its_pane_only(view, openai_server, qtbot):
    openai_server.set_scenario("alpha", chunks=["fine", " answer"])
    openai_server.set_scenario("beta", chunks=["one", " two", " three", " four"], fault="reset_mid_stream",
                               fault_after_chunks=2, chunk_interval_s=0.02)
    openai_server.set_scenario("gamma", fault="status", status_code=503)  # retried once, then fails
    view.run()
    panes = wait_terminal(qtbot, view)
    assert panes["alpha"].state.status == "done" and panes["alpha"].output_text() == "fine answer"
    beta = panes["beta"]
    assert beta.state.status == "error" and beta.state.error_class == "connection"
    assert beta.output_text() == "one two"  # partial output kept
    assert beta.error_banner.isVisibleTo(beta) and "connection" in beta.error_banner.text()
    gamma = panes["gamma"]
    assert gamma.state.status == "error" and gamma.state.error_class == "server"
    assert gamma.state.retries == 1 and "1 retry" in gamma.status_text()
    assert gamma.error_banner.isVisibleTo(gamma)
    assert not panes["alpha"].error_banner.isVisibleTo(panes["alpha"])
    panes["beta"].grab().save("/tmp/compare_error_pane.png")
    view.grab().save("/tmp/compare_with_errors.png")


def test_cancel_one_then_cancel_all(view, openai_server, qtbot):
    slow(openai_server, *MODELS)
    view.run()
    qtbot.waitUntil(lambda: len(view.panes()) == 3 and all(p.state.status == "streaming" for p in view.panes()),
                    timeout=WAIT_MS)
    alpha, beta, gamma = view.panes()
    beta.cancel_button.click()
    qtbot.waitUntil(lambda: beta.state.terminal, timeout=WAIT_MS)
    assert beta.state.status == "cancelled" and beta.output_text().startswith(" tick")
    assert alpha.state.status == "streaming" and gamma.state.status == "streaming"
    assert view.is_running()
    view.cancel_all()
    panes = wait_terminal(qtbot, view)
    assert {p.state.status for p in panes.values()} == {"cancelled"}
    assert all(p.output_text() for p in panes.values())
    assert not view.is_running() and not view.cancel_action.isEnabled()


def test_rerun_one_pane(view, openai_server, qtbot):
    for name in MODELS:
        openai_server.set_scenario(name, chunks=[f"first {name}"])
    view.run()
    panes = wait_terminal(qtbot, view)
    old_run = panes["alpha"].run_id
    before = len(openai_server.log())
    openai_server.set_scenario("alpha", chunks=["second", " answer"], completion_tokens=2)
    panes["alpha"].rerun_button.click()
    qtbot.waitUntil(lambda: panes["alpha"].run_id not in (None, old_run) and panes["alpha"].state.terminal,
                    timeout=WAIT_MS)
    assert panes["alpha"].output_text() == "second answer"
    assert panes["alpha"].state.output_tokens == 2
    assert panes["beta"].output_text() == "first beta" and panes["gamma"].output_text() == "first gamma"
    assert view.panes() == list(panes.values())  # same panes, content replaced
    new_requests = openai_server.log()[before:]
    assert [r["body"]["model"] for r in new_requests] == ["alpha"]


def test_a_new_run_replaces_the_old_one_and_drops_its_events(view, openai_server, qtbot):
    slow(openai_server, *MODELS)
    view.run()
    qtbot.waitUntil(lambda: any(p.state.status == "streaming" for p in view.panes()), timeout=WAIT_MS)
    old_ids = {p.run_id for p in view.panes()}
    for name in MODELS:
        openai_server.set_scenario(name, chunks=[f"new {name}"])
    view.run()
    panes = wait_terminal(qtbot, view)
    assert {p.run_id for p in panes.values()}.isdisjoint(old_ids)
    assert {n: p.output_text() for n, p in panes.items()} == {n: f"new {n}" for n in MODELS}


def test_closing_mid_stream_stops_the_engine_thread(view, services, openai_server, qtbot):
    slow(openai_server, *MODELS)
    view.run()
    qtbot.waitUntil(lambda: any(p.state.status == "streaming" for p in view.panes()), timeout=WAIT_MS)
    assert any(t.name == "promptbench-engine" for t in threading.enumerate())
    view.shutdown()
    services.close()
    assert not [t for t in threading.enumerate() if t.name == "promptbench-engine"]


def test_picker_groups_models_shows_keys_and_estimates(view, qtbot):
    picker = view.picker
    assert picker._groups["catalog"].childCount() == 3
    alpha = picker._groups["catalog"].child(0)
    assert alpha.text(0) == "alpha" and alpha.text(1)  # key status shown (never a key)
    qtbot.waitUntil(lambda: alpha.text(2).startswith("~"), timeout=WAIT_MS)
    assert alpha.text(3).startswith("$") and picker.estimate_label.text().startswith("Before running")
    picker.ad_hoc.setText("openai/delta")
    picker.add_button.click()
    qtbot.waitUntil(lambda: "openai/delta" in picker.available_names(), timeout=WAIT_MS)
    assert picker.selected_names() == [*MODELS, "openai/delta"]
    assert picker._groups["ad-hoc"].childCount() == 1
    picker.set_local_mode("parallel")
    assert picker.local_mode() == "parallel"


def test_screenshot_finished_compare(view, openai_server, qtbot):
    texts = {"alpha": "Hello **Ada**! Here is a list:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n",
             "beta": "Greetings, Ada. " * 12, "gamma": "# Hi Ada\n\nA *short* answer with `code`."}
    for name, text in texts.items():
        openai_server.set_scenario(name, text=text, chunk_interval_s=0.005)
    qtbot.waitUntil(lambda: view.picker.estimate_label.text().startswith("Before running"), timeout=WAIT_MS)
    view.run()
    wait_terminal(qtbot, view)
    view.grab().save("/tmp/compare_finished.png")


def test_the_router_feeds_bound_runs_and_drops_unknown_and_stale_ones():
    from promptbench.core.engine import events as ev
    from promptbench.core.engine.events import RunMetrics
    from promptbench.gui.compare.routing import EventRouter

    router = EventRouter()
    pane = object()
    router.launching()
    assert router.inflight == 1
    router.launched("c1", {"r1": pane})  # bound when compare() returned, before any event is delivered
    assert router.inflight == 0
    events = [ev.RunStarted("r1", "c1", "alpha", 1), ev.TextDelta("r1", "hi", 2, 1), ev.TextDelta("other", "x", 2, 1)]
    assert router.route(events) == ({pane: events[:2]}, [])  # a run no pane shows: dropped
    done = ev.RunFinished("r1", "hi", RunMetrics())
    assert router.route([done, ev.ComparisonFinished("c1"), ev.ComparisonFinished("c9")]) == ({pane: [done]}, ["c1"])
    assert router.route([ev.TextDelta("r1", "late", 3, 2)]) == ({}, [])  # after its end: dropped


def test_output_follows_the_end_unless_the_reader_scrolled_up(qtbot, widgets):
    from promptbench.gui.widgets.markdown import OutputView

    view = OutputView()
    widgets(view)
    view.resize(300, 120)
    view.show()
    bar = view.raw.verticalScrollBar()
    for i in range(60):
        view.append(f"line {i}\n")
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.setValue(0)  # the reader scrolls up to read the start
    for i in range(60, 80):
        view.append(f"line {i}\n")
    assert bar.value() == 0
    assert view.text() == "".join(f"line {i}\n" for i in range(80))
    view.complete()
    assert view.showing_markdown()
    view.set_markdown(False)
    assert not view.showing_markdown() and view.raw.toPlainText() == view.text()


def test_grid_shape():
    from promptbench.gui.compare.pane_grid import grid_shape

    assert [grid_shape(n) for n in (1, 2, 4, 5, 6, 8)] == [(1, 1), (1, 2), (1, 4), (2, 3), (2, 3), (2, 4)]


def test_thumbs_on_a_finished_pane_are_stored_with_its_run(view, services, openai_server, qtbot):
    from promptbench.core.ranking.votes import VoteStore

    for name in MODELS:
        openai_server.set_scenario(name, chunks=[" fine"])
    view.run()
    panes = wait_terminal(qtbot, view)
    pane = panes["beta"]
    qtbot.waitUntil(lambda: pane.thumbs.isEnabled() and pane.thumbs.run_id == pane.run_id, timeout=WAIT_MS)
    pane.thumbs.up.click()
    qtbot.waitUntil(lambda: pane.thumbs.up.isChecked(), timeout=WAIT_MS)
    thumbs = VoteStore(services.runs()).thumbs()
    assert [(t["run_id"], t["value"], t["model"]) for t in thumbs] == [(pane.run_id, 1, "beta")]
