"""Runs and the Dashboard show comparisons and eval cells unless their "Show" box asks for
more (judge calls, ranking generations, warm-ups, connection tests); a judge call reads
as its evaluator's call for an eval, never as a prompt named "judge:…"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from promptbench.core.dashboard.sql import Filters
from promptbench.core.figures import fmt_cost
from promptbench.gui.dashboard import DashboardView
from promptbench.gui.runs.runs_view import COLUMNS, RunsView
from tests.core.test_run_kinds import MIXED, SHOWN, cost_of, store_run
from tests.gui.test_dashboard import WAIT_MS, check_drawn, fresh, services  # noqa: F401  (fixture)

KIND_COL, PROMPT_COL = COLUMNS.index("Kind"), COLUMNS.index("Prompt")


@pytest.fixture
def mixed(services):  # noqa: F811
    store = services.runs()
    for i, (run_id, (kind, prompt, model, cost)) in enumerate(MIXED.items()):
        variables = {"eval_id": "evalA1234567", "run_id": "e1", "evaluator": "mentions it"} if kind == "judge" else None
        store_run(store, run_id, kind, prompt, model, cost, minutes=2880 * i, variables=variables)  # daily buckets
    store.flush()
    return MIXED


def table(view: RunsView) -> list[list[str]]:
    return [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(view.table.rowCount())]


def choose(box, text: str) -> None:
    index = box.findText(text)
    assert index >= 0, [box.itemText(i) for i in range(box.count())]
    box.setCurrentIndex(index)


def test_runs_lists_comparisons_and_eval_cells_unless_asked(qtbot, services, mixed):  # noqa: F811
    view = RunsView(services)
    qtbot.addWidget(view)
    view.resize(1400, 700)
    qtbot.waitUntil(lambda: view.count_label.text() == "2 comparisons, 1 eval cell", timeout=WAIT_MS)
    assert view.kind_box.currentText() == "Comparisons and eval cells"
    rows = table(view)
    assert sorted(r[KIND_COL] for r in rows) == ["Comparison", "Comparison", "Eval cell"]
    assert all(r[PROMPT_COL] == "a.prompt.yml" for r in rows)
    assert [view.prompt_box.itemData(i) for i in range(1, view.prompt_box.count())] == ["a.prompt.yml"]

    choose(view.kind_box, "+ judge calls")
    qtbot.waitUntil(lambda: view.table.rowCount() == 4, timeout=WAIT_MS)
    assert view.count_label.text() == "2 comparisons, 1 eval cell, 1 judge call"
    [judge] = [i for i, r in enumerate(table(view)) if r[KIND_COL] == "Judge call"]
    prompt = view.table.item(judge, PROMPT_COL)
    assert prompt.text() == "judge: mentions it (eval evalA123)"  # not a prompt named "judge:mentions it"
    assert "of eval evalA1234567, judging run e1" in prompt.toolTip()
    assert table(view)[judge][3] == "judge-model" and table(view)[judge][6] == fmt_cost(1.0)
    assert "judge:mentions it" not in [view.prompt_box.itemData(i) for i in range(view.prompt_box.count())]
    view.table.selectRow(judge)
    qtbot.waitUntil(lambda: "Judge call" in view.detail_label.text(), timeout=WAIT_MS)
    assert "evaluator mentions it" in view.detail_label.text() and "eval evalA1234567" in view.detail_label.text()
    assert len(view.grid.panes()) == 1

    choose(view.kind_box, "All kinds")
    qtbot.waitUntil(lambda: view.table.rowCount() == len(MIXED), timeout=WAIT_MS)
    kinds = {r[KIND_COL]: r for r in table(view)}
    assert set(kinds) == {"Comparison", "Eval cell", "Judge call", "Warm-up", "Connection test", "Ranking generation"}
    assert kinds["Warm-up"][PROMPT_COL] == kinds["Connection test"][PROMPT_COL] == "(no prompt)"
    assert view.count_label.text() == ("2 comparisons, 1 eval cell, 1 judge call, 1 ranking generation, 1 warm-up, "
                                       "1 connection test")  # fmt: skip

    view.show_filtered({"kinds": ["judge"]})  # e.g. a dashboard click on a judge model's point
    qtbot.waitUntil(lambda: view.table.rowCount() == 1 and view.count_label.text() == "1 judge call", timeout=WAIT_MS)
    assert view.kind_box.currentText() == "Judge calls" and view.kinds() == ("judge",)
    view.show_filtered({"kinds": ["judge"], "status": "error"})
    qtbot.waitUntil(lambda: view.count_label.text() == "0 judge calls", timeout=WAIT_MS)
    view.show_filtered({"model_name": "beta"})  # no kinds: the default again
    qtbot.waitUntil(lambda: view.count_label.text() == "1 comparison", timeout=WAIT_MS)
    assert view.kinds() == ("comparison", "eval_cell")


def test_dashboard_totals_leave_other_kinds_out_unless_asked(qtbot, services, mixed):  # noqa: F811
    view = DashboardView(services)
    qtbot.addWidget(view)
    view.resize(1400, 1000)
    view.show()
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    assert view.data.filters.kinds == ("comparison", "eval_cell") and view.data.total_runs() == len(SHOWN)
    assert "3 ended runs (comparisons and eval cells)" in view.status_label.text()
    assert sum(view.cards["cost"].series.lines[n].sum() for n in view.cards["cost"].series.lines) == cost_of(SHOWN)
    assert view.cards["cost"].note.text().startswith("comparisons and eval cells only")
    assert "judge-model" not in view.cards["ttft"].series.names
    check_drawn(view, fresh(services))

    updated = []
    view.charts_updated.connect(lambda: updated.append(1))
    choose(view.filter_bar.kind_box, "All kinds")
    qtbot.waitUntil(lambda: bool(updated) and view.is_idle(), timeout=WAIT_MS)
    assert view.data.filters.kinds is None and view.data.total_runs() == len(MIXED)
    assert f"{len(MIXED)} ended runs (all kinds of runs)" in view.status_label.text()
    assert view.cards["cost"].note.text() == ""
    check_drawn(view, fresh(services, Filters(kinds="all")))

    card = view.cards["ttft"]
    hit = next(k for k in range(len(card.hits)) if card.hits.filter(k).get("model_name") == "judge-model")
    vp = card.plot_widget.mapFromScene(card.scene_pos_of(hit))
    with qtbot.waitSignal(view.runs_requested, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(card.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=vp)
    assert signal.args[0] == {"model_name": "judge-model", "status": "finished", "kinds": "all"}
    qtbot.waitUntil(lambda: view.run_ids_shown() == ["j1"], timeout=WAIT_MS)

    updated.clear()
    choose(view.filter_bar.kind_box, "+ warm-ups and connection tests")
    qtbot.waitUntil(lambda: bool(updated) and view.is_idle(), timeout=WAIT_MS)
    assert view.data.total_runs() == len(SHOWN) + 2
    assert view.cards["cost"].note.text().startswith("comparisons, eval cells, warm-ups and connection tests only")
