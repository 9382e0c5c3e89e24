"""What the dashboard's axes say, in plain Python (no Qt, no pyqtgraph, so tests need neither).

- Time axes: ticks at round local times (minutes ... hours, days, Mondays, months, years,
  as the span and the width need; labels measured, so none overlaps or is cut off) with
  labels a person reads at a glance: "14:00", "6 Dec 14:00", "Mon 7 Dec", "Dec 2025".
  Never 1970: an empty range has no ticks.
- Money: dollars as core.figures.fmt_cost writes them ("$0.000015", "$0.0123", "$1.23"),
  ticks with as many decimals as their spacing needs; never scientific notation.
- Other numbers: "0.25", "950", "12k", "1.5M"; never scientific notation.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from promptbench.core.figures import fmt_cost

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
YEAR = 31557600
# (unit, how many of them, about how many seconds), finest first
STEPS = (("minute", 1, 60), ("minute", 2, 120), ("minute", 5, 300), ("minute", 10, 600), ("minute", 15, 900),
         ("minute", 30, 1800), ("hour", 1, 3600), ("hour", 2, 7200), ("hour", 3, 10800), ("hour", 4, 14400),
         ("hour", 6, 21600), ("hour", 12, 43200), ("day", 1, 86400), ("day", 2, 172800), ("week", 1, 604800),
         ("week", 2, 1209600), ("month", 1, 2629800), ("month", 2, 5259600), ("month", 3, 7889400),
         ("month", 6, 15778800), ("year", 1, YEAR), ("year", 2, 2 * YEAR), ("year", 5, 5 * YEAR),
         ("year", 10, 10 * YEAR), ("year", 20, 20 * YEAR), ("year", 50, 50 * YEAR), ("year", 100, 100 * YEAR))  # fmt: skip
LABEL_CHARS = {"minute": 9, "hour": 9, "day": 10, "week": 7, "month": 8, "year": 5}  # a typical label, in characters
GAP_PX = 18  # between two labels, in the estimate of choose_step
MIN_GAP_PX = 10  # between two labels as measured (fit_time_ticks)
MAX_TICKS = 400
EARLIEST = 366 * 86400.0  # a range reaching back to 1970 is no range of runs (pyqtgraph's "nothing yet" is 0..1)


def _usable(lo: float, hi: float) -> bool:
    return math.isfinite(lo) and math.isfinite(hi) and hi > lo and lo >= EARLIEST and hi < 1e11


def _floor(t: datetime, unit: str, count: int) -> datetime:
    """The round day, month or year at or before ``t`` (naive local time)."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    if unit == "day":
        return day - timedelta(days=day.toordinal() % count)  # every other day stays on the same days when panned
    if unit == "week":
        monday = day - timedelta(days=day.weekday())
        return monday - timedelta(weeks=(monday.toordinal() // 7) % count)
    if unit == "month":
        return day.replace(day=1, month=t.month - (t.month - 1) % count)
    return day.replace(month=1, day=1, year=max(1, t.year - t.year % count))


def _next(t: datetime, unit: str, count: int) -> datetime:
    if unit in ("day", "week"):
        return t + timedelta(days=count * (7 if unit == "week" else 1))  # local midnights, 23 or 25 hours apart at DST
    if unit == "month":
        m = t.month - 1 + count
        return t.replace(year=t.year + m // 12, month=m % 12 + 1)
    return t.replace(year=t.year + count)


def _within_day(lo: float, hi: float, unit: str, count: int) -> list[float]:
    """Minutes and hours: the instants in [lo, hi] whose local time is round (14:05, 14:00,
    18:00). Every time zone is a whole number of quarter hours from UTC, so looking at each
    quarter hour (each minute for finer steps) finds them all; across a DST change the
    clock's own times are kept (a repeated 02:00 twice, a skipped one not at all)."""
    grain = 60 if unit == "minute" and count < 15 else 900
    v = math.ceil(lo / grain) * grain
    out: list[float] = []
    for _ in range(MAX_TICKS * 50):
        if v > hi or len(out) >= MAX_TICKS:
            break
        d = datetime.fromtimestamp(v)
        if unit == "minute" and d.minute % count == 0 or unit == "hour" and d.minute == 0 and d.hour % count == 0:
            out.append(float(v))
        v += grain
    return out


def _ticks(lo: float, hi: float, unit: str, count: int) -> list[float]:
    if unit in ("minute", "hour"):
        return _within_day(lo, hi, unit, count)
    t = _floor(datetime.fromtimestamp(lo), unit, count)
    out: list[float] = []
    while len(out) < MAX_TICKS:
        v = t.timestamp()
        if v > hi:
            break
        if v >= lo and (not out or v > out[-1]):
            out.append(v)
        t = _next(t, unit, count)
    return out


def choose_step(lo: float, hi: float, px: float, char_px: float = 7.0) -> tuple[str, int, float]:
    """The finest round step whose labels, estimated at ``char_px`` a character, fit side
    by side in ``px`` pixels."""
    span = hi - lo
    for unit, count, seconds in STEPS:
        if span / seconds * (LABEL_CHARS[unit] * char_px + GAP_PX) <= px:
            return unit, count, float(seconds)
    unit, count, seconds = STEPS[-1]
    return unit, count, float(seconds)


def time_ticks(lo: float, hi: float, px: float, char_px: float = 7.0) -> tuple[str, int, list[float]]:
    """(unit, count, tick positions in epoch seconds) for the range [lo, hi] drawn ``px``
    pixels wide: round local times. An empty, reversed or 1970 range has no ticks."""
    if not _usable(lo, hi):
        return "day", 1, []
    unit, count, _seconds = choose_step(lo, hi, px, char_px)
    return unit, count, _ticks(lo, hi, unit, count)


def fit_time_ticks(lo: float, hi: float, px: float, width_of=None, now: datetime | None = None,
                   char_px: float = 7.0) -> tuple[str, int, list[float], list[str]]:  # fmt: skip
    """(unit, count, ticks, labels) for [lo, hi] drawn ``px`` pixels wide, where
    ``width_of(text)`` is a label's width in pixels (``char_px`` a character by default):
    the finest round step with at least one label whose labels lie inside the axis and
    at least MIN_GAP_PX apart. A tick whose label would stick out past an end of the axis
    is left out (an axis hides such labels), so the first label shown is the one that
    carries the date. No ticks when no label fits."""
    if not _usable(lo, hi) or not px > 0:
        return "day", 1, [], []
    width_of = width_of or (lambda text: len(text) * char_px)
    per = px / (hi - lo)
    least = width_of("00:00") + MIN_GAP_PX
    unit, count, values, labels = "year", 100, [], []
    for unit, count, seconds in STEPS:
        if seconds * per < least:
            continue
        values = _ticks(lo, hi, unit, count)
        while True:  # leave out ticks whose label sticks out at either end
            labels = time_labels(values, unit, now)
            if values and (values[0] - lo) * per - width_of(labels[0]) / 2 < 0:
                values = values[1:]
            elif values and (values[-1] - lo) * per + width_of(labels[-1]) / 2 > px:
                values = values[:-1]
            else:
                break
        crowded = _crowded(values, labels, per, width_of)
        if crowded == [0]:  # only the first label, long as it names the day, is too close: its neighbour gives way
            values = values[:1] + values[2:]
            labels = time_labels(values, unit, now)
            crowded = _crowded(values, labels, per, width_of)
        if values and not crowded:
            return unit, count, values, labels
    return unit, count, [], []


def _crowded(values: list[float], labels: list[str], per: float, width_of) -> list[int]:
    """The i where label i and label i + 1 are less than MIN_GAP_PX apart."""
    widths = [width_of(t) for t in labels]
    return [i for i, (a, b, wa, wb) in enumerate(zip(values, values[1:], widths, widths[1:]))
            if (b - a) * per < (wa + wb) / 2 + MIN_GAP_PX]  # fmt: skip


def _date(d: datetime, weekday: bool, year: bool) -> str:
    text = f"{DAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]}" if weekday else f"{d.day} {MONTHS[d.month - 1]}"
    return f"{text} {d.year}" if year else text


def time_labels(values, unit: str, now: datetime | None = None) -> list[str]:
    """Labels for ticks from :func:`time_ticks`, in local time. Within a day: "14:00", the
    first tick "6 Dec 14:00" and midnights "Mon 7 Dec"; days "Mon 7 Dec"; weeks "7 Dec";
    months "Dec", with the year on the first and on January; years "2025". Dates carry
    their year (first tick, and where it changes) when the range is not all this year."""
    now = now or datetime.now()
    dates = [datetime.fromtimestamp(v) for v in values]
    other_year = any(d.year != now.year for d in dates)
    out, prev = [], None
    for d in dates:
        year = other_year and (prev is None or d.year != prev.year)
        if unit in ("minute", "hour"):
            if d.hour == 0 and d.minute == 0:
                text = _date(d, True, year)
            elif prev is None or d.date() != prev.date():
                text = f"{_date(d, False, year)} {d:%H:%M}"
            else:
                text = f"{d:%H:%M}"
        elif unit == "day":
            text = _date(d, True, year)
        elif unit == "week":
            text = _date(d, False, year)
        elif unit == "month":
            first = prev is None or d.month == 1
            text = f"{MONTHS[d.month - 1]} {d.year}" if first else MONTHS[d.month - 1]
        else:
            text = str(d.year)
        out.append(text)
        prev = d
    return out


def day_text(d: datetime) -> str:
    """A date for a tooltip: "Mon 7 Dec" (with the year when it is not this year)."""
    return _date(d, True, d.year != datetime.now().year)


def when(start: float, width: float) -> str:
    """A bucket in local time for a tooltip: "Mon 7 Dec 14:00–15:00", "Mon 7 Dec"."""
    a = datetime.fromtimestamp(start)
    other_year = a.year != datetime.now().year
    if width < 86400:
        b = datetime.fromtimestamp(start + width)
        return f"{_date(a, True, other_year)} {a:%H:%M}–{b:%H:%M}"
    return _date(a, True, other_year)


# -- money and other numbers ---------------------------------------------------------------
def money(value: float | None) -> str:
    """One amount: "$0", "$0.000015", "$0.0123", "$1.23", "$1,234.50" (core.figures.fmt_cost
    below a dollar; a sum of nothing is "$0", never "free")."""
    if value is None or not math.isfinite(value):
        return "–"
    if value < 0:
        return "-" + money(-value)
    if value < 5e-9:
        return "$0"
    if value >= 0.99995:  # "$1,234.50" like the axis's "$1,000" (and never "$1.0000")
        return f"${value:,.2f}"
    return fmt_cost(value)


def _decimals(spacing: float) -> int:
    """How many decimals show ticks ``spacing`` apart exactly (0.25 -> 2, 0.5 -> 1, 5 -> 0)."""
    if not (spacing > 0 and math.isfinite(spacing)):
        return 2
    for d in range(13):
        if abs(round(spacing, d) - spacing) <= spacing * 1e-6:
            return d
    return 12


def money_ticks(values, spacing: float) -> list[str]:
    """Axis labels in dollars with as many decimals as the spacing needs: "$0",
    "$0.000005", "$0.000010"; "$0.50", "$1.00"; "$5", "$1,000"."""
    decimals = 0 if spacing >= 1 else max(2, _decimals(spacing))
    out = []
    for v in values:
        if abs(v) < spacing / 1000:
            out.append("$0")
        else:
            out.append(("-" if v < 0 else "") + f"${abs(v):,.{decimals}f}")
    return out


def plain(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, never in e-notation: 0.00015, 12, 12.3k, 2.3M."""
    if not math.isfinite(value):
        return "–"
    if value == 0:
        return "0"
    value = float(f"{value:.{digits}g}")  # rounded first: 999,999 is "1M", not "1000k"
    a = abs(value)
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if a >= size:
            return plain(value / (1e3 if suffix == "k" else size), digits) + suffix
    return _trim(f"{value:.{max(0, digits - 1 - math.floor(math.log10(a)))}f}")


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_ticks(values, spacing: float) -> list[str]:
    """Axis labels: "0.25", "950", "9,500", "12k", "1.5M" with the decimals the spacing needs."""
    values = list(values)
    big = max((abs(v) for v in values), default=0.0)
    for size, suffix in ((1e6, "M"), (1e4, "k")):
        if big >= size:
            unit = 1e3 if suffix == "k" else size
            d = _decimals(spacing / unit) if spacing < unit else 0
            return ["0" if abs(v) < spacing / 1000 else f"{v / unit:,.{d}f}{suffix}" for v in values]
    d = _decimals(spacing) if spacing < 1 else 0
    return ["0" if abs(v) < spacing / 1000 else f"{v:,.{d}f}" for v in values]
