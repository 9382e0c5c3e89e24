"""What lies under the mouse on a chart: every drawn point or bar is a vertical segment
(x, y_low..y_high) with a tooltip text and the run filter behind it. Nearest-segment
search is vectorised (numpy), so hovering stays cheap however many points are drawn."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HIT_PX = 12  # how close (in pixels) the mouse must be to a point or bar


@dataclass
class Hits:
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ylo: np.ndarray = field(default_factory=lambda: np.zeros(0))
    yhi: np.ndarray = field(default_factory=lambda: np.zeros(0))
    texts: list = field(default_factory=list)
    filters: list = field(default_factory=list)  # dict per hit: what runs_requested carries
    half_width: np.ndarray = field(default_factory=lambda: np.zeros(0))  # bars: half their width (data units)

    def add(self, x, ylo, yhi, texts, filters, half_width=0.0) -> None:
        x = np.asarray(x, dtype=float)
        keep = np.isfinite(x) & np.isfinite(np.asarray(ylo, dtype=float)) & np.isfinite(np.asarray(yhi, dtype=float))
        idx = np.flatnonzero(keep)
        self.x = np.concatenate([self.x, x[idx]])
        self.ylo = np.concatenate([self.ylo, np.asarray(ylo, dtype=float)[idx]])
        self.yhi = np.concatenate([self.yhi, np.asarray(yhi, dtype=float)[idx]])
        self.half_width = np.concatenate([self.half_width, np.broadcast_to(np.asarray(half_width, float), x.shape)[idx]])
        self.texts += [texts[i] for i in idx]
        self.filters += [filters[i] for i in idx]

    def __len__(self) -> int:
        return len(self.texts)

    def nearest(self, x: float, y: float, px_per_x: float, px_per_y: float, limit: float = HIT_PX) -> int | None:
        """Index of the hit nearest to view point (x, y), measured in pixels, or None."""
        if not len(self) or not px_per_x or not px_per_y:
            return None
        dx = np.maximum(np.abs(self.x - x) - self.half_width, 0.0) * px_per_x
        lo, hi = np.minimum(self.ylo, self.yhi), np.maximum(self.ylo, self.yhi)
        dy = np.where(y < lo, lo - y, np.where(y > hi, y - hi, 0.0)) * px_per_y
        dist = np.hypot(dx, dy)
        i = int(np.argmin(dist))
        return i if dist[i] <= limit else None
