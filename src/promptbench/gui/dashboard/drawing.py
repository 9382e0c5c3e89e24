"""Plot items for each kind of chart, from the series in core.dashboard_series.

Every function takes numpy arrays (a handful of items per chart, never one Python
object per run), adds its items to a PlotItem and returns what the card needs: the
hit targets (tooltip text + run filter per point), the legend entries and the items
by name (tests read the plotted arrays back from them). Imported only once
pyqtgraph has been loaded in the background.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pyqtgraph as pg

from promptbench.core.dashboard_sql import Filters
from promptbench.gui.dashboard.hits import Hits

COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f",
          "#bab0ac", "#86bcb6", "#d37295")  # fmt: skip
SPIKE = "#e03131"


def color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def fmt_value(v: float, unit: str) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    if unit == "USD":
        return f"${v:,.6f}".rstrip("0").rstrip(".") if abs(v) < 1 else f"${v:,.2f}"
    if unit == "ms":
        return f"{v:,.1f} ms"
    if unit == "%":
        return f"{v:.1f} %"
    if unit in ("tokens", "chars"):
        return f"{v:,.0f} {unit}"
    return f"{v:,.2f} {unit}".strip()


def bucket_label(key: str, bucket: str) -> str:
    if bucket == "hour":
        return key.replace("T", " ") + ":00 UTC"
    return f"week of {key}" if bucket == "week" else key


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
    k = len(s.names)
    x = np.arange(k, dtype=float)
    hits, items = Hits(), {}
    plot.getAxis("bottom").setTicks([[(i, str(n)) for i, n in enumerate(s.names)]])
    plot.setLabel("left", s.unit)
    if not k:
        return hits, [], items
    p5, p25, p50, p75, p95 = (s.q[:, i] for i in range(5))
    items["boxes"] = pg.BarGraphItem(x=x, y0=p25, height=p75 - p25, width=0.6,
                                     brushes=[_brush(color(i), 150) for i in range(k)],
                                     pens=[_pen(color(i), 1) for i in range(k)])  # fmt: skip
    items["whiskers"] = pg.ErrorBarItem(x=x, y=p50, top=p95 - p50, bottom=p50 - p5, beam=0.25, pen=_pen(fg, 1))
    items["median"] = pg.PlotDataItem(np.repeat(x, 2) + np.tile([-0.3, 0.3], k), np.repeat(p50, 2), connect="pairs",
                                      pen=_pen(fg, 2))  # fmt: skip
    for item in items.values():
        plot.addItem(item)
    plot.setXRange(-0.6, k - 0.4, padding=0)
    texts = [f"<b>{n}</b> · {s.n[i]:,} finished runs<br>p5 {fmt_value(p5[i], s.unit)} · p25 {fmt_value(p25[i], s.unit)}"
             f"<br>median {fmt_value(p50[i], s.unit)}<br>p75 {fmt_value(p75[i], s.unit)} · p95 {fmt_value(p95[i], s.unit)}"
             for i, n in enumerate(s.names)]  # fmt: skip
    hits.add(x, p5, p95, texts, [point_filter(base, model_name=n, status="finished") for n in s.names], 0.3)
    return hits, [], items


def draw_lines(plot, ts, base: Filters, fg: str, *, cumulative: bool = False):
    hits, items, legend = Hits(), {}, []
    plot.setLabel("left", ts.unit)
    if not len(ts.x):
        return hits, legend, items
    centre = ts.x + ts.width / 2
    many = len(ts.x) > 45
    for i, (name, y) in enumerate(ts.lines.items()):
        c = color(i)
        item = pg.PlotDataItem(centre, y, pen=_pen(c, 2), connect="finite", symbol=None if many else "o",
                               symbolSize=5, symbolBrush=c, symbolPen=None, name=name)  # fmt: skip
        plot.addItem(item)
        items[name] = item
        legend.append((name, c))
        counts = ts.counts.get(name)
        what = "judgements" if ts.group == "version" else "runs"
        texts = [f"<b>{name}</b> · {bucket_label(k, ts.bucket)}<br>{fmt_value(y[j], ts.unit)}"
                 + (f" ({counts[j]:,} {what}{' to date' if cumulative else ''})" if counts is not None else "")
                 for j, k in enumerate(ts.keys)]  # fmt: skip
        filters = [point_filter(base, **_line_filter(ts, name), **_time_filter(k, ts.width, cumulative))
                   for k in ts.keys]  # fmt: skip
        hits.add(centre, y, y, texts, filters)
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
    hits, items = Hits(), {}
    plot.setLabel("left", "ms")
    legend = [("p50 (median)", color(0)), ("p95", color(1)), ("spike (p95 > 1.5x typical)", SPIKE)]
    if not len(s.x):
        return hits, legend, items
    width = 86400.0 if s.bucket == "day" else 3600.0
    x = s.x + width / 2
    items["p50"] = pg.PlotDataItem(x, s.p50, pen=_pen(color(0), 2))
    items["p95"] = pg.PlotDataItem(x, s.p95, pen=_pen(color(1), 2))
    items["band"] = pg.FillBetweenItem(items["p50"], items["p95"], brush=_brush(color(1), 45))
    items["spikes"] = pg.ScatterPlotItem(x[s.spikes], s.p95[s.spikes], symbol="t1", size=11, brush=_brush(SPIKE),
                                         pen=None)  # fmt: skip
    for item in (items["band"], items["p50"], items["p95"], items["spikes"]):
        plot.addItem(item)
    texts = [f"<b>{bucket_label(k, s.bucket)}</b> · {s.n[i]:,} finished runs<br>p50 {fmt_value(s.p50[i], 'ms')}"
             f"<br>p95 {fmt_value(s.p95[i], 'ms')}" + ("<br><b>spike</b>" if s.spikes[i] else "")
             for i, k in enumerate(s.keys)]  # fmt: skip
    hits.add(x, s.p50, s.p95, texts, [point_filter(base, status="finished", **_window(k, width)) for k in s.keys])
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
        shown = np.flatnonzero(s.counts[:, j] > 0)
        texts = [f"<b>{s.providers[i]}</b> · {cls}<br>{h[i]:.2f} % of runs ({s.counts[i, j]:,} of {s.totals[i]:,})"
                 for i in shown]  # fmt: skip
        filters = [point_filter(base, provider=s.providers[i], status="error", error_class=cls) for i in shown]
        hits.add(x[shown], bottom[shown], bottom[shown] + h[shown], texts, filters, 0.3)
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
    texts = [f"<b>{bucket_label(k, ts.bucket)}</b> · {runs[i]:,} runs<br>input {tin[i]:,.0f} tokens"
             f"<br>output {tout[i]:,.0f} tokens" for i, k in enumerate(ts.keys)]  # fmt: skip
    hits.add(x, np.zeros(len(x)), tin + tout, texts, [point_filter(base, **_window(k, ts.width)) for k in ts.keys],
             w / 2)  # fmt: skip
    return hits, legend, items


def draw_versions(plot, s, base: Filters, fg: str, field: str = "chars"):
    hits, items, legend = Hits(), {}, []
    values, unit = (s.chars, "chars") if field == "chars" else (s.tokens, "tokens")
    k = len(s.labels)
    x = np.arange(k, dtype=float)
    plot.getAxis("bottom").setTicks([[(i, label) for i, label in enumerate(s.labels)]])
    plot.setLabel("left", f"mean output {unit}")
    plot.setXRange(-0.6, max(k, 1) - 0.4, padding=0)
    if not k:
        return hits, legend, items
    prompts = list(dict.fromkeys(key[0] for key in s.keys))
    colours = [color(prompts.index(key[0])) for key in s.keys]
    heights = np.nan_to_num(values)
    items["bars"] = pg.BarGraphItem(x=x, y0=np.zeros(k), height=heights, width=0.7,
                                    brushes=[_brush(c, 210) for c in colours], pens=[_pen(c, 1) for c in colours])  # fmt: skip
    plot.addItem(items["bars"])
    legend = [(p or "(ad hoc)", color(i)) for i, p in enumerate(prompts)] if len(prompts) > 1 else []
    texts = [f"<b>{key[0]}</b><br>version {key[1]}<br>{s.n[i]:,} finished runs · first {s.first[i][:10]}"
             f"<br>mean {fmt_value(s.chars[i], 'chars')} · {fmt_value(s.tokens[i], 'tokens')}"
             for i, key in enumerate(s.keys)]  # fmt: skip
    filters = [point_filter(base, prompt_path=key[0], prompt_version=key[1], status="finished") for key in s.keys]
    hits.add(x, np.zeros(k), heights, texts, filters, 0.35)
    return hits, legend, items
