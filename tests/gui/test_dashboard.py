"""The dashboard tab on a real run store: the plotted arrays (read back from the
pyqtgraph items) equal the database aggregates; filters change what is drawn; a run
ending live updates the charts incrementally; hover, click, PNG and CSV work."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from promptbench.core.db.access import Database
from promptbench.core.dashboard import series as S
from promptbench.core.dashboard.queries import load, run_ids
from promptbench.core.dashboard.sql import Filters
from promptbench.core.engine.events import ComparisonFinished, RunFinished, RunMetrics, TextDelta
from promptbench.gui.dashboard import DashboardView
from promptbench.gui.dashboard.drawing import POINTS
from tests.core.test_dashboard_queries import add_judgements, make_runs

WAIT_MS = 30000


@pytest.fixture
def services(workspace):
    from promptbench.gui.services import Services

    s = Services(workspace)
    yield s
    s.close()


@pytest.fixture
def filled(services):
    rows = make_runs(240)
    store = services.runs()
    store.insert_many_runs(rows)
    store.flush()
    add_judgements(store, rows, services.db_path)
    return rows


@pytest.fixture
def view(qtbot, services, filled):
    v = DashboardView(services)
    qtbot.addWidget(v)
    v.resize(1400, 1000)
    v.show()
    qtbot.waitUntil(v.is_idle, timeout=WAIT_MS)
    return v


def fresh(services, filters: Filters | None = None):
    return load(Database.readonly(services.db_path), filters)


def same(a, b) -> bool:
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=1e-12, equal_nan=True)


def check_drawn(view, data) -> None:
    """Every chart's plotted arrays equal the aggregates in ``data``."""
    for metric in ("ttft", "tps"):
        box, items = S.boxes(data, metric), view.cards[metric].items
        if not box.names:
            assert items == {}
            continue
        p5, p25, p50, p75, p95 = box.q.T
        assert same(items["boxes"].opts["x0"], p25) and same(items["boxes"].opts["width"], p75 - p25)
        assert same(items["whiskers"].opts["left"], p50 - p5) and same(items["whiskers"].opts["right"], p95 - p50)
        assert same(items["median"].getData()[0][::2], p50)
        ticks = view.cards[metric].plot.getAxis("left")._tickLevels[0]
        assert [t[1] for t in ticks] == box.names
    lat, items = S.latency(data), view.cards["latency"].items
    assert same(10 ** items["p50"].yData, lat.p50) and same(10 ** items["p95"].yData, lat.p95)
    assert same(items["p50"].xData, lat.x + 43200)
    cost, items = S.cost(data), view.cards["cost"].items
    assert [k for k in items if k != POINTS] == list(cost.lines)
    for name, y in cost.lines.items():
        assert same(items[name].yData, y)
    err, items = S.errors(data), view.cards["errors"].items
    assert list(items) == err.classes
    for j, cls in enumerate(err.classes):
        assert same(items[cls].opts["height"], err.rates[:, j])
    tok, items = S.tokens(data), view.cards["tokens"].items
    assert same(items["input"].opts["height"], tok.lines["input"]) and same(items["output"].opts["height"], tok.lines["output"])
    for which in ("thumbs", "evals"):
        rates, items = S.rates(data, which), view.cards[which].items
        assert [k for k in items if k != POINTS] == list(rates.lines)
        if rates.lines:  # the dots: every finite value of every line
            ys = np.concatenate(list(rates.lines.values()))
            assert same(np.sort(items[POINTS].data["y"]), np.sort(ys[np.isfinite(ys)]))
        for name, y in rates.lines.items():
            assert same(items[name].yData, y)
    length, items = S.output_length(data), view.cards["length"].items
    assert same(items["bars"].opts["width"], np.nan_to_num(length.chars))


def test_charts_show_the_stored_aggregates(view, services, filled):
    data = fresh(services)
    assert view.data.time == data.time and view.data.total_runs() == len(filled) - 1
    check_drawn(view, data)
    assert "ended runs" in view.status_label.text()
    view.grab().save("/tmp/dashboard_test.png")


def test_filters_change_what_is_drawn(qtbot, view, services, filled):
    bar = view.filter_bar
    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):
        bar.model_box.setCurrentIndex(bar.model_box.findData("beta"))
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    assert view.data.filters == Filters(model_name="beta")
    assert view.cards["ttft"].series.names == ["beta"] and list(view.cards["cost"].items) == ["beta", POINTS]
    check_drawn(view, fresh(services, Filters(model_name="beta")))

    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):
        bar.prompt_box.setCurrentIndex(bar.prompt_box.findData("a.prompt.yml"))
    assert bar.version_box.isEnabled() and bar.version_box.findData("va2") > 0
    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):
        bar.version_box.setCurrentIndex(bar.version_box.findData("va2"))
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    f = Filters(prompt_path="a.prompt.yml", prompt_version="va2", model_name="beta")
    assert view.data.filters == f
    check_drawn(view, fresh(services, f))
    assert view.cards["length"].series.keys == [("a.prompt.yml", "va2")]

    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):
        bar.model_box.setCurrentIndex(0)
        bar.prompt_box.setCurrentIndex(0)
        bar.since_edit.setDate(datetime(2026, 1, 3).date())
        bar.since_check.setChecked(True)
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    f = Filters(since="2026-01-03T00:00:00Z")
    assert view.data.filters == f
    check_drawn(view, fresh(services, f))
    assert bar.model_box.findData("gamma") > 0  # filtering never removes options


def test_a_run_ending_updates_the_charts_incrementally(qtbot, view, services):
    store = services.runs()
    before = view.data.total_runs()
    now = datetime.now(timezone.utc)
    new = make_runs(12, seed=21, start=now - timedelta(seconds=30), days=0.0001, prefix="live")
    new = [r for r in new if r.get("ended_at")]
    for r in new:
        r["ended_at"] = now + timedelta(milliseconds=5)  # ended after everything the view has read
    updates = []
    view.charts_updated.connect(lambda: updates.append(view.last_result))
    store.insert_many_runs(new)
    store.flush()
    bridge = services.bridge
    bridge.events_arrived.emit([TextDelta("live0000", "x", 0, 1)])  # not an ending: ignored
    bridge.events_arrived.emit([RunFinished(r["id"], "", RunMetrics()) for r in new[:6]])
    bridge.events_arrived.emit([RunFinished(r["id"], "", RunMetrics()) for r in new[6:]] + [ComparisonFinished("c")])
    qtbot.waitUntil(lambda: view.data.total_runs() == before + len(new) and view.is_idle(), timeout=WAIT_MS)
    assert len(updates) == 1 and not updates[0].full  # coalesced into one incremental read
    assert view.data.new_runs == len(new)
    data = fresh(services)
    assert view.data.time == data.time
    check_drawn(view, data)


def test_hover_and_click_list_the_runs_behind_a_point(qtbot, view, services):
    card = view.cards["ttft"]
    i = card.series.names.index("alpha")
    hit = next(k for k in range(len(card.hits)) if card.hits.filter(k).get("model_name") == "alpha")
    vp = card.plot_widget.mapFromScene(card.scene_pos_of(hit))
    qtbot.mouseMove(card.plot_widget.viewport(), vp)
    qtbot.waitUntil(lambda: "alpha" in card.hover_text, timeout=WAIT_MS)
    assert f"{card.series.n[i]:,} finished runs" in card.hover_text
    with qtbot.waitSignal(view.runs_requested, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(card.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=vp)
    assert signal.args[0] == {"model_name": "alpha", "status": "finished"}
    want = [r[0] for r in run_ids(Database.readonly(services.db_path), Filters(model_name="alpha"), status="finished")]
    qtbot.waitUntil(lambda: view.run_ids_shown() == want, timeout=WAIT_MS)
    assert "alpha" in view.point_label.text()
    qtbot.mouseMove(card.plot_widget.viewport(), QPoint(3, 3))
    qtbot.waitUntil(lambda: card.hover_text == "", timeout=WAIT_MS)

    errors = view.cards["errors"]
    hit = 0
    vp = errors.plot_widget.mapFromScene(errors.scene_pos_of(hit))
    with qtbot.waitSignal(view.runs_requested, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(errors.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=vp)
    assert signal.args[0]["status"] == "error" and signal.args[0]["error_class"] in errors.series.classes


def test_png_and_csv_exports_load_back(view, tmp_path):
    for cid, card in view.cards.items():
        png, table = tmp_path / f"{cid}.png", tmp_path / f"{cid}.csv"
        assert card.export_png(png)
        image = QImage(str(png))
        assert not image.isNull() and image.width() > 300 and image.height() > 200
        card.export_csv(table)
        header, rows = card.series.table()
        with open(table, newline="", encoding="utf-8") as fh:
            loaded = list(csv.reader(fh))
        assert loaded[0] == header and len(loaded) == len(rows) + 1
        for got, want in zip(loaded[1:], rows):
            assert got == ["" if v is None else str(v) for v in want]


def test_options_redraw_from_the_same_data(qtbot, view, services):
    card = view.cards["cost"]
    card.option_boxes["mode"].setCurrentIndex(card.option_boxes["mode"].findData("cumulative"))
    card.option_boxes["by"].setCurrentIndex(card.option_boxes["by"].findData("provider"))
    want = S.cost(fresh(services), by="provider", cumulative=True)
    assert [k for k in card.items if k != POINTS] == list(want.lines)
    assert list(want.lines) == sorted(want.lines, key=lambda n: -want.lines[n][-1])
    for name, y in want.lines.items():
        assert same(card.items[name].yData, y) and np.all(np.diff(y) >= 0)
    length = view.cards["length"]
    length.option_boxes["field"].setCurrentIndex(length.option_boxes["field"].findData("tokens"))
    assert same(length.items["bars"].opts["width"], np.nan_to_num(length.series.tokens))


def test_pyqtgraph_is_imported_only_when_the_tab_is_shown():
    code = ("import sys\nimport promptbench.gui.dashboard\nprint('pyqtgraph' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
