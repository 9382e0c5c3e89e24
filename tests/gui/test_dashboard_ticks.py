"""What the dashboard's axes say, in plain Python (gui/dashboard/ticks.py, no Qt): time
ticks sit at round local times in several time zones (DST days included), their labels
read as dates and clock times, never 1970, never overlap or stick out of the axis; money
reads as dollars and other numbers compactly, never in scientific notation."""

from __future__ import annotations

import math
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promptbench.gui.dashboard import ticks

CHAR_PX = 7.0
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu")  # Kathmandu: UTC+5:45
NOW = datetime(2025, 12, 20, 12)  # "this year" for the labels
HOUR, DAY = 3600, 86400
E_NOTATION = re.compile(r"\d[eE][-+]?\d")


def width_of(text: str) -> float:
    return len(text) * CHAR_PX


@pytest.fixture
def local_zone(monkeypatch):
    """Switch the process's local time zone (TZ + time.tzset), back again afterwards."""

    def switch(name: str) -> ZoneInfo:
        if not Path("/usr/share/zoneinfo", name).exists():
            pytest.skip(f"no tzdata for {name}")
        monkeypatch.setenv("TZ", name)
        time.tzset()
        return ZoneInfo(name)

    yield switch
    monkeypatch.undo()
    time.tzset()


def at(zone: ZoneInfo, *args) -> float:
    """Epoch seconds of a wall-clock time in ``zone``."""
    return datetime(*args, tzinfo=zone).timestamp()


def is_round(d: datetime, unit: str, count: int) -> bool:
    """``d`` (local wall clock) is where a tick of this step belongs."""
    if d.second or d.microsecond:
        return False
    if unit == "minute":
        return d.minute % count == 0
    if unit == "hour":
        return d.minute == 0 and d.hour % count == 0
    if d.hour or d.minute:
        return False
    if unit == "day":
        return True
    if unit == "week":
        return d.weekday() == 0
    if unit == "month":
        return d.day == 1 and (d.month - 1) % count == 0
    return d.month == 1 and d.day == 1 and d.year % count == 0


def check_axis(lo: float, hi: float, px: float, zone: ZoneInfo, now: datetime = NOW) -> tuple[str, list, list]:
    """Everything a person relies on for one time axis; returns (unit, local datetimes, labels)."""
    unit, count, values, labels = ticks.fit_time_ticks(lo, hi, px, width_of, now=now)
    assert len(values) == len(labels) >= 1, (unit, count)
    assert values == sorted(set(values)) and lo <= values[0] and values[-1] <= hi
    dates = [datetime.fromtimestamp(v, zone) for v in values]
    assert all(is_round(d, unit, count) for d in dates), (unit, count, dates)
    for text in labels:
        assert text and "1970" not in text and not E_NOTATION.search(text), text
    # inside the axis and apart: none cut off, none overlapping another
    xs = [(v - lo) / (hi - lo) * px for v in values]
    ws = [width_of(t) for t in labels]
    assert xs[0] - ws[0] / 2 >= 0 and xs[-1] + ws[-1] / 2 <= px
    for a, b, wa, wb in zip(xs, xs[1:], ws, ws[1:]):
        assert b - a >= (wa + wb) / 2 + ticks.MIN_GAP_PX
    assert len(values) <= px / (width_of("00:00") + ticks.MIN_GAP_PX) + 1
    # labels say what the clock and the calendar say there
    for d, text in zip(dates, labels):
        month = ticks.MONTHS[d.month - 1]
        if unit in ("minute", "hour"):
            if d.hour == 0 and d.minute == 0:
                assert text.startswith(f"{ticks.DAYS[d.weekday()]} {d.day} {month}"), text
            else:
                assert text.endswith(f"{d:%H:%M}"), text
        elif unit == "day":
            assert text.startswith(f"{ticks.DAYS[d.weekday()]} {d.day} {month}"), text
        elif unit == "week":
            assert text.startswith(f"{d.day} {month}"), text
        elif unit == "month":
            assert text.startswith(month), text
        else:
            assert text == str(d.year)
    return unit, dates, labels


SPANS = {  # name -> (start as local wall clock, length in seconds, the units it may use)
    "minutes": ((2025, 12, 6, 14, 3), 12 * 60, {"minute"}),
    "hours": ((2025, 12, 6, 13, 20), 5 * HOUR, {"minute", "hour"}),
    "a day": ((2025, 12, 6, 7, 0), DAY, {"hour"}),
    "a week": ((2025, 12, 3, 9, 0), 7 * DAY, {"hour", "day", "week"}),
    "months": ((2025, 9, 14, 0, 0), 120 * DAY, {"week", "month"}),
    "years": ((2019, 5, 1, 0, 0), 6 * 365 * DAY, {"month", "year"}),
    "decades": ((1995, 1, 1, 0, 0), 40 * 365 * DAY, {"year"}),
}


@pytest.mark.parametrize("px", [160, 480, 1400])
@pytest.mark.parametrize("span", list(SPANS))
@pytest.mark.parametrize("zone_name", ZONES)
def test_ticks_sit_at_round_local_times_with_readable_labels(local_zone, zone_name, span, px):
    zone = local_zone(zone_name)
    start, length, units = SPANS[span]
    lo = at(zone, *start)
    unit, dates, labels = check_axis(lo, lo + length, px, zone)
    assert unit in units
    if unit in ("minute", "hour"):  # the first label says which day it is
        assert re.match(r"^(\w{3} )?\d{1,2} \w{3}\b", labels[0]), labels


@pytest.mark.parametrize("zone_name", ZONES)
def test_the_same_range_wider_shows_finer_ticks(local_zone, zone_name):
    zone = local_zone(zone_name)
    lo = at(zone, 2025, 12, 6, 9, 0)
    counts = [len(ticks.fit_time_ticks(lo, lo + DAY, px, width_of, now=NOW)[2]) for px in (160, 320, 640, 1280, 2560)]
    assert counts == sorted(counts) and counts[-1] > counts[0] >= 1


def test_labels_a_person_reads(local_zone):
    zone = local_zone("Europe/Berlin")

    def fit(a: tuple, b: tuple, px: float, now: datetime = NOW) -> list[str]:
        return ticks.fit_time_ticks(at(zone, *a), at(zone, *b), px, width_of, now=now)[3]

    assert fit((2025, 12, 6, 13), (2025, 12, 6, 17), 600) == ["6 Dec 13:30", "14:00", "14:30", "15:00", "15:30",
                                                               "16:00", "16:30"]  # fmt: skip
    assert fit((2025, 12, 6, 20), (2025, 12, 7, 8), 600) == ["6 Dec 22:00", "Sun 7 Dec", "02:00", "04:00", "06:00"]
    assert fit((2025, 12, 1), (2025, 12, 8), 700) == ["Tue 2 Dec", "Wed 3 Dec", "Thu 4 Dec", "Fri 5 Dec", "Sat 6 Dec",
                                                      "Sun 7 Dec"]  # fmt: skip
    assert fit((2025, 12, 1), (2025, 12, 29), 400) == ["8 Dec", "15 Dec", "22 Dec"]
    assert fit((2025, 10, 1), (2026, 3, 1), 500) == ["Nov 2025", "Dec", "Jan 2026", "Feb"]
    assert fit((2015, 1, 1), (2026, 1, 1), 400) == ["2016", "2018", "2020", "2022", "2024"]
    # another year than this one: dates carry their year
    assert fit((2024, 12, 6, 13), (2024, 12, 6, 17), 600)[:2] == ["6 Dec 2024 13:30", "14:30"]  # 14:00 gives way
    assert fit((2024, 12, 1), (2024, 12, 8), 1000)[0] == "Mon 2 Dec 2024"
    assert fit((2024, 12, 31, 18), (2025, 1, 1, 6), 800, now=datetime(2025, 6, 1)) == [
        "31 Dec 2024 20:00", "22:00", "Wed 1 Jan 2025", "02:00", "04:00"]  # fmt: skip


def test_time_labels_and_bucket_tooltips_are_local(local_zone):
    zone = local_zone("America/New_York")
    v = [at(zone, 2025, 12, 6, 23), at(zone, 2025, 12, 7, 0), at(zone, 2025, 12, 7, 1)]
    assert ticks.time_labels(v, "hour", now=NOW) == ["6 Dec 23:00", "Sun 7 Dec", "01:00"]
    months = [at(zone, 2025, 12, 1), at(zone, 2026, 1, 1)]
    assert ticks.time_labels(months, "month", now=NOW) == ["Dec 2025", "Jan 2026"]
    tip = ticks.when(datetime.fromisoformat("2025-12-06T19:00:00+00:00").timestamp(), HOUR)
    assert tip.startswith("Sat 6 Dec") and tip.endswith(" 14:00–15:00")  # a UTC hour in New York's time
    assert ticks.day_text(datetime(2025, 12, 7)).startswith("Sun 7 Dec")


@pytest.mark.parametrize("lo, hi", [
    (1.7e9, 1.7e9),  # one instant: no span
    (1.7e9 + 60, 1.7e9),  # reversed
    (0.0, 1.0),  # pyqtgraph's range of an empty plot: 1970
    (0.0, 1.7e9),  # reaching back to 1970
    (-86400.0, 86400.0),
    (float("nan"), 1.7e9),
    (1.7e9, float("inf")),
])  # fmt: skip
def test_an_empty_or_degenerate_range_has_no_ticks(lo, hi):
    assert ticks.fit_time_ticks(lo, hi, 500, width_of)[2:] == ([], [])
    assert ticks.time_ticks(lo, hi, 500)[2] == []


def test_no_room_means_no_ticks_rather_than_overlap():
    assert ticks.fit_time_ticks(1.7e9, 1.7e9 + DAY, 0, width_of)[2] == []
    _unit, _count, values, labels = ticks.fit_time_ticks(1.7e9, 1.7e9 + DAY, 30, width_of)
    assert len(values) <= 1 and all(width_of(t) <= 30 for t in labels)


@pytest.mark.parametrize("zone_name, day, skipped, repeated", [
    ("Europe/Berlin", (2025, 3, 30), "02:00", None),
    ("Europe/Berlin", (2025, 10, 26), None, "02:00"),
    ("America/New_York", (2025, 3, 9), "02:00", None),
    ("America/New_York", (2025, 11, 2), None, "01:00"),
])  # fmt: skip
def test_a_dst_change_keeps_ticks_on_the_clock(local_zone, zone_name, day, skipped, repeated):
    zone = local_zone(zone_name)
    midnight = datetime(*day, tzinfo=zone)
    lo, hi = (midnight - timedelta(hours=2)).timestamp(), (midnight + timedelta(hours=7)).timestamp()
    _unit, dates, labels = check_axis(lo, hi, 900, zone)
    clock = [t[-5:] for t in labels if re.search(r"\d\d:\d\d$", t)]
    if skipped:  # the hour the clock jumps over has no tick
        assert not any(t.startswith(skipped[:3]) for t in clock), labels
    if repeated:  # the hour the clock goes through twice has its ticks twice, an hour apart
        assert clock.count(repeated) == 2, labels
        twice = [d.timestamp() for d, t in zip(dates, labels) if t.endswith(repeated)]
        assert twice[1] - twice[0] == HOUR
    # days across the change: local midnights, 23 or 25 hours apart
    start = midnight - timedelta(days=3)
    unit, dates, labels = check_axis(start.timestamp(), (start + timedelta(days=7)).timestamp(), 600, zone)
    assert unit == "day" and len(set(labels)) == len(labels) == len({d.date() for d in dates}) >= 5
    gaps = sorted(round((b.timestamp() - a.timestamp()) / HOUR) for a, b in zip(dates, dates[1:]))
    assert set(gaps) == {24, 23 if skipped else 25} and gaps.count(23 if skipped else 25) == 1


def test_the_estimate_picks_round_steps_too(local_zone):
    zone = local_zone("Europe/Berlin")
    lo = at(zone, 2025, 12, 6, 13, 20)
    unit, count, values = ticks.time_ticks(lo, lo + 5 * HOUR, 600, CHAR_PX)
    assert unit in ("minute", "hour") and values
    assert all(is_round(datetime.fromtimestamp(v, zone), unit, count) for v in values)
    assert all("1970" not in t for t in ticks.time_labels(values, unit))


# -- money ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (1.5e-05, "$0.000015"),
    (0.0123, "$0.0123"),
    (1.23, "$1.23"),
    (1234.5, "$1,234.50"),
    (0.0, "$0"),
    (4e-07, "$0.0000004"),
    (0.99999, "$1.00"),
    (-0.25, "-$0.2500"),
    (None, "–"),
    (float("nan"), "–"),
])  # fmt: skip
def test_an_amount_reads_as_dollars(value, text):
    assert ticks.money(value) == text


def test_amounts_never_use_scientific_notation():
    for exp in range(-9, 8):
        for lead in (1, 1.5, 2.5, 9.99):
            text = ticks.money(lead * 10.0**exp)
            assert text.startswith("$") and not E_NOTATION.search(text) and "e" not in text, text


@pytest.mark.parametrize("values, spacing, texts", [
    ([0, 5e-6, 1e-5, 1.5e-5], 5e-6, ["$0", "$0.000005", "$0.000010", "$0.000015"]),
    ([0.01, 0.012, 0.014], 0.002, ["$0.010", "$0.012", "$0.014"]),
    ([0, 0.5, 1.0, 1.5], 0.5, ["$0", "$0.50", "$1.00", "$1.50"]),
    ([0, 0.02, 0.04], 0.02, ["$0", "$0.02", "$0.04"]),
    ([0, 500, 1000, 1500], 500, ["$0", "$500", "$1,000", "$1,500"]),
    ([-0.002, 0, 0.002], 0.002, ["-$0.002", "$0", "$0.002"]),
])  # fmt: skip
def test_money_ticks_have_the_decimals_their_spacing_needs(values, spacing, texts):
    assert ticks.money_ticks(values, spacing) == texts


@pytest.mark.parametrize("exp", range(-8, 5))
@pytest.mark.parametrize("lead", [1, 2])
def test_money_ticks_tell_every_tick_apart(exp, lead):
    """pyqtgraph spaces ticks 1 or 2 times a power of ten; every label differs, in dollars."""
    spacing = lead * 10.0**exp
    values = [k * spacing for k in range(-1, 12)]
    texts = ticks.money_ticks(values, spacing)
    assert len(set(texts)) == len(texts), texts
    assert all(t.lstrip("-").startswith("$") and not E_NOTATION.search(t) for t in texts), texts
    for v, t in zip(values, texts):  # each reads back as its value
        assert math.isclose(float(t.replace("$", "").replace(",", "")), v, abs_tol=spacing / 1000)


# -- other numbers -------------------------------------------------------------------------
@pytest.mark.parametrize("value, text", [
    (950, "950"), (12_000, "12k"), (12_345, "12.3k"), (1_500_000, "1.5M"), (999_999, "1M"), (2.5e9, "2.5G"),
    (0.25, "0.25"), (0.00015, "0.00015"), (3e-7, "0.0000003"), (0, "0"), (-12_000, "-12k"), (9_999.7, "10k"),
])  # fmt: skip
def test_compact_numbers(value, text):
    assert ticks.plain(value) == text


@pytest.mark.parametrize("values, spacing, texts", [
    ([0, 0.25, 0.5], 0.25, ["0", "0.25", "0.50"]),
    ([900, 950, 1000], 50, ["900", "950", "1,000"]),
    ([0, 5000, 10_000, 15_000], 5000, ["0", "5k", "10k", "15k"]),
    ([11_000, 12_000, 13_000], 1000, ["11k", "12k", "13k"]),
    ([1e6, 1.5e6, 2e6], 5e5, ["1.0M", "1.5M", "2.0M"]),
    ([0, 2e-5, 4e-5], 2e-5, ["0", "0.00002", "0.00004"]),
])  # fmt: skip
def test_number_ticks(values, spacing, texts):
    assert ticks.number_ticks(values, spacing) == texts


@pytest.mark.parametrize("exp", range(-7, 9))
def test_number_ticks_never_use_scientific_notation(exp):
    spacing = 2 * 10.0**exp
    texts = ticks.number_ticks([k * spacing for k in range(8)], spacing)
    assert len(set(texts)) == len(texts) and not any(E_NOTATION.search(t) for t in texts), texts
