"""Which comparison to ask for next, and how many more votes a question needs.

Works on a fitted ``ranking.Leaderboard``: these functions read its ratings, intervals,
win matrix, model standard deviation of the top two and (when present) bootstrap draws,
and never refit.  ``not_a_repeat`` keeps the comparison just judged from coming straight
back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from promptbench.core.ranking.fit import vote_information
from promptbench.core.ranking.leaderboard import RATING_SCALE, Contestant, Leaderboard


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


@dataclass(frozen=True)
class Judged:
    """What one judgement showed: these contestants' outputs for this test case."""

    contestants: frozenset[Contestant]
    test_case: str | None

    @classmethod
    def of(cls, contestants, test_case) -> Judged:
        return cls(frozenset(contestants), None if test_case is None else str(test_case))


def not_a_repeat(items: list[Judged], last: Judged | None, *, same_contestants: bool = False) -> list[int]:
    """Indices of the items that may come next without showing again what was just judged.

    An item repeats ``last`` when it shows the same contestants on the same test case (the
    very outputs just voted on).  With ``same_contestants`` (right after a vote in a queue,
    while the board that picks pairs has not seen that vote yet) the same contestants on
    another test case count as a repeat as well, as long as an item with other
    contestants is left; failing that, only the exact repeat is avoided.  When every item
    repeats ``last`` (or there is no ``last``), every index is returned: the choice then
    falls to the pair chooser alone.  Order is kept.
    """
    everything = list(range(len(items)))
    if last is None:
        return everything
    if same_contestants:
        other = [i for i in everything if items[i].contestants != last.contestants]
        if other:
            return other
    fresh = [i for i in everything if items[i] != last]
    return fresh or everything


@dataclass(frozen=True)
class TopTwoOutlook:
    """How far the board is from telling its top two apart (``top_two_outlook``).

    state: "votes" (about ``votes`` more votes between them), "separated" (the order of
    the two is settled), "too_close" (their ratings are level, or so close that no
    sensible number of votes would settle it) or "unknown" (fewer than two contestants,
    or #1 and #2 never linked through comparisons).
    """

    state: str
    votes: int | None = None


# Outlook constants (see top_two_outlook).
LEVEL_POINTS = 0.01         # a smaller rating gap is level: the data are symmetric, no side to plan for
MAX_ESTIMATE = 10_000       # more than this many further votes: "too close to tell apart yet"
SWING = 1.0                 # the floor, in sqrt(P) / I: twice the most one vote moves the plan at the finish


def top_two_outlook(lb: Leaderboard) -> TopTwoOutlook:
    """About how many more votes between #1 and #2 until the board is sure of their order.

    Computed from the fitted model, not from the bootstrap, so it moves smoothly as votes
    arrive.  On the log-strength scale (rating points / RATING_SCALE) let

        d  = the rating gap of #1 over #2 (>= 0),
        s  = its model standard deviation (``Leaderboard.top_two_sd``: Laplace, with the
             left advantage and tie strength held at their estimates),
        P  = 1 / s^2, the precision the votes so far give the gap,
        I  = the precision one more vote between the two adds (``ranking_fit.vote_information``
             at the fitted gap, tie strength and left advantage: 0.25 for two equal
             contestants without ties, less with ties or a wide gap),
        n  = P / I, the votes so far counted as votes between the two,
        z  = the normal quantile of the board's confidence (1.96 at 95%).

    The order is settled ("separated") once d >= z s, or once the board's own intervals
    rank the two apart (#1's lower end above #2's upper end, both intervals of positive
    width), so this line never contradicts the leaderboard's ranks.  Until then m more votes raise the
    precision to P + m I, and a gap g is told apart once z / sqrt(P + m I) <= g:

        m = (z^2 / g^2 - P) / I  =  n ((z s / g)^2 - 1)      with  g = s + (1 - 1/z) d.

    The planning gap g is not the observed d: after a few votes d swings by about s with
    every vote, and z^2 / d^2 is unbounded as d -> 0, which made the old interval-based
    estimate jump a hundredfold after one vote.  g blends one standard deviation (when the
    two look level, d = 0) with the observed gap, and meets it exactly at the finish line
    (d = z s gives g = d and m = 0).  So the plan is at most (z^2 - 1) n (about 3 times the
    votes so far, when the two look equal), it falls steadily as the gap grows, and a
    smaller gap always needs more votes.

    Near the finish the plan falls to 0 while one vote still moves it: a vote shifts d by
    its score (within +-1) / P, and there |dm/dd| = 2 (1 - 1/z) / (z s^3 I), so one vote
    moves m by up to about sqrt(P) / (2 I).  The answer is therefore never below
    SWING * sqrt(P) / I (nor below 1 vote): it does not promise more precision than the
    next vote can undo.  Below 1000 it is in whole votes, above that two significant
    figures.  Together these keep consecutive estimates within a small factor of each
    other (tested: at most x3 from the fifth vote on, with the sides shown alternating as
    the rank view's shuffle balances them; a long run of votes all shown the same way
    round confounds the gap with the left advantage and can move the gap itself by more).

    "too_close" when the gap is below LEVEL_POINTS rating points (the two are level: there
    is no leader to plan for) or the plan exceeds MAX_ESTIMATE votes.  It is a plan, not a
    promise: the gap itself moves as votes arrive.  Without ``top_two_sd`` (a board built
    by hand) s is read from the two intervals as normal ones.
    """
    if len(lb.ratings) < 2:
        return TopTwoOutlook("unknown")
    first, second = lb.ratings[0], lb.ratings[1]
    if not _connected(lb, first.contestant.key(), second.contestant.key()):
        return TopTwoOutlook("unknown")
    z = NormalDist().inv_cdf(0.5 + lb.confidence / 2.0)
    sd = lb.top_two_sd
    if sd is None:
        sd = math.hypot(first.ci_high - first.ci_low, second.ci_high - second.ci_low) / (2.0 * z)
    gap_points = max(first.rating - second.rating, 0.0)
    if gap_points < LEVEL_POINTS:
        return TopTwoOutlook("too_close")
    if not sd > 0.0:
        return TopTwoOutlook("unknown")
    d, s = gap_points / RATING_SCALE, sd / RATING_SCALE
    if d >= z * s or _ranked_apart(first, second):
        return TopTwoOutlook("separated")
    per_vote = vote_information(d, lb.left_advantage, lb.tie_strength)
    if not per_vote > 0.0:                 # votes that are (nearly) always ties say nothing more
        return TopTwoOutlook("too_close")
    precision = 1.0 / (s * s)
    plan = (z * z / (s + (1.0 - 1.0 / z) * d) ** 2 - precision) / per_vote
    swing = SWING * math.sqrt(precision) / per_vote
    more = max(plan, swing, 1.0)
    if not more <= MAX_ESTIMATE:
        return TopTwoOutlook("too_close")
    return TopTwoOutlook("votes", _two_figures(more))


def votes_to_separate_top_two(lb: Leaderboard) -> int | None:
    """``top_two_outlook(lb).votes``: about how many more votes between #1 and #2 until their
    order is settled; None when there is no estimate (already separated, too close to
    tell apart, fewer than two contestants, or #1 and #2 never linked by comparisons)."""
    outlook = top_two_outlook(lb)
    return outlook.votes if outlook.state == "votes" else None


def _ranked_apart(first, second) -> bool:
    """#1's whole interval lies above #2's (as ``Rating.rank`` counts it), from a real bootstrap."""
    spread = first.ci_high > first.ci_low and second.ci_high > second.ci_low
    return spread and first.ci_low > second.ci_high + 1e-3


def _two_figures(x: float) -> int:
    """Whole votes below 1000, then two significant figures: 7, 23, 174, 2700."""
    if x < 1000:
        return max(1, int(round(x)))
    step = 10 ** (int(math.floor(math.log10(x))) - 1)
    return int(round(x / step) * step)


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

