"""Which comparison to ask for next, and how many more votes a question needs.

Works on a fitted ``ranking.Leaderboard``: these functions read its ratings, intervals,
win matrix and (when present) bootstrap draws, and never refit.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from promptbench.core.ranking import Contestant, Leaderboard

_MAX_VOTES = 10**9


def _prob_better(lb: Leaderboard, a: Contestant, b: Contestant) -> float | None:
    """P(rating of a > rating of b) under the bootstrap; None if either is not on the board."""
    where = {r.contestant: i for i, r in enumerate(lb.ratings)}
    if a not in where or b not in where:
        return None
    i, j = where[a], where[b]
    if lb.draws is not None and len(lb.draws):
        diff = lb.draws[:, i] - lb.draws[:, j]
        return float((diff > 0).mean() + 0.5 * (diff == 0).mean())
    # No draws (e.g. a board rebuilt from storage): treat each interval as a normal one.
    z = NormalDist().inv_cdf(0.5 + lb.confidence / 2.0)
    ra, rb = lb.ratings[i], lb.ratings[j]
    sd = math.hypot(ra.ci_high - ra.ci_low, rb.ci_high - rb.ci_low) / (2.0 * z)
    gap = ra.rating - rb.rating
    if sd <= 0.0:
        return 0.5 if gap == 0 else float(gap > 0)
    return NormalDist().cdf(gap / sd)


def uncertainty_of_pair(lb: Leaderboard, a: Contestant, b: Contestant) -> float:
    """How unsure the leaderboard is whether a is better than b: 1 - |2 P(a > b) - 1|.

    1.0 means a coin flip (or a contestant the board has never seen), 0.0 means every
    bootstrap round agrees on the order.  P(a > b) is the share of bootstrap rounds in
    which a's rating exceeds b's (it keeps the correlation between the two estimates);
    without stored draws each interval is read as a normal one.  A contestant against
    itself is 0.0: such a vote cannot change the order.
    """
    if a == b:
        return 0.0
    p = _prob_better(lb, a, b)
    return 1.0 if p is None else 1.0 - abs(2.0 * p - 1.0)


def _pair_votes(lb: Leaderboard | None, a: Contestant, b: Contestant) -> int:
    if lb is None:
        return 0
    cell = lb.win_matrix.get((a.key(), b.key()))
    return int(cell["n"]) if cell else 0


def next_pair(lb: Leaderboard | None,
              candidates: list[tuple[Contestant, Contestant]]) -> tuple[Contestant, Contestant]:
    """The candidate pair to vote on next: highest uncertainty / sqrt(1 + votes between them).

    Uncertainty is ``uncertainty_of_pair`` (1.0 for contestants the board has not seen and
    for every pair when there is no board yet), so unknown and close pairs come first and
    a pair that already has many votes yields to one with few.  Ties go to the pair with
    fewer votes, then to the earliest candidate: the choice is deterministic.
    """
    if not candidates:
        raise ValueError("next_pair needs at least one candidate pair")

    def score(item: tuple[int, tuple[Contestant, Contestant]]) -> tuple[float, int, int]:
        pos, (a, b) = item
        unsure = (0.0 if a == b else 1.0) if lb is None else uncertainty_of_pair(lb, a, b)
        votes = _pair_votes(lb, a, b)
        return (-unsure / math.sqrt(1.0 + votes), votes, pos)

    return min(enumerate(candidates), key=score)[1]


def votes_to_separate_top_two(lb: Leaderboard) -> int | None:
    """Estimated number of further votes between #1 and #2 until their intervals stop overlapping.

    None when there are fewer than two contestants, when the two intervals already do not
    overlap, when the two ratings are equal (their intervals would overlap however many
    votes come in), or when #1 and #2 were never connected through comparisons.

    The estimate: an interval's half-width shrinks like 1/sqrt(n) in the number of votes n
    a contestant took part in (the bootstrap width already contains the spread between
    test cases, so the new votes are assumed to be as clustered as the old ones).  With
    the current gap d = r1 - r2 held fixed, the lower half-width h1 = r1 - ci_low1 of #1,
    the upper half-width h2 = ci_high2 - r2 of #2 and vote counts n1, n2, m more votes
    between them give both contestants m more votes, and the answer is the smallest m with

        h1 * sqrt(n1 / (n1 + m)) + h2 * sqrt(n2 / (n2 + m)) < d

    found by bisection (the left side falls as m grows).  It is an order of magnitude,
    not a promise: the gap itself will move as votes arrive.
    """
    if len(lb.ratings) < 2:
        return None
    first, second = lb.ratings[0], lb.ratings[1]
    if first.ci_low > second.ci_high:
        return None
    gap = first.rating - second.rating
    if gap <= 0.0 or not _connected(lb, first.contestant.key(), second.contestant.key()):
        return None
    h1 = max(first.rating - first.ci_low, 0.0)
    h2 = max(second.ci_high - second.rating, 0.0)
    n1, n2 = max(first.votes, 1), max(second.votes, 1)

    def width(m: int) -> float:
        return h1 * math.sqrt(n1 / (n1 + m)) + h2 * math.sqrt(n2 / (n2 + m))

    if width(0) < gap:
        return None
    lo, hi = 0, 1
    while width(hi) >= gap:
        if hi >= _MAX_VOTES:
            return _MAX_VOTES
        lo, hi = hi, min(hi * 2, _MAX_VOTES)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if width(mid) < gap:
            hi = mid
        else:
            lo = mid
    return hi


def _connected(lb: Leaderboard, start: str, goal: str) -> bool:
    """Whether the win matrix links two contestant keys through a chain of comparisons."""
    neighbours: dict[str, set[str]] = {}
    for i, j in lb.win_matrix:
        neighbours.setdefault(i, set()).add(j)
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        if node == goal:
            return True
        for nxt in neighbours.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return False

