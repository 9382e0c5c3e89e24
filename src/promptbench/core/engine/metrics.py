"""Stream metrics as pure functions over timestamps (``perf_counter_ns``) and counts."""

from __future__ import annotations

from dataclasses import dataclass, field

NS_PER_MS = 1_000_000


def ms(delta_ns: int | None) -> float | None:
    return None if delta_ns is None else delta_ns / NS_PER_MS


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * q // 100)))  # ceil(n*q/100)
    return ordered[int(rank) - 1]


def tokens_per_second(output_tokens: int, first_ns: int | None, last_ns: int | None) -> float | None:
    """Throughput of the generation phase: tokens after the first one / time from first to last token.

    The first token's own latency belongs to TTFT, so it is excluded from both sides.
    """
    if first_ns is None or last_ns is None or output_tokens < 2 or last_ns <= first_ns:
        return None
    return (output_tokens - 1) / ((last_ns - first_ns) / 1e9)


@dataclass
class StreamClock:
    """Collects the timestamps of one run while it streams; O(1) work per chunk."""

    sent_ns: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    ended_ns: int | None = None
    gaps_ms: list[float] = field(default_factory=list)

    def content(self, t_ns: int) -> bool:
        """Record a non-empty content chunk read at ``t_ns``; True if it was the first."""
        if self.first_ns is None:
            self.first_ns = self.last_ns = t_ns
            return True
        self.gaps_ms.append((t_ns - self.last_ns) / NS_PER_MS)
        self.last_ns = t_ns
        return False

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_ns is None else (self.first_ns - self.sent_ns) / NS_PER_MS

    def total_ms(self) -> float | None:
        return None if self.ended_ns is None else (self.ended_ns - self.sent_ns) / NS_PER_MS

    def itl(self) -> tuple[float | None, float | None]:
        return percentile(self.gaps_ms, 50), percentile(self.gaps_ms, 95)


def server_timings(metrics, timings: dict) -> None:
    """Copy llama-server's ``timings`` (the last chunk of a stream) into a run's metrics."""

    def number(key: str) -> float | None:
        value = timings.get(key)
        return float(value) if isinstance(value, (int, float)) and value >= 0 else None

    metrics.server_prompt_ms = number("prompt_ms")
    metrics.server_prompt_tokens_per_s = number("prompt_per_second")
    metrics.server_decode_tokens_per_s = number("predicted_per_second")
    cached = number("cache_n")
    metrics.server_cached_tokens = None if cached is None else int(cached)


def perplexity(logprobs: list[float]) -> float | None:
    """exp of the mean negative log-probability (natural log) of the tokens; None for none."""
    import math

    if not logprobs:
        return None
    return math.exp(-sum(logprobs) / len(logprobs))
