"""The dashboard's charts as a person sees them, on a real run store (SQLite) in a real
workspace: the tick labels pyqtgraph actually draws (AxisItem.generateDrawSpecs) say
local dates and times, never 1970, and costs in dollars; an empty chart says why; the
mouse wheel scrolls the page unless Ctrl is held (then it zooms that chart), "Reset
zoom" shows everything again, and a run ending live keeps a person's zoom."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QPainter, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QScrollArea

from promptbench.core.engine.events import RunFinished, RunMetrics
from promptbench.gui.dashboard import DashboardView
from tests.core.test_dashboard_queries import add_judgements, make_runs

WAIT_MS = 30000
E_NOTATION = re.compile(r"\d[eE][-+]?\d")
STARTED = datetime(2025, 12, 6, 13, 20, tzinfo=timezone.utc)  # 14:20 in Berlin


@pytest.fixture
def berlin(monkeypatch):
    """Local time is Europe/Berlin (UTC+1 in December), so local and UTC labels differ."""
    if not Path("/usr/share/zoneinfo/Europe/Berlin").exists():
        pytest.skip("no tzdata for Europe/Berlin")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def services(workspace):
    from promptbench.gui.services import Services

    s = Services(workspace)
    yield s
    s.close()


def store_runs(services, rows) -> None:
    store = services.runs()
    store.insert_many_runs(rows)
    store.flush()


def one_run(run_id: str = "one", model: str = "alpha", status: str = "finished", started=STARTED,
            cost: float | None = 1.5e-05) -> dict:  # fmt: skip
    row = {"id": run_id, "prompt_path": "a.prompt.yml", "prompt_version": "va1", "test_case": 0,
           "model_name": model, "model": f"openai/{model}", "provider": "p1", "status": status,
           "started_at": started, "ended_at": started + timedelta(milliseconds=1800), "ttft_ms": 240.0,
           "tokens_per_s": 42.0, "total_ms": 1800.0, "input_tokens": 12, "output_tokens": 30, "cost_usd": cost,
           "output": "hello there", "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    if status == "error":
        row.update(error_class="rate_limit", error="provider said no", ttft_ms=None, tokens_per_s=None)
    return row


def open_view(qtbot, services) -> DashboardView:
    view = DashboardView(services)
    qtbot.addWidget(view)
    view.resize(1400, 1000)
    view.show()
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    return view


def set_filter(qtbot, view, box, data) -> None:
    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):
        box.setCurrentIndex(box.findData(data))
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)


def drawn_labels(axis) -> list[tuple[float, float, str]]:
    """(left, right, text) of every tick label the axis draws, as it would paint it now."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    vertical = axis.orientation in ("left", "right")
    return [((r.top(), r.bottom()) if vertical else (r.left(), r.right())) + (text,) for r, _flags, text in texts]


def check_readable(axis) -> list[str]:
    """The drawn labels: none overlaps another, none says 1970 or uses e-notation."""
    labels = drawn_labels(axis)
    spans = sorted((a, b) for a, b, _t in labels)
    assert all(b1 <= a2 for (_a1, b1), (a2, _b2) in zip(spans, spans[1:])), labels
    texts = [t for _a, _b, t in labels]
    assert not [t for t in texts if "1970" in t or E_NOTATION.search(t)], texts
    return texts


def x_range(card) -> tuple[float, float]:
    return tuple(card.plot.getViewBox().viewRange()[0])


def wheel_event(widget, notches: int, ctrl: bool) -> QWheelEvent:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    return QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0), QPoint(0, 120 * notches),
                       Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip


def send_wheel(widget, notches: int = -1, ctrl: bool = False) -> bool:
    """A wheel event sent to ``widget`` (a chart's viewport) alone; returns whether it took it."""
    event = wheel_event(widget, notches, ctrl)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def wheel(widget, notches: int = -1, ctrl: bool = False) -> None:
    """Turn the wheel over the middle of ``widget`` as a mouse does: through its window, so
    an event the widget ignores goes on to the widgets around it (Qt hands on only
    spontaneous wheel events; one sent with QApplication.sendEvent stops where it lands)."""
    window = widget.window()
    centre = widget.mapTo(window, QPoint(widget.width() // 2, widget.height() // 2))
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    QTest.wheelEvent(window.windowHandle(), QPointF(centre), QPoint(0, 120 * notches), QPoint(0, 0), mods)


def page_scrollbar(view):
    scroll = next(s for s in view.findChildren(QScrollArea) if s.widget() is view.grid_host)
    return scroll.verticalScrollBar()


# -- one run: the time axes show its day, not 1970 --------------------------------------------
def test_one_run_shows_its_local_day_and_dollars(qtbot, berlin, services):
    store_runs(services, [one_run()])
    view = open_view(qtbot, services)
    started = STARTED.timestamp()
    expect_day = "6 Dec" if datetime.now().year == 2025 else "6 Dec 2025"
    for cid in ("latency", "cost", "tokens"):
        card = view.cards[cid]
        assert card.empty_text() == "" and len(card.hits) >= 1
        lo, hi = x_range(card)
        assert lo < started < hi and hi - lo < 86400, (cid, lo, hi)  # its neighbourhood, not 1970 to now
        axis = card.plot.getAxis("bottom")
        assert axis.isVisible()
        texts = check_readable(axis)
        assert len(texts) >= 2 and texts[0].startswith(expect_day), (cid, texts)
        values = axis.tickValues(lo, hi, axis.geometry().width())[0][1]
        assert axis.tickStrings(values, 1, 1) == texts  # every tick's label is drawn, the dated one first
        for v, text in zip(values, axis.tickStrings(values, 1, 1)):  # Berlin's clock (UTC+1), round times
            assert text.endswith(datetime.fromtimestamp(v).strftime("%H:%M")), texts
            assert datetime.fromtimestamp(v).minute % 15 == 0 and lo <= v <= hi
        assert values[0] <= started <= values[-1]  # the ticks are around the run
    # hover texts name the bucket in local time and the cost in dollars
    latency = view.cards["latency"]
    assert "Sat 6 Dec" in latency.hits.text(0) and "14:00–15:00" in latency.hits.text(0)
    dots = latency.items["points"].data  # one bucket is no line: its p50 and p95 are drawn as dots
    assert len(dots) == 2 and all(latency.plot.getViewBox().viewRect().contains(p["x"], p["y"]) for p in dots)
    cost = view.cards["cost"]
    assert any("$0.000015" in cost.hits.text(i) for i in range(len(cost.hits)))
    assert "alpha $0.000015" in cost.legend.text()
    money = check_readable(cost.plot.getAxis("left"))
    assert len(money) >= 2 and all(t.lstrip("-").startswith("$") for t in money), money
    assert "$0.000010" in money or "$0.000015" in money, money
    mode = cost.option_boxes["mode"]
    assert mode.itemText(mode.findData("daily")) == "per hour"  # one run: hourly buckets
    # the other charts: drawn, or saying why not
    assert view.cards["ttft"].empty_text() == "" and view.cards["tps"].empty_text() == ""
    assert view.cards["errors"].empty_text() == "No errors in the 1 run"
    assert view.cards["thumbs"].empty_text().startswith("No thumbs yet: ")
    assert view.cards["evals"].empty_text() == "No eval results yet: run an eval in the Eval tab"


# -- nothing to show: the reason, not empty axes -------------------------------------------------
def test_an_empty_workspace_says_why_each_chart_is_empty(qtbot, services):
    view = open_view(qtbot, services)
    compare = "run a prompt in the Compare tab"
    want = {"ttft": f"No finished runs yet: {compare}", "tps": f"No finished runs yet: {compare}",
            "latency": f"No finished runs yet: {compare}", "cost": f"No runs yet: {compare}",
            "errors": f"No runs yet: {compare}", "tokens": f"No runs yet: {compare}",
            "thumbs": "No thumbs yet: give an output a thumb up or down in the Compare or Rank tab",
            "evals": "No eval results yet: run an eval in the Eval tab",
            "length": f"No finished runs yet: {compare}"}  # fmt: skip
    assert {cid: card.empty_text() for cid, card in view.cards.items()} == want
    for cid, card in view.cards.items():
        message, plot = card.plot_widget.message, card.plot_widget
        assert message.isVisible() and message.geometry().center() == plot.rect().center(), cid  # centred
        assert not card.plot.getAxis("bottom").isVisible() and not card.plot.getAxis("left").isVisible(), cid
        assert card.legend.text() == "" and not card.reset_button.isVisible() and not card.zoom_hint.isVisible()
        if card.spec.time_axis:  # even asked, the hidden time axis has no 1970 to show
            lo, hi = x_range(card)
            assert card.plot.getAxis("bottom").tickValues(lo, hi, 500)[0][1] == []


def test_filters_that_leave_nothing_say_so(qtbot, services):
    rows = [one_run(f"a{i}", "alpha", started=STARTED + timedelta(hours=i)) for i in range(3)]
    rows += [one_run(f"b{i}", "beta", status="error", started=STARTED + timedelta(hours=i)) for i in range(2)]
    store_runs(services, rows)
    view = open_view(qtbot, services)
    bar = view.filter_bar
    set_filter(qtbot, view, bar.model_box, "beta")  # beta's runs all failed
    for cid in ("ttft", "tps", "latency", "length"):
        assert view.cards[cid].empty_text() == "No finished runs match these filters", cid
    assert view.cards["errors"].empty_text() == "" and view.cards["cost"].empty_text() == ""
    assert view.cards["thumbs"].empty_text() == "No thumbs match these filters"
    set_filter(qtbot, view, bar.model_box, "alpha")
    assert view.cards["errors"].empty_text() == "No errors among these 3 runs"
    assert view.cards["latency"].empty_text() == ""
    with qtbot.waitSignal(view.charts_updated, timeout=WAIT_MS):  # a period after every run
        bar.model_box.setCurrentIndex(0)
        bar.since_edit.setDate(datetime(2025, 12, 8).date())
        bar.since_check.setChecked(True)
    qtbot.waitUntil(view.is_idle, timeout=WAIT_MS)
    assert view.cards["latency"].empty_text() == "No finished runs in this period"
    assert view.cards["cost"].empty_text() == "No runs in this period"
    assert view.cards["evals"].empty_text() == "No eval results in this period"


# -- many runs: readable axes at every chart ---------------------------------------------------
@pytest.fixture
def filled_view(qtbot, services):
    rows = make_runs(120)
    store_runs(services, rows)
    add_judgements(services.runs(), rows, services.db_path)
    return open_view(qtbot, services)


def test_every_axis_is_readable_and_costs_are_dollars(filled_view):
    view = filled_view
    for cid, card in view.cards.items():
        assert card.empty_text() == "", cid
        for name in ("left", "bottom"):
            if card.plot.getAxis(name).isVisible():
                assert check_readable(card.plot.getAxis(name)), (cid, name)
        if card.spec.time_axis:
            texts = check_readable(card.plot.getAxis("bottom"))
            assert len(texts) >= 2 and re.match(r"^\w{3} \d{1,2} \w{3}", texts[0]), (cid, texts)  # "Thu 1 Jan ..."
    cost = view.cards["cost"]
    assert all(t.lstrip("-").startswith("$") for t in check_readable(cost.plot.getAxis("left")))
    legend = re.sub(r"<[^>]+>", "", cost.legend.text()).replace("&nbsp;", " ")
    totals = re.findall(r"(\w+) \$([\d,.]+)", legend)
    assert {name for name, _v in totals} == set(cost.series.lines) and not E_NOTATION.search(legend)
    for name, value in totals:  # each line's total over the period
        assert float(value.replace(",", "")) == pytest.approx(float(np.nansum(cost.series.lines[name])), abs=0.006)
    mode = cost.option_boxes["mode"]
    assert mode.itemText(mode.findData("daily")) == "per day"  # six days of runs: daily buckets
    assert not cost.reset_button.isVisible() and not cost.zoomed
    assert view.cards["latency"].zoom_hint.isVisible()  # "Ctrl+wheel to zoom" where no note needs the line


# -- the wheel: the page's unless Ctrl --------------------------------------------------------------
def test_the_wheel_scrolls_the_page_and_ctrl_wheel_zooms_the_chart(qtbot, filled_view):
    view = filled_view
    bar = page_scrollbar(view)
    assert bar.maximum() > 0 and bar.value() == 0
    for cid in ("latency", "ttft", "errors"):  # a time axis, a horizontal and a vertical bar chart
        card = view.cards[cid]
        viewport = card.plot_widget.viewport()
        bar.setValue(0)
        qtbot.waitUntil(lambda: viewport.visibleRegion().boundingRect().contains(viewport.rect().center()),
                        timeout=WAIT_MS)  # fmt: skip
        before = card.plot.getViewBox().viewRange()
        assert not send_wheel(viewport, -1), cid  # the chart hands a plain wheel on ...
        wheel(viewport, -1)
        assert bar.value() > 0, cid  # ... and the page moves down
        assert card.plot.getViewBox().viewRange() == before and not card.zoomed, cid

        bar.setValue(0)
        qtbot.waitUntil(lambda: viewport.visibleRegion().boundingRect().contains(viewport.rect().center()),
                        timeout=WAIT_MS)  # fmt: skip
        wheel(viewport, +2, ctrl=True)
        after = card.plot.getViewBox().viewRange()
        along = 1 if cid == "errors" else 0
        assert after[along][1] - after[along][0] < before[along][1] - before[along][0], cid  # zoomed in
        assert bar.value() == 0, cid  # the page stayed
        assert card.zoomed and card.reset_button.isVisible() and not card.zoom_hint.isVisible(), cid

        qtbot.mouseClick(card.reset_button, Qt.MouseButton.LeftButton)
        assert np.allclose(card.plot.getViewBox().viewRange(), before), cid
        assert not card.zoomed and not card.reset_button.isVisible() and card.zoom_hint.isVisible()

        assert send_wheel(viewport, +2, ctrl=True), cid  # Ctrl+wheel sent to the chart alone: taken, zooms
        assert card.zoomed and bar.value() == 0, cid
        card.reset_zoom()


def test_after_a_click_the_wheel_zooms_until_the_mouse_leaves(qtbot, filled_view):
    view = filled_view
    view.activateWindow()
    card = view.cards["latency"]
    viewport = card.plot_widget.viewport()
    home = x_range(card)
    vb_rect = card.plot.getViewBox().sceneBoundingRect()
    corner = card.plot_widget.mapFromScene(vb_rect.topLeft() + QPointF(6, 6))  # away from the lines
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=corner)
    qtbot.waitUntil(card.plot_widget.hasFocus, timeout=WAIT_MS)
    bar = page_scrollbar(view)
    start = bar.value()
    wheel(viewport, +2)
    assert bar.value() == start and x_range(card)[1] - x_range(card)[0] < home[1] - home[0]
    assert card.reset_button.isVisible()
    QApplication.sendEvent(card.plot_widget, QEvent(QEvent.Type.Leave))  # the mouse goes elsewhere
    zoomed = x_range(card)
    wheel(viewport, -1)
    assert bar.value() > start and x_range(card) == zoomed
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=corner)  # a double click shows everything
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=corner)
    qtbot.waitUntil(lambda: not card.zoomed, timeout=WAIT_MS)
    assert np.allclose(x_range(card), home)


# -- live updates keep the zoom; new filters show everything --------------------------------------
def test_a_run_ending_live_keeps_a_persons_zoom(qtbot, services, filled_view):
    view = filled_view
    card = view.cards["latency"]
    viewport = card.plot_widget.viewport()
    home = x_range(card)
    wheel(viewport, +3, ctrl=True)
    zoomed = x_range(card)
    assert zoomed[1] - zoomed[0] < home[1] - home[0] and card.zoomed

    now = datetime.now(timezone.utc)
    new = one_run("live1", "alpha", started=now - timedelta(seconds=30))
    new["ended_at"] = now + timedelta(milliseconds=5)  # ended after everything the view has read
    before = view.data.total_runs()
    store_runs(services, [new])
    services.bridge.events_arrived.emit([RunFinished("live1", "", RunMetrics())])
    qtbot.waitUntil(lambda: view.data.total_runs() == before + 1 and view.is_idle(), timeout=WAIT_MS)
    assert card.series.keys[-1] == new["started_at"].strftime("%Y-%m-%d")  # the new run is drawn ...
    assert np.allclose(x_range(card), zoomed) and card.zoomed and card.reset_button.isVisible()  # ... zoom kept
    qtbot.mouseClick(card.reset_button, Qt.MouseButton.LeftButton)
    lo, hi = x_range(card)
    assert lo < home[0] + 86400 and hi > now.timestamp()  # everything, the new run too

    wheel(viewport, +3, ctrl=True)
    assert card.zoomed
    set_filter(qtbot, view, view.filter_bar.model_box, "beta")  # other filters: everything again
    assert not card.zoomed and not card.reset_button.isVisible()
