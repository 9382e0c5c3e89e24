"""Small helpers shared by the benchmarks: timing, percentiles, table printing."""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextmanager
def timed(samples: list[float]):
    start = time.perf_counter()
    yield
    samples.append((time.perf_counter() - start) * 1000)


def isolated_git_env(home: str) -> None:
    """Benchmarks commit in temp repos: give them an identity without touching the user's config."""
    os.environ.update({
        "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "HOME": home,
    })


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    print(line)
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
