"""The runs view lists finished comparisons and reopens them read-only."""

from __future__ import annotations

from promptbench.gui.compare import CompareView
from promptbench.gui.runs.runs_view import RunsView
from tests.gui.test_compare import MODELS, WAIT_MS, services, source, wait_terminal, widgets  # noqa: F401  (fixtures)


def test_runs_view_lists_and_reopens_a_comparison(qtbot, services, widgets, openai_server):  # noqa: F811
    texts = {"alpha": "**Bold** answer from alpha", "beta": "beta says hi", "gamma": "gamma fails"}
    openai_server.set_scenario("alpha", chunks=["**Bold**", " answer", " from alpha"], completion_tokens=3)
    openai_server.set_scenario("beta", chunks=["beta", " says", " hi"])
    openai_server.set_scenario("gamma", chunks=["gamma", " fails", " late"], fault="reset_mid_stream", fault_after_chunks=2)
    runs = RunsView(services)
    widgets(runs)
    runs.resize(1300, 800)
    qtbot.waitUntil(lambda: runs.count_label.text() == "0 comparisons", timeout=WAIT_MS)

    compare = CompareView(services)
    widgets(compare)
    compare.set_source(source)
    qtbot.waitUntil(compare.picker.is_loaded, timeout=WAIT_MS)
    with qtbot.waitSignal(compare.comparison_finished, timeout=WAIT_MS):
        compare.run()
    live = wait_terminal(qtbot, compare)

    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=WAIT_MS)  # refreshed by ComparisonFinished
    cells = [runs.table.item(0, c).text() for c in range(runs.table.columnCount())]
    assert cells[1] == "greeter.prompt.yml"
    assert cells[2] == live["alpha"].request.prompt_version[:8]
    assert cells[3] == ", ".join(MODELS)
    assert cells[4] == "2 finished, 1 error"
    assert cells[5].endswith("ms") and cells[6].startswith("$")

    runs.table.selectRow(0)
    qtbot.waitUntil(lambda: len(runs.grid.panes()) == 3, timeout=WAIT_MS)
    stored = {p.state.model_name: p for p in runs.grid.panes()}
    for name in MODELS:
        pane = stored[name]
        assert pane.read_only and not pane.cancel_button.isVisibleTo(pane) and not pane.rerun_button.isVisibleTo(pane)
        assert pane.output_text() == live[name].output_text()
        assert pane.state.output_tokens == live[name].state.output_tokens
        assert pane.state.cost_usd == live[name].state.cost_usd
    assert stored["alpha"].output_text() == texts["alpha"] and stored["alpha"].output.showing_markdown()
    assert stored["alpha"].values["out"].text() == "3"
    assert stored["gamma"].state.status == "error" and stored["gamma"].error_banner.isVisibleTo(stored["gamma"])
    assert "greeter.prompt.yml" in runs.detail_label.text()
    runs.grab().save("/tmp/runs_view.png")

    runs.status_box.setCurrentIndex(runs.status_box.findData("cancelled"))  # no run was cancelled
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and "0 comparisons" in runs.count_label.text(), timeout=WAIT_MS)
    runs.status_box.setCurrentIndex(runs.status_box.findData("error"))
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=WAIT_MS)
    runs.model_box.setCurrentIndex(runs.model_box.findData("gamma"))  # gamma is the one that failed
    runs.version_edit.setText("draft")  # the comparison ran the saved version
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and "0 comparisons" in runs.count_label.text(), timeout=WAIT_MS)
    runs.version_edit.setText(live["alpha"].request.prompt_version[:6])
    qtbot.waitUntil(lambda: runs.table.rowCount() == 1, timeout=WAIT_MS)
    assert runs.prompt_box.findData("greeter.prompt.yml") > 0
    runs.until_check.setChecked(True)
    runs.until_edit.setDate(runs.until_edit.date().addDays(-2))
    qtbot.waitUntil(lambda: runs.table.rowCount() == 0 and "0 comparisons" in runs.count_label.text(), timeout=WAIT_MS)


def test_summarize_groups_runs_by_comparison_and_filters():
    from promptbench.gui.compare.run_summary import Filters, summarize

    def run(i, cid, model, status, ttft, cost, when, version="abc123"):
        return {"id": f"r{i}", "comparison_id": cid, "model_name": model, "status": status, "ttft_ms": ttft,
                "cost_usd": cost, "started_at": when, "prompt_path": "p.prompt.yml", "prompt_version": version}
    runs = [  # newest first, as the store lists them
        run(4, "c2", "beta", "error", None, None, "2024-05-02T10:00:00.000Z", "draft:ffee"),
        run(3, "c2", "alpha", "finished", 90.0, 0.002, "2024-05-02T10:00:00.000Z", "draft:ffee"),
        run(2, "c1", "beta", "finished", 120.0, 0.003, "2024-05-01T10:00:00.000Z"),
        run(1, "c1", "alpha", "finished", 80.0, 0.001, "2024-05-01T10:00:00.000Z"),
    ]
    rows = summarize(runs)
    assert [r.comparison_id for r in rows] == ["c2", "c1"]
    assert rows[0].models == ["alpha", "beta"] and rows[0].statuses_text() == "1 finished, 1 error"
    assert rows[0].total_cost_usd == 0.002 and rows[0].unknown_cost == 1 and rows[0].best_ttft_ms == 90.0
    assert rows[1].best_ttft_ms == 80.0 and rows[1].total_cost_usd == 0.004
    assert [r.comparison_id for r in summarize(runs, Filters(status="error"))] == ["c2"]
    assert [r.comparison_id for r in summarize(runs, Filters(version="draft"))] == ["c2"]
    assert [r.comparison_id for r in summarize(runs, Filters(version="abc"))] == ["c1"]
    assert [r.comparison_id for r in summarize(runs, Filters(model="beta", status="finished"))] == ["c1"]
