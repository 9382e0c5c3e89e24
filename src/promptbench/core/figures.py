"""How numbers read, in the app and on the command line: one place, so every figure agrees."""

from __future__ import annotations

import math
from datetime import datetime

from promptbench.core.ids import draft_sha, is_draft_version

DASH = "—"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.0f} ms"


def fmt_tps(value: float | None) -> str:
    return DASH if value is None else f"{value:.1f}"


def fmt_cost(value: float | None, failed: bool = False) -> str:
    """``$0.000015``, ``$0.0123``, ``$1.23``; ``free`` for a model without a price, ``$0``
    for a failed call nobody is charged for."""
    if value is None:
        return "unknown price"
    if value == 0:
        return "$0" if failed else "free"
    if value >= 1:
        return f"${value:.2f}"
    if value >= 0.01:
        return f"${value:.4f}"
    return "$" + f"{value:.8f}".rstrip("0") if value < 0.000001 else f"${value:.6f}"


def fmt_tokens(count: int | None, reported: bool) -> str:
    if count is None:
        return DASH
    return f"{count}" if reported else f"~{count}"


def fmt_elapsed(seconds: float | None, live: bool = False) -> str:
    """Tenths of a second. A live counter rounds down and a final figure to the nearest
    tenth, so the last live reading never shows more than the final one."""
    if seconds is None:
        return DASH
    tenths = math.floor(seconds * 10) if live else math.floor(seconds * 10 + 0.5)
    if tenths >= 600:
        return f"{tenths // 600}m {(tenths % 600) / 10:04.1f}s"
    return f"{tenths / 10:.1f} s"


def plural(n: int, one: str, many: str | None = None) -> str:
    """ "1 vote", "3 votes" ("2 replies" with ``many``)."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def test_case_label(index) -> str:
    """How people number test cases: the stored index 0 is "Test case 1" everywhere on screen
    (a test case stored under a name that is not a number keeps its name)."""
    if index is None:
        return "No test case"
    text = str(index).strip()
    return f"Test case {int(text) + 1}" if text.isdigit() else f"Test case {text}"


def short_version(version: str | None) -> str:
    """``3f2a1b0c`` for a commit, ``draft 1a2b3c4d`` for unsaved text."""
    if not version:
        return DASH
    if is_draft_version(version):
        return "draft " + draft_sha(version)[:8]
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


LOCAL_MODE_LABELS = {"sequential": "one at a time", "parallel": "in parallel",
                     "batched": "batched (several at once per model)"}


def local_mode_label(mode: str | None) -> str:
    return LOCAL_MODE_LABELS.get(mode or "", mode or DASH)


def ttft_breakdown(metrics) -> str | None:
    """Where a local run's time to first token went, from the server's own timings:
    prompt processing on the server, then the first token and its way to us. None when
    the server reported no timings (hosted providers)."""
    prompt_ms, ttft = metrics.server_prompt_ms, metrics.ttft_ms
    if prompt_ms is None or ttft is None:
        return None
    tokens, cached = metrics.input_tokens, metrics.server_cached_tokens
    detail = ""
    if tokens is not None:
        detail = f" ({plural(tokens, 'token')}" + (f", {cached} reused from its cache)" if cached else ")")
    text = (f"TTFT {fmt_ms(ttft)} = the server reading the prompt {fmt_ms(prompt_ms)}{detail}"
            f" + the first token and its transfer {fmt_ms(max(0.0, ttft - prompt_ms))}")
    queue = metrics.queue_ms
    if queue is not None and queue >= 1:
        text += f"; before that, {fmt_ms(queue)} waiting for the model's turn"
    decode = metrics.server_decode_tokens_per_s
    if decode is not None:
        text += f"\nThe server's own decode rate: {fmt_tps(decode)} tok/s"
    return text
