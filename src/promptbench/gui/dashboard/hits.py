"""What lies under the mouse on a chart: every drawn point, bar or box is a rectangle
(a point is a rectangle of size 0) with a tooltip text and the run filter behind it.

The nearest-rectangle search is vectorised (numpy), and the text and filter of a hit
are made only when it is hovered or clicked (``describe(j) -> (text, filter)`` per
group of hits), so drawing a chart never builds per-point Python objects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

HIT_PX = 12  # how close (in pixels) the mouse must be to a point or bar


def _empty(dtype=float) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class Hits:
    xlo: np.ndarray = field(default_factory=_empty)
    xhi: np.ndarray = field(default_factory=_empty)
    ylo: np.ndarray = field(default_factory=_empty)
    yhi: np.ndarray = field(default_factory=_empty)
    group: np.ndarray = field(default_factory=lambda: _empty(int))  # which add() a hit came from
    local: np.ndarray = field(default_factory=lambda: _empty(int))  # its index within that add()
    describers: list = field(default_factory=list)

    def add(self, xlo, xhi, ylo, yhi, n: int, describe: Callable[[int], tuple[str, dict]], where=None) -> None:
        """``n`` rectangles in data coordinates (arrays, or scalars broadcast to them);
        ``describe(j)`` gives the tooltip text and run filter of the j-th. Rectangles with
        a NaN corner, or False in ``where``, are not hits."""
        cols = [np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in (xlo, xhi, ylo, yhi)]
        ok = np.logical_and.reduce([np.isfinite(c) for c in cols]) if n else np.zeros(0, bool)
        if where is not None:
            ok &= np.asarray(where, dtype=bool)
        keep = np.flatnonzero(ok)
        for name, col in zip(("xlo", "xhi", "ylo", "yhi"), cols):
            setattr(self, name, np.concatenate([getattr(self, name), col[keep]]))
        self.group = np.concatenate([self.group, np.full(len(keep), len(self.describers))])
        self.local = np.concatenate([self.local, keep])
        self.describers.append(describe)

    def __len__(self) -> int:
        return len(self.xlo)

    def describe(self, i: int) -> tuple[str, dict]:
        return self.describers[self.group[i]](int(self.local[i]))

    def text(self, i: int) -> str:
        return self.describe(i)[0]

    def filter(self, i: int) -> dict:
        return dict(self.describe(i)[1])

    def centre(self, i: int) -> tuple[float, float]:
        return (self.xlo[i] + self.xhi[i]) / 2, (self.ylo[i] + self.yhi[i]) / 2

    def nearest(self, x: float, y: float, px_per_x: float, px_per_y: float, limit: float = HIT_PX) -> int | None:
        """Index of the hit nearest to view point (x, y), measured in pixels, or None."""
        if not len(self) or not px_per_x or not px_per_y:
            return None
        lo_x, hi_x = np.minimum(self.xlo, self.xhi), np.maximum(self.xlo, self.xhi)
        lo_y, hi_y = np.minimum(self.ylo, self.yhi), np.maximum(self.ylo, self.yhi)
        dx = np.maximum(np.maximum(lo_x - x, x - hi_x), 0.0) * abs(px_per_x)
        dy = np.maximum(np.maximum(lo_y - y, y - hi_y), 0.0) * abs(px_per_y)
        dist = np.hypot(dx, dy)
        i = int(np.argmin(dist))
        return i if dist[i] <= limit else None
