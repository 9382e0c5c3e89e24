"""How numbers read in the compare and runs views: one place, so every pane agrees."""

from __future__ import annotations

from datetime import datetime

DASH = "—"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def fmt_tps(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def fmt_cost(value: float | None) -> str:
    if value is None:
        return "unknown price"
    if value == 0:
        return "free"
    if value >= 1:
        return f"${value:.2f}"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def fmt_tokens(count: int | None, reported: bool) -> str:
    if count is None:
        return DASH
    return f"{count}" if reported else f"~{count}"


def fmt_elapsed(seconds: float | None) -> str:
    if seconds is None:
        return DASH
    if seconds >= 60:
        return f"{int(seconds // 60)}m {seconds % 60:04.1f}s"
    return f"{seconds:.1f} s"


def short_version(version: str | None) -> str:
    """``3f2a1b0c`` for a commit, ``draft 1a2b3c4d`` for unsaved text."""
    if not version:
        return DASH
    if version.startswith("draft:"):
        return "draft " + version[6:14]
    return version[:8]


def local_time(iso: str | None) -> str:
    """A stored UTC timestamp as local ``YYYY-MM-DD HH:MM:SS``."""
    if not iso:
        return DASH
    try:
        value = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if value.tzinfo is not None:
        value = value.astimezone()
    return value.strftime("%Y-%m-%d %H:%M:%S")


LOCAL_MODE_LABELS = {"sequential": "one at a time", "parallel": "in parallel"}


def local_mode_label(mode: str | None) -> str:
    return LOCAL_MODE_LABELS.get(mode or "", mode or DASH)
