"""A streaming pane shows text and figures at a human rate, and never loses or delays
the first text, a new status or the end (the GUI thread stays free while 8 panes stream)."""

from __future__ import annotations

from promptbench.core.engine import events as ev
from promptbench.core.engine.events import RunMetrics
from promptbench.gui.compare.run_pane import FIGURES_EVERY_NS, TEXT_EVERY_NS, RunPane

MS = 1_000_000


def shown(pane: RunPane) -> str:
    return pane.output.raw.toPlainText()


def test_text_shows_first_at_once_then_at_most_every_text_interval_and_all_of_it_at_the_end(qtbot):
    pane = RunPane("alpha")
    qtbot.addWidget(pane)
    pane.bind("r1")
    t = 1_000 * MS
    pane.apply_events([ev.RunStarted("r1", "c1", "alpha", t, 12, 1e-6, 2e-6), ev.RequestSent("r1", t, 0)], t)
    assert pane.values["in"].text() == "~12" and pane.status_text() == "waiting for first token"
    pane.apply_events([ev.FirstToken("r1", t + 5 * MS, 5.0), ev.TextDelta("r1", "Hello", t + 5 * MS, 1)], t + 5 * MS)
    assert shown(pane) == "Hello" and pane.status_text() == "streaming"  # the first text: at once
    assert pane.values["ttft"].text() == "5 ms"
    pane.apply_events([ev.TextDelta("r1", " there", t + 20 * MS, 2)], t + 30 * MS)
    assert shown(pane) == "Hello" and pane.output_text() == "Hello there"  # held back, not lost
    pane.apply_events([ev.TextDelta("r1", ",", t + 40 * MS, 3)], t + 5 * MS + TEXT_EVERY_NS)
    assert shown(pane) == "Hello there,"
    pane.apply_events([ev.TextDelta("r1", " you", t + 60 * MS, 4)], t + 5 * MS + TEXT_EVERY_NS + MS)
    pane.tick(t + 5 * MS + TEXT_EVERY_NS + 100 * MS)  # the view's clock shows what was held back
    assert shown(pane) == "Hello there, you"
    pane.apply_events([ev.TextDelta("r1", "!", t + 70 * MS, 5)], t + 5 * MS + TEXT_EVERY_NS + 101 * MS)
    metrics = RunMetrics(ttft_ms=5.0, output_tokens=5, tokens_reported=True, input_tokens=12)
    pane.apply_events([ev.RunFinished("r1", "Hello there, you!", metrics, "c1", t + 80 * MS)],
                      t + 5 * MS + TEXT_EVERY_NS + 102 * MS)  # the end: everything, at once
    assert shown(pane) == "Hello there, you!" == pane.output_text() and pane.status_text() == "done"
    assert pane.values["out"].text() == "5"


def test_figures_refresh_at_most_every_figures_interval_but_a_new_status_at_once(qtbot):
    pane = RunPane("alpha")
    qtbot.addWidget(pane)
    pane.bind("r1")
    t = 1_000 * MS
    pane.apply_events([ev.RunStarted("r1", "c1", "alpha", t, 12, 1e-6, 2e-6), ev.RequestSent("r1", t, 0),
                       ev.TextDelta("r1", "a", t + MS, 1)], t + MS)
    assert pane.values["out"].text() == "~1"
    pane.apply_events([ev.TextDelta("r1", "b", t + 2 * MS, 2)], t + 2 * MS)
    assert pane.values["out"].text() == "~1"  # within the interval: the figure waits
    pane.apply_events([ev.Retrying("r1", 1, 0.5, "rate limited")], t + 3 * MS)
    assert pane.status_text() == "retrying (1)" and pane.values["out"].text() == "~2"  # a new status: at once
    pane.apply_events([ev.TextDelta("r1", "c", t + 4 * MS, 3)], t + 3 * MS + FIGURES_EVERY_NS)
    assert pane.values["out"].text() == "~3"


def test_a_rerun_shows_its_first_text_at_once_again(qtbot):
    pane = RunPane("alpha")
    qtbot.addWidget(pane)
    pane.bind("r1")
    t = 1_000 * MS
    pane.apply_events([ev.RunStarted("r1", "c1", "alpha", t, 1, None, None), ev.TextDelta("r1", "one", t, 1)], t)
    pane.reset()
    pane.bind("r2")
    pane.apply_events([ev.RunStarted("r2", "c2", "alpha", t, 1, None, None), ev.TextDelta("r2", "two", t + MS, 1)],
                      t + MS)
    assert shown(pane) == "two"


def test_a_local_answer_restarted_after_its_server_died_drops_the_first_try(qtbot):
    pane = RunPane("local smol")
    qtbot.addWidget(pane)
    pane.bind("r1")
    t = 1_000 * MS
    pane.apply_events([ev.RunStarted("r1", "c1", "local smol", t, 20, 0.0, 0.0), ev.RequestSent("r1", t, 0),
                       ev.FirstToken("r1", t + 40 * MS, 40.0), ev.TextDelta("r1", "Once upon", t + 40 * MS, 2)],
                      t + 40 * MS)
    pane.apply_events([ev.TextDelta("r1", " a time", t + 50 * MS, 4)], t + 50 * MS)  # held back
    assert pane.output_text() == "Once upon a time"
    pane.apply_events([ev.Retrying("r1", 1, 0.0, "the local server stopped", discard_output=True)], t + 60 * MS)
    assert pane.output_text() == "" and shown(pane) == ""  # nothing of the first try stays, held back or shown
    assert pane.status_text() == "retrying (1)" and pane.values["ttft"].text() in ("", "–", "-", "—")
    pane.apply_events([ev.RequestSent("r1", t + 600 * MS, 1), ev.FirstToken("r1", t + 700 * MS, 100.0),
                       ev.TextDelta("r1", "Once", t + 700 * MS, 1)], t + 700 * MS)
    assert shown(pane) == "Once"  # the new first text: at once
    metrics = RunMetrics(ttft_ms=100.0, output_tokens=3, tokens_reported=True, input_tokens=20, input_tokens_reported=True,
                         retries=1, queue_ms=250.0, server_prompt_ms=60.0, server_decode_tokens_per_s=88.46,
                         server_cached_tokens=0)
    pane.apply_events([ev.RunFinished("r1", "Once upon", metrics, "c1", t + 800 * MS)], t + 800 * MS)
    assert shown(pane) == "Once upon" and pane.status_text() == "done (1 retry)" and pane.values["out"].text() == "3"
    # where the first token's time went, in the server's own figures
    assert pane.values["ttft"].text() == "100 ms"
    assert pane.values["ttft"].toolTip() == (
        "TTFT 100 ms = the server reading the prompt 60 ms (20 tokens) + the first token and its transfer 40 ms; "
        "before that, 250 ms waiting for the model's turn\nThe server's own decode rate: 88.5 tok/s")
