"""Human pairwise preferences -> a leaderboard of contestants with confidence intervals.

A contestant is a (prompt, version, model).  People compare two outputs for the same test
case and say which was better, that they tie, or that both are bad.

Model (see ``ranking_fit``): Bradley–Terry with ties modelled explicitly by Davidson (1970),
    P(i beats j) = pi_i / (pi_i + pi_j + nu sqrt(pi_i pi_j)),  P(tie) = nu sqrt(pi_i pi_j) / (...)
and a position bias: the strength of whichever contestant was shown on the LEFT is
multiplied by ``gamma`` (estimated jointly; reported as ``Leaderboard.left_advantage``, a
multiplicative strength factor, 1.0 = no bias).  ``both_bad`` is a tie in the fit and is
also counted separately.  Fitted by maximum a posteriori with weak normal priors on the
log-strengths, log gamma and log nu, so every input gives finite numbers.  The mean
log-strength is 0, and

    rating = 1000 + 400 * log10(pi)       (Elo-like: +400 points = 10x the strength)

so, between equal-tie-strength contestants, a 400-point gap means odds of 10:1 among
decisive votes.  Ratings are defined relative to the mean of the contestants in the fit.

Intervals: a percentile bootstrap that resamples TEST CASES (clusters) with replacement,
because votes on the same test case are correlated; a battle without a test case is its
own cluster.  With fewer than two clusters there is nothing to resample at that level and
single votes are resampled instead.  Each bootstrap fit starts from the full-data estimate.
Rank = 1 + the number of contestants whose whole interval lies above this one's, counting
only contestants connected to it in the comparison graph (ratings in different components
are tied together by the prior alone, so they are not ranked against each other).
``top_two_sd`` is the model's own (Laplace) standard deviation of the gap between #1 and
#2; ``top_two_outlook`` (core/ranking/active.py) plans from it the votes still needed to separate them.

A battle of a contestant against itself (a == b) carries information on position bias and
tie strength only: it is fitted and counted in ``n_battles`` but not in any contestant's
votes/wins/... nor in ``win_matrix``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from promptbench.core.ranking.fit import Design, bootstrap_counts, contrast_variance, fit_batches, newton

__all__ = ["Battle", "Contestant", "Leaderboard", "Rating", "fit", "RATING_BASE", "RATING_SCALE"]

RATING_BASE = 1000.0
RATING_SCALE = 400.0 / math.log(10.0)   # rating points per unit of natural-log strength
WINNERS = ("a", "b", "tie", "both_bad")
# Rating points by which one interval must clear another to count as "above" in ranks: the
# bootstrap fits stop within ~1e-5 points of their optimum, and identical intervals (all
# ties) must not rank apart on that noise.
_RANK_SLACK = 1e-3


@dataclass(frozen=True, order=True)
class Contestant:
    prompt: str
    version: str
    model: str

    def key(self) -> str:
        """Short display and the key of ``Leaderboard.win_matrix``: ``prompt@version:model``."""
        return f"{self.prompt}@{self.version}:{self.model}"


@dataclass(frozen=True)
class Battle:
    a: Contestant
    b: Contestant
    winner: str            # "a" | "b" | "tie" | "both_bad"
    test_case: str | None  # votes with the same test case are resampled together
    left: str = "a"        # which of a/b was shown on the LEFT

    def __post_init__(self) -> None:
        if self.winner not in WINNERS:
            raise ValueError(f"winner must be one of {WINNERS}, not {self.winner!r}")
        if self.left not in ("a", "b"):
            raise ValueError(f"left must be 'a' or 'b', not {self.left!r}")


@dataclass
class Rating:
    contestant: Contestant
    rating: float
    ci_low: float
    ci_high: float
    rank: int
    votes: int      # wins + ties + losses + both_bad
    wins: int
    ties: int       # plain ties; both_bad is counted apart (the fit treats it as a tie)
    losses: int
    both_bad: int


@dataclass
class Leaderboard:
    ratings: list[Rating]               # sorted by rating, best first
    tie_strength: float                 # Davidson's nu (P(tie) between equals = nu / (2 + nu))
    left_advantage: float               # gamma: multiplicative strength factor of the left side
    left_advantage_ci: tuple[float, float]
    n_battles: int
    n_test_cases: int                   # resampling clusters: test cases, + 1 per battle without one
    rounds: int                         # bootstrap rounds actually run (0 without data)
    seed: int
    confidence: float
    win_matrix: dict[tuple[str, str], dict]  # (key_i, key_j) -> {"wins","ties","both_bad","losses","n"} for i
    tie_strength_ci: tuple[float, float] | None = None
    # Model (Laplace) standard deviation of ratings[0].rating - ratings[1].rating, in rating
    # points; None with fewer than two contestants.  Used by ``top_two_outlook``.
    top_two_sd: float | None = None
    # Bootstrap ratings, shape (rounds, len(ratings)), columns in the order of ``ratings``;
    # used by uncertainty_of_pair when present (not persisted: to_json leaves it out).
    draws: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> list[dict]:
        return [
            {
                "prompt": r.contestant.prompt, "version": r.contestant.version, "model": r.contestant.model,
                "rating": r.rating, "ci_low": r.ci_low, "ci_high": r.ci_high, "rank": r.rank,
                "votes": r.votes, "wins": r.wins, "ties": r.ties, "losses": r.losses, "both_bad": r.both_bad,
            }
            for r in self.ratings
        ]


class _Data:
    """Battles turned into index arrays and per-cluster count tables."""

    def __init__(self, battles: list[Battle]):
        self.contestants = sorted({b.a for b in battles} | {b.b for b in battles})
        index = {c: i for i, c in enumerate(self.contestants)}
        n = len(battles)
        ai = np.fromiter((index[b.a] for b in battles), dtype=np.intp, count=n)
        bi = np.fromiter((index[b.b] for b in battles), dtype=np.intp, count=n)
        code = np.fromiter((WINNERS.index(b.winner) for b in battles), dtype=np.intp, count=n)
        b_left = np.fromiter((b.left == "b" for b in battles), dtype=bool, count=n)
        self.ai, self.bi, self.code = ai, bi, code
        # clusters: named test cases in sorted order, then one per battle without a test case
        names = sorted({b.test_case for b in battles if b.test_case is not None})
        by_name = {t: i for i, t in enumerate(names)}
        cluster = np.empty(n, dtype=np.intp)
        loose = len(names)
        for i, b in enumerate(battles):
            if b.test_case is None:
                cluster[i] = loose
                loose += 1
            else:
                cluster[i] = by_name[b.test_case]
        self.n_clusters = loose
        if self.n_clusters < 2:          # nothing to resample at the test-case level
            cluster = np.arange(n)
            self.resample_clusters = n
        else:
            self.resample_clusters = self.n_clusters
        # cells: ordered (left, right) pairs; outcome 0 = left won, 1 = right won, 2 = tie/both_bad
        left = np.where(b_left, bi, ai)
        right = np.where(b_left, ai, bi)
        outcome = np.where(code >= 2, 2, np.where((code == 1) == b_left, 0, 1))
        k = len(self.contestants)
        pair = left * max(k, 1) + right
        pairs, cell = np.unique(pair, return_inverse=True)
        self.design = Design(pairs // max(k, 1), pairs % max(k, 1), k)
        width = 3 * len(pairs)
        entry, count = np.unique(cluster * width + outcome * len(pairs) + cell, return_counts=True)
        self.cluster, self.column, self.count = entry // max(width, 1), entry % max(width, 1), count.astype(float)
        self.width = width
        self.totals = np.bincount(self.column, weights=self.count, minlength=width).reshape(1, 3, -1)


def fit(battles: list[Battle], *, bootstrap_rounds: int = 200, seed: int = 0,
        confidence: float = 0.95) -> Leaderboard:
    """Fit ratings, tie strength and left advantage, with cluster-bootstrap intervals.

    bootstrap_rounds resamples of the test cases are each refitted (0: intervals collapse
    to the estimate); intervals are the equal-tailed percentile intervals at confidence.
    The bootstrap draws come from numpy's PCG64 seeded with seed, clusters are ordered by
    test case name, and contestants by (prompt, version, model): the same battles and seed
    give the same leaderboard.  Never returns NaN or infinity; raises ValueError only for
    a confidence outside (0, 1) or negative rounds.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    if bootstrap_rounds < 0:
        raise ValueError("bootstrap_rounds must be >= 0")
    battles = list(battles)
    data = _Data(battles)
    design = data.design
    k = design.k
    x_hat = newton(design, data.totals)[0]
    rounds = bootstrap_rounds if battles else 0
    if rounds:
        rng = np.random.Generator(np.random.PCG64(seed))
        tables = bootstrap_counts(data.cluster, data.column, data.count, data.resample_clusters,
                                  data.width, rounds, rng).reshape(rounds, 3, -1)
        x_boot = fit_batches(design, tables, x_hat, data.totals)
    else:
        x_boot = x_hat[None, :]
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(x_boot, [alpha, 1.0 - alpha], axis=0)

    rating = RATING_BASE + RATING_SCALE * x_hat[:k]
    boot_rating = RATING_BASE + RATING_SCALE * x_boot[:, :k]
    ci_low, ci_high = RATING_BASE + RATING_SCALE * lo[:k], RATING_BASE + RATING_SCALE * hi[:k]
    tallies = _tallies(data)
    component = _components(k, data.ai, data.bi)
    ratings = []
    for i, c in enumerate(data.contestants):
        above = (ci_low > ci_high[i] + _RANK_SLACK) & (component == component[i])
        wins, losses, ties, both_bad = (int(v) for v in tallies[i])
        ratings.append(Rating(c, float(rating[i]), float(ci_low[i]), float(ci_high[i]), 1 + int(above.sum()),
                              wins + losses + ties + both_bad, wins, ties, losses, both_bad))
    order = sorted(range(k), key=lambda i: (-ratings[i].rating, data.contestants[i]))
    top_two_sd = None
    if k >= 2:
        variance = contrast_variance(design, x_hat, data.totals, order[0], order[1])
        top_two_sd = RATING_SCALE * math.sqrt(max(variance, 0.0))
    return Leaderboard(
        ratings=[ratings[i] for i in order],
        tie_strength=float(math.exp(x_hat[k + 1])),
        left_advantage=float(math.exp(x_hat[k])),
        left_advantage_ci=(float(math.exp(lo[k])), float(math.exp(hi[k]))),
        n_battles=len(battles),
        n_test_cases=data.n_clusters,
        rounds=rounds,
        seed=seed,
        confidence=confidence,
        win_matrix=_win_matrix(data),
        tie_strength_ci=(float(math.exp(lo[k + 1])), float(math.exp(hi[k + 1]))),
        top_two_sd=top_two_sd,
        draws=boot_rating[:, order] if rounds else None,
    )


def _tallies(data: _Data) -> np.ndarray:
    """(K, 4): wins, losses, ties, both_bad per contestant, self-battles left out."""
    k = len(data.contestants)
    other = data.ai != data.bi
    out = np.zeros((k, 4), dtype=np.int64)
    for side, idx in ((0, data.ai[other]), (1, data.bi[other])):
        code = data.code[other]
        won = code == side
        lost = code == 1 - side
        out[:, 0] += np.bincount(idx[won], minlength=k)
        out[:, 1] += np.bincount(idx[lost], minlength=k)
        out[:, 2] += np.bincount(idx[code == 2], minlength=k)
        out[:, 3] += np.bincount(idx[code == 3], minlength=k)
    return out


def _win_matrix(data: _Data) -> dict[tuple[str, str], dict]:
    keys = [c.key() for c in data.contestants]
    other = data.ai != data.bi
    k = max(len(keys), 1)
    entries, counts = np.unique((data.ai[other] * k + data.bi[other]) * 4 + data.code[other], return_counts=True)
    matrix: dict[tuple[str, str], dict] = {}
    for entry, count in zip(entries.tolist(), counts.tolist()):
        pair, code = divmod(entry, 4)
        i, j = divmod(pair, k)
        for me, them, mine in ((i, j, code), (j, i, (1, 0, 2, 3)[code])):
            cell = matrix.setdefault((keys[me], keys[them]), {"wins": 0, "ties": 0, "both_bad": 0, "losses": 0, "n": 0})
            cell[("wins", "losses", "ties", "both_bad")[mine]] += count
            cell["n"] += count
    return matrix


def _components(k: int, ai: np.ndarray, bi: np.ndarray) -> np.ndarray:
    """Connected-component label of each contestant in the comparison graph (union-find)."""
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in set(zip(ai.tolist(), bi.tolist())):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return np.array([root(i) for i in range(k)], dtype=np.intp)
