"""Plot items for each kind of chart, from the series in core.dashboard_series.

Every function takes numpy arrays (a handful of items per chart, never one Python
object per run or per point), adds its items to a PlotItem and returns what the card
needs: the hit targets (rectangles, with their tooltip text and run filter made only
when hovered or clicked), the legend entries and the items by name (tests read the
plotted arrays back from them). Imported only once pyqtgraph has been loaded in the
background.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyqtgraph as pg

from promptbench.core.dashboard.sql import Filters
from promptbench.gui.dashboard import ticks
from promptbench.gui.dashboard.hits import Hits

COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
          "#bab0ac", "#86bcb6", "#d37295")  # fmt: skip
SPIKE = "#e03131"
POINTS = "(points)"  # the dots of every line of a line chart, one item


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def fmt_value(v: float, unit: str) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    if unit == "USD":
        return ticks.money(v)
    if unit == "ms":
        return f"{v:,.1f} ms"
    if unit == "%":
        return f"{v:.1f} %"
    if unit in ("tokens", "chars"):
        return f"{v:,.0f} {unit}"
    return f"{v:,.2f} {unit}".strip()


def bucket_label(key: str, bucket: str) -> str:
    """ "Mon 7 Dec 14:00–15:00" (an hour, local time), "Mon 7 Dec" (a UTC day), "week of Mon 7 Dec"."""
    if bucket == "hour":
        return ticks.when(_window(key, 3600)["since"].timestamp(), 3600)
    day = ticks.day_text(datetime.strptime(key[:10], "%Y-%m-%d"))
    return f"week of {day}" if bucket == "week" else day


def _window(key: str, width: float) -> dict:
    if len(key) == 13:
        start = datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=timezone.utc)
    else:
        start = datetime.strptime(key, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    end = datetime.fromtimestamp(start.timestamp() + width, tz=timezone.utc)
    return {"since": start, "until": end}


def point_filter(base: Filters, **changes) -> dict:
    """The run filter behind a point: the dashboard's filters narrowed by the point's own."""
    extra = {k: changes.pop(k) for k in ("status", "error_class") if k in changes}
    return {**base.narrowed(**changes).to_json(), **extra}


def _pen(c: str, width: float = 2, style=None):
    pen = pg.mkPen(c, width=width)
    if style is not None:
        pen.setStyle(style)
    return pen


def _brush(c: str, alpha: int = 255):
    qc = pg.mkColor(c)
    qc.setAlpha(alpha)
    return pg.mkBrush(qc)


def draw_boxes(plot, s, base: Filters, fg: str):
    """Horizontal box plots, one row per model (names on the left axis never overlap)."""
    k = len(s.names)
    y = np.arange(k, dtype=float)
    hits, items = Hits(), {}
    plot.getAxis("left").setTicks([[(i, str(n)) for i, n in enumerate(s.names)]])
    plot.setLabel("bottom", s.unit)
    plot.setYRange(-0.6, max(k, 1) - 0.4, padding=0)
    if not k:
        return hits, [], items
    p5, p25, p50, p75, p95 = (s.q[:, i] for i in range(5))
    items["boxes"] = pg.BarGraphItem(x0=p25, width=p75 - p25, y=y, height=0.6,
                                     brushes=[_brush(color(i), 150) for i in range(k)],
                                     pens=[_pen(color(i), 1) for i in range(k)])  # fmt: skip
    items["whiskers"] = pg.ErrorBarItem(x=p50, y=y, left=p50 - p5, right=p95 - p50, beam=0.25, pen=_pen(fg, 1))
    items["median"] = pg.PlotCurveItem(np.repeat(p50, 2), np.repeat(y, 2) + np.tile([-0.3, 0.3], k), connect="pairs",
                                       pen=_pen(fg, 2))  # fmt: skip
    for item in items.values():
        plot.addItem(item)

    def describe(i: int):
        u = s.unit
        text = (f"<b>{s.names[i]}</b> · {s.n[i]:,} finished runs<br>p5 {fmt_value(p5[i], u)} · p25 {fmt_value(p25[i], u)}"
                f"<br>median {fmt_value(p50[i], u)}<br>p75 {fmt_value(p75[i], u)} · p95 {fmt_value(p95[i], u)}")
        return text, point_filter(base, model_name=s.names[i], status="finished")

    hits.add(p5, p95, y - 0.3, y + 0.3, k, describe)
    return hits, [], items


def draw_lines(plot, ts, base: Filters, fg: str, *, cumulative: bool = False):
    hits, items, legend = Hits(), {}, []
    plot.setLabel("left", ts.unit)
    if not len(ts.x):
        return hits, legend, items
    centre = ts.x + ts.width / 2
    what = "judgements" if ts.group == "version" else "runs"
    for i, (name, y) in enumerate(ts.lines.items()):
        c = color(i)
        item = pg.PlotCurveItem(centre, y, pen=_pen(c, 2), connect="finite", name=name)  # no symbol machinery
        plot.addItem(item)
        items[name] = item
        if ts.unit == "USD":  # each line's total over the period: the last point of a running total
            total = y[-1] if cumulative else np.nansum(y)
            legend.append((f"{name} {fmt_value(float(total), 'USD')}", c))
        else:
            legend.append((name, c))

        def describe(j: int, name=name, y=y, counts=ts.counts.get(name)):
            text = f"<b>{name}</b> · {bucket_label(ts.keys[j], ts.bucket)}<br>{fmt_value(y[j], ts.unit)}"
            if counts is not None:
                text += f" ({counts[j]:,} {what}{' to date' if cumulative else ''})"
            return text, point_filter(base, **_line_filter(ts, name), **_time_filter(ts.keys[j], ts.width, cumulative))

        hits.add(centre, centre, y, y, len(centre), describe)
    if len(ts.x) <= 45:  # dots on every point (one item for all lines: cheaper than a symbol set per line)
        ys = np.concatenate(list(ts.lines.values()))
        xs = np.tile(centre, len(ts.lines))
        brushes = [_brush(color(i)) for i in range(len(ts.lines)) for _ in range(len(centre))]
        shown = np.isfinite(ys)
        items[POINTS] = pg.ScatterPlotItem(xs[shown], ys[shown], size=5, pen=None,
                                           brush=[b for b, ok in zip(brushes, shown) if ok])  # fmt: skip
        plot.addItem(items[POINTS])
    return hits, legend, items


def _time_filter(key: str, width: float, cumulative: bool) -> dict:
    window = _window(key, width)
    return {"until": window["until"]} if cumulative else window


def _line_filter(ts, name: str) -> dict:
    key = ts.line_keys.get(name)
    if ts.group == "model":
        return {"model_name": key}
    if ts.group == "provider":
        return {"provider": key}
    if ts.group == "version" and key:
        return {"prompt_path": key[0], "prompt_version": key[1]}
    return {}


def draw_band(plot, s, base: Filters, fg: str):
    """Median and p95 latency per bucket with the band between them, on a log scale
    (p95 is often ten times the median); triangles mark spikes. The items hold log10(ms)
    and the axis labels them in ms (pyqtgraph's own log mode mis-ranges fill items)."""
    hits, items = Hits(), {}
    plot.getAxis("left").setLogMode(True)
    plot.setLabel("left", "ms (log scale)")
    legend = [("p50 (median)", color(0)), ("p95", color(1)), ("spike", SPIKE)]
    if not len(s.x):
        return hits, legend, items
    width = s.width
    x = s.x + width / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = np.log10(s.p50), np.log10(s.p95)
    lift = np.log10(1.15)  # the spike marker sits just above the p95 line
    items["p50"] = pg.PlotCurveItem(x, lo, pen=_pen(color(0), 2))
    items["p95"] = pg.PlotCurveItem(x, hi, pen=_pen(color(1), 2))
    items["band"] = pg.FillBetweenItem(items["p50"], items["p95"], brush=_brush(color(1), 45))
    items["spikes"] = pg.ScatterPlotItem(x[s.spikes], hi[s.spikes] + lift, symbol="t", size=11, brush=_brush(SPIKE),
                                         pen=None)  # fmt: skip
    if len(x) <= 45:  # dots on the buckets, as the other time charts: a lone bucket is no line at all
        finite = np.isfinite(lo) & np.isfinite(hi)
        items["points"] = pg.ScatterPlotItem(
            np.concatenate([x[finite], x[finite]]), np.concatenate([lo[finite], hi[finite]]), size=6, pen=None,
            brush=[_brush(color(0))] * int(finite.sum()) + [_brush(color(1))] * int(finite.sum()))
    for item in (items["band"], items["p50"], items["p95"], items.get("points"), items["spikes"]):
        if item is not None:
            plot.addItem(item)

    def describe(i: int):
        text = (f"<b>{bucket_label(s.keys[i], s.bucket)}</b> · {s.n[i]:,} finished runs<br>p50 {fmt_value(s.p50[i], 'ms')}"
                f"<br>p95 {fmt_value(s.p95[i], 'ms')}")
        if s.spikes[i]:
            text += "<br><b>spike</b> (well above the days around it)"
        return text, point_filter(base, status="finished", **_window(s.keys[i], width))

    hits.add(x, x, lo, hi + np.where(s.spikes, lift, 0.0), len(x), describe)
    return hits, legend, items


def draw_errors(plot, s, base: Filters, fg: str):
    hits, items, legend = Hits(), {}, []
    k = len(s.providers)
    x = np.arange(k, dtype=float)
    plot.getAxis("bottom").setTicks([[(i, p) for i, p in enumerate(s.providers)]])
    plot.setLabel("left", "% of runs")
    plot.setXRange(-0.6, max(k, 1) - 0.4, padding=0)
    bottom = np.zeros(k)
    for j, cls in enumerate(s.classes):
        h = s.rates[:, j]
        item = pg.BarGraphItem(x=x, y0=bottom.copy(), height=h, width=0.6, brush=_brush(color(j + 2), 220),
                               pen=_pen(color(j + 2), 1))  # fmt: skip
        plot.addItem(item)
        items[cls] = item
        legend.append((cls, color(j + 2)))

        def describe(i: int, j=j, cls=cls):
            text = (f"<b>{s.providers[i]}</b> · {cls}<br>{s.rates[i, j]:.2f} % of runs "
                    f"({s.counts[i, j]:,} of {s.totals[i]:,})")
            return text, point_filter(base, provider=s.providers[i], status="error", error_class=cls)

        hits.add(x - 0.3, x + 0.3, bottom.copy(), bottom + h, k, describe, where=s.counts[:, j] > 0)
        bottom += h
    return hits, legend, items


def draw_tokens(plot, ts, base: Filters, fg: str):
    hits, items = Hits(), {}
    plot.setLabel("left", "tokens")
    legend = [("input", color(0)), ("output", color(1))]
    if not len(ts.x):
        return hits, legend, items
    x, w = ts.x + ts.width / 2, ts.width * 0.8
    tin, tout = ts.lines["input"], ts.lines["output"]
    items["input"] = pg.BarGraphItem(x=x, y0=np.zeros(len(x)), height=tin, width=w, brush=_brush(color(0), 220), pen=None)
    items["output"] = pg.BarGraphItem(x=x, y0=tin, height=tout, width=w, brush=_brush(color(1), 220), pen=None)
    plot.addItem(items["input"])
    plot.addItem(items["output"])
    runs = ts.counts["input"]

    def describe(i: int):
        text = (f"<b>{bucket_label(ts.keys[i], ts.bucket)}</b> · {runs[i]:,} runs<br>input {tin[i]:,.0f} tokens"
                f"<br>output {tout[i]:,.0f} tokens")
        return text, point_filter(base, **_window(ts.keys[i], ts.width))

    hits.add(x - w / 2, x + w / 2, 0.0, tin + tout, len(x), describe)
    return hits, legend, items


def draw_versions(plot, s, base: Filters, fg: str, field: str = "chars"):
    """Horizontal bars, one row per prompt version (oldest first within each prompt)."""
    hits, items, legend = Hits(), {}, []
    values, unit = (s.chars, "chars") if field == "chars" else (s.tokens, "tokens")
    k = len(s.labels)
    y = np.arange(k, dtype=float)
    plot.getAxis("left").setTicks([[(i, label) for i, label in enumerate(s.labels)]])
    plot.setLabel("bottom", f"mean output {unit}")
    plot.setYRange(-0.6, max(k, 1) - 0.4, padding=0)
    if not k:
        return hits, legend, items
    prompts = list(dict.fromkeys(key[0] for key in s.keys))
    colours = [color(prompts.index(key[0])) for key in s.keys]
    widths = np.nan_to_num(values)
    items["bars"] = pg.BarGraphItem(x0=np.zeros(k), width=widths, y=y, height=0.7,
                                    brushes=[_brush(c, 210) for c in colours], pens=[_pen(c, 1) for c in colours])  # fmt: skip
    plot.addItem(items["bars"])
    legend = [(p or "(ad hoc)", color(i)) for i, p in enumerate(prompts)] if len(prompts) > 1 else []

    def describe(i: int):
        key = s.keys[i]
        text = (f"<b>{key[0]}</b><br>version {key[1]}<br>{s.n[i]:,} finished runs · first {s.first[i][:10]}"
                f"<br>mean {fmt_value(s.chars[i], 'chars')} · {fmt_value(s.tokens[i], 'tokens')}")
        return text, point_filter(base, prompt_path=key[0], prompt_version=key[1], status="finished")

    hits.add(0.0, widths, y - 0.35, y + 0.35, k, describe)
    return hits, legend, items
