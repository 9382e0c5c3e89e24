"""Pairwise-preference ranking: Davidson ties, position bias, cluster bootstrap, active choice.

Votes are simulated from known strengths with numpy generators seeded per test, so every
assertion below is deterministic; tolerances are chosen so that they hold for the fixed
seeds with room to spare, not tuned to one lucky draw.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from promptbench.core.ranking.leaderboard import RATING_BASE, RATING_SCALE, Battle, Contestant, Leaderboard, fit
from promptbench.core.ranking.active import next_pair, uncertainty_of_pair, votes_to_separate_top_two

A, B, C, D = (Contestant("p", f"v{i}", "m") for i in range(4))


def players(k: int) -> list[Contestant]:
    return [Contestant(f"prompt{i}", "v1", f"model{i % 3}") for i in range(k)]


def simulate(theta, n_votes, rng, *, nu=0.5, gamma=1.0, n_cases=None, case_sd=0.0, both_bad_share=0.3):
    """Battles from Davidson's model with true log-strengths theta, tie strength nu and a
    left advantage gamma.  With n_cases, votes fall on test cases; case_sd adds a random
    per-(test case, contestant) effect, which makes votes on one test case correlated."""
    theta = np.asarray(theta, dtype=float)
    k = len(theta)
    cs = players(k)
    i = rng.integers(0, k, n_votes)
    j = (i + rng.integers(1, k, n_votes)) % k
    case = rng.integers(0, n_cases, n_votes) if n_cases else np.full(n_votes, -1)
    effect = rng.normal(0.0, case_sd, (n_cases or 1, k)) if case_sd else np.zeros((n_cases or 1, k))
    si = theta[i] + effect[case, i]
    sj = theta[j] + effect[case, j]
    b_left = rng.random(n_votes) < 0.5
    s_left, s_right = np.where(b_left, sj, si), np.where(b_left, si, sj)
    p_left, p_right = gamma * np.exp(s_left), np.exp(s_right)
    p_tie = nu * np.sqrt(p_left * p_right)
    u = rng.random(n_votes) * (p_left + p_right + p_tie)
    outcome = np.where(u < p_left, 0, np.where(u < p_left + p_right, 1, 2))
    bad = rng.random(n_votes) < both_bad_share
    battles = []
    for t in range(n_votes):
        if outcome[t] == 2:
            winner = "both_bad" if bad[t] else "tie"
        else:
            left_won = outcome[t] == 0
            winner = "a" if left_won != bool(b_left[t]) else "b"
        battles.append(Battle(cs[i[t]], cs[j[t]], winner, None if case[t] < 0 else f"case{case[t]}",
                              "b" if b_left[t] else "a"))
    return cs, battles


def true_ratings(theta) -> np.ndarray:
    """What the board estimates: ratings of log-strengths centred to mean 0 (the model's
    identifiability constraint), so a true value is a contrast against the mean contestant."""
    theta = np.asarray(theta, dtype=float)
    return RATING_BASE + RATING_SCALE * (theta - theta.mean())


def ratings_of(lb: Leaderboard, cs) -> np.ndarray:
    by = {r.contestant: r for r in lb.ratings}
    return np.array([by[c].rating for c in cs])


def spearman(x, y) -> float:
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    return float(np.corrcoef(rx, ry)[0, 1])


def assert_finite(lb: Leaderboard) -> None:
    numbers = [lb.tie_strength, lb.left_advantage, *lb.left_advantage_ci, *(lb.tie_strength_ci or ())]
    for r in lb.ratings:
        numbers += [r.rating, r.ci_low, r.ci_high]
        assert r.ci_low <= r.ci_high
    assert all(math.isfinite(v) for v in numbers), numbers
    json.dumps(lb.to_json())


# -- recovery ---------------------------------------------------------------------------------


def test_recovers_order_tie_strength_and_left_advantage():
    rng = np.random.default_rng(11)
    theta = np.linspace(-1.5, 1.5, 8)
    cs, battles = simulate(theta, 4000, rng, nu=0.6, gamma=1.4, n_cases=200)
    lb = fit(battles, bootstrap_rounds=100, seed=3)
    est = ratings_of(lb, cs)
    assert spearman(est, theta) >= 0.95
    assert np.abs(est - true_ratings(theta)).max() < 40          # rating points; spacing is ~74
    assert lb.tie_strength == pytest.approx(0.6, rel=0.15)
    assert lb.left_advantage == pytest.approx(1.4, rel=0.1)
    assert lb.left_advantage_ci[0] < lb.left_advantage < lb.left_advantage_ci[1]
    assert lb.tie_strength_ci[0] < lb.tie_strength < lb.tie_strength_ci[1]
    assert [r.rating for r in lb.ratings] == sorted((r.rating for r in lb.ratings), reverse=True)
    assert abs(est.mean() - RATING_BASE) < 1e-6                    # mean log-strength is 0
    assert lb.n_battles == 4000 and lb.n_test_cases == 200 and lb.rounds == 100


def test_no_position_bias_gives_left_advantage_near_one():
    rng = np.random.default_rng(5)
    _, battles = simulate(np.linspace(-1, 1, 5), 3000, rng, nu=0.3, gamma=1.0)
    lb = fit(battles, bootstrap_rounds=100)
    assert lb.left_advantage_ci[0] < 1.0 < lb.left_advantage_ci[1]
    assert lb.left_advantage == pytest.approx(1.0, abs=0.15)


def test_intervals_cover_true_ratings_at_roughly_the_stated_rate():
    """40 small simulations x 5 contestants = 200 intervals at 95%.

    The true value of an interval is the contestant's centred rating (true_ratings): the
    fit pins the mean log-strength to 0, so only contrasts against the mean are estimable.
    Intervals from one simulation are correlated and percentile bootstraps under-cover a
    little in small samples, so the band is tolerant: 0.85-0.995 (binomial sd alone is
    ~0.015 at 200 independent intervals).  A broken interval (vote counts ignored, a wrong
    centring, a bootstrap that does not resample) lands far outside it.
    """
    rng = np.random.default_rng(2024)
    theta = np.array([-1.0, -0.4, 0.0, 0.3, 1.1])
    truth = true_ratings(theta)
    covered = total = 0
    for sim in range(40):
        cs, battles = simulate(theta, 250, rng, nu=0.5, gamma=1.2, n_cases=80)
        lb = fit(battles, bootstrap_rounds=200, seed=sim)
        by = {r.contestant: r for r in lb.ratings}
        for c, t in zip(cs, truth):
            covered += by[c].ci_low <= t <= by[c].ci_high
            total += 1
    rate = covered / total
    assert 0.85 <= rate <= 0.995, rate


def test_cluster_bootstrap_is_wider_than_vote_bootstrap_when_test_cases_correlate():
    """Per-test-case effects make votes on one test case agree; resampling single votes then
    understates the uncertainty.  Same battles, clustered by test case vs each vote alone."""
    rng = np.random.default_rng(7)
    _, battles = simulate(np.linspace(-1, 1, 6), 2400, rng, nu=0.4, n_cases=30, case_sd=1.0)
    unclustered = [Battle(b.a, b.b, b.winner, None, b.left) for b in battles]
    by_case = fit(battles, bootstrap_rounds=150, seed=1)
    by_vote = fit(unclustered, bootstrap_rounds=150, seed=1)
    width = lambda lb: np.mean([r.ci_high - r.ci_low for r in lb.ratings])  # noqa: E731
    assert [r.rating for r in by_case.ratings] == pytest.approx([r.rating for r in by_vote.ratings])
    assert width(by_case) > 1.5 * width(by_vote)
    assert by_case.n_test_cases == 30 and by_vote.n_test_cases == 2400


def test_gradient_and_information_match_finite_differences():
    from promptbench.core.ranking.fit import Design, gradient_and_information, log_posterior

    rng = np.random.default_rng(4)
    design = Design(np.array([0, 1, 2, 0, 3, 2]), np.array([1, 0, 3, 2, 1, 2]), 4)   # incl. a self-cell
    y = rng.integers(0, 6, (2, 3, design.m)).astype(float)
    x = rng.normal(0, 0.7, (2, design.p))
    grad, info = gradient_and_information(design, x, y, y.sum(axis=1))
    h = 1e-6
    for j in range(design.p):
        e = np.zeros(design.p)
        e[j] = h
        numeric = (log_posterior(design, x + e, y) - log_posterior(design, x - e, y)) / (2 * h)
        assert numeric == pytest.approx(grad[:, j], rel=1e-6, abs=1e-6)
        g_plus, _ = gradient_and_information(design, x + e, y, y.sum(axis=1), want_info=False)
        g_minus, _ = gradient_and_information(design, x - e, y, y.sum(axis=1), want_info=False)
        assert -(g_plus - g_minus) / (2 * h) == pytest.approx(info[:, :, j], rel=1e-5, abs=1e-5)


# -- determinism and edge cases -----------------------------------------------------------------


def test_identical_results_for_a_fixed_seed():
    rng = np.random.default_rng(1)
    _, battles = simulate(np.linspace(-1, 1, 6), 600, rng, n_cases=50)
    one, two = fit(battles, seed=42), fit(battles, seed=42)
    assert one == two                      # dataclass equality: every rating, interval, count
    assert one.to_json() == two.to_json()
    assert np.array_equal(one.draws, two.draws)
    other = fit(battles, seed=43)
    assert [r.rating for r in other.ratings] == [r.rating for r in one.ratings]
    assert [r.ci_low for r in other.ratings] != [r.ci_low for r in one.ratings]


def test_empty_input():
    lb = fit([])
    assert lb.ratings == [] and lb.to_json() == []
    assert lb.n_battles == 0 and lb.n_test_cases == 0 and lb.rounds == 0
    assert_finite(lb)
    assert votes_to_separate_top_two(lb) is None


def test_one_contestant():
    battles = [Battle(A, A, w, "t1", left) for w, left in [("a", "a"), ("a", "b"), ("tie", "a"), ("b", "a")]]
    lb = fit(battles, bootstrap_rounds=50)
    assert_finite(lb)
    [only] = lb.ratings
    assert only.rating == pytest.approx(RATING_BASE) and only.rank == 1
    assert only.votes == 0                 # self-battles inform position bias and ties only
    assert lb.win_matrix == {}
    assert votes_to_separate_top_two(lb) is None


def test_all_ties():
    battles = [Battle(x, y, "tie", f"t{i}") for i, (x, y) in enumerate([(A, B), (B, C), (A, C)] * 10)]
    lb = fit(battles, bootstrap_rounds=50)
    assert_finite(lb)
    assert [r.rating for r in lb.ratings] == pytest.approx([RATING_BASE] * 3, abs=1e-6)
    assert lb.tie_strength > 10            # the data say "always a tie"; the prior keeps it finite
    assert all(r.ties == 20 and r.wins == r.losses == 0 for r in lb.ratings)
    assert [r.rank for r in lb.ratings] == [1, 1, 1]


def test_contestant_that_never_lost():
    battles = [Battle(A, y, "a", f"t{i}") for i, y in enumerate([B, C] * 15)]
    battles += [Battle(B, C, w, f"u{i}") for i, w in enumerate(["a", "b", "tie"] * 5)]
    lb = fit(battles, bootstrap_rounds=50)
    assert_finite(lb)
    top = lb.ratings[0]
    assert top.contestant == A and top.losses == 0 and top.wins == 30
    assert top.rating > lb.ratings[1].rating + 300
    assert top.rank == 1 and top.ci_low > lb.ratings[1].ci_high


def test_disconnected_comparison_graph():
    battles = [Battle(A, B, w, f"x{i}") for i, w in enumerate(["a"] * 12 + ["b"] * 3)]
    battles += [Battle(C, D, w, f"y{i}") for i, w in enumerate(["a"] * 3 + ["b"] * 12)]
    lb = fit(battles, bootstrap_rounds=80)
    assert_finite(lb)
    rank = {r.contestant: r.rank for r in lb.ratings}
    # ranks count only connected contestants: each component has its own #1
    assert rank[A] == 1 and rank[D] == 1
    by = {r.contestant: r.rating for r in lb.ratings}
    assert by[A] > by[B] and by[D] > by[C]
    assert (A.key(), C.key()) not in lb.win_matrix
    assert votes_to_separate_top_two(lb) is None      # top two (A, D) were never compared


def test_a_single_test_case_falls_back_to_resampling_votes():
    """One cluster resampled with replacement is always the same data: zero-width intervals
    that would claim certainty.  With fewer than two clusters single votes are resampled."""
    battles = [Battle(A, B, w, "only") for w in ["a"] * 12 + ["b"] * 8 + ["tie"] * 4]
    lb = fit(battles, bootstrap_rounds=100)
    assert lb.n_test_cases == 1 and lb.rounds == 100
    assert all(r.ci_high - r.ci_low > 50 for r in lb.ratings)
    assert [r.rank for r in lb.ratings] == [1, 1]      # 12:8 does not separate them


def test_both_bad_is_a_tie_in_the_fit_and_counted_apart():
    rng = np.random.default_rng(3)
    _, battles = simulate(np.linspace(-1, 1, 4), 500, rng, nu=0.8, both_bad_share=0.5, n_cases=40)
    as_ties = [Battle(b.a, b.b, "tie" if b.winner == "both_bad" else b.winner, b.test_case, b.left)
               for b in battles]
    lb, lb_ties = fit(battles, bootstrap_rounds=60), fit(as_ties, bootstrap_rounds=60)
    assert [(r.rating, r.ci_low, r.ci_high) for r in lb.ratings] == \
        [(r.rating, r.ci_low, r.ci_high) for r in lb_ties.ratings]
    assert lb.tie_strength == lb_ties.tie_strength
    assert sum(r.both_bad for r in lb.ratings) == 2 * sum(b.winner == "both_bad" for b in battles)
    assert all(r.votes == r.wins + r.ties + r.losses + r.both_bad for r in lb.ratings)
    assert all(r.both_bad == 0 for r in lb_ties.ratings)
    row = lb.to_json()[0]
    assert set(row) == {"prompt", "version", "model", "rating", "ci_low", "ci_high", "rank",
                        "votes", "wins", "ties", "losses", "both_bad"}


def test_win_matrix_and_tallies():
    battles = [Battle(A, B, "a", "t1"), Battle(A, B, "b", "t2", left="b"), Battle(B, A, "b", "t3"),
               Battle(A, B, "tie", "t1"), Battle(A, B, "both_bad", "t2")]
    lb = fit(battles, bootstrap_rounds=10)
    assert lb.win_matrix[(A.key(), B.key())] == {"wins": 2, "losses": 1, "ties": 1, "both_bad": 1, "n": 5}
    assert lb.win_matrix[(B.key(), A.key())] == {"wins": 1, "losses": 2, "ties": 1, "both_bad": 1, "n": 5}
    by = {r.contestant: r for r in lb.ratings}
    assert (by[A].wins, by[A].losses, by[A].ties, by[A].both_bad, by[A].votes) == (2, 1, 1, 1, 5)
    assert A.key() == "p@v0:m"


def test_invalid_battles_are_rejected():
    with pytest.raises(ValueError):
        Battle(A, B, "draw", None)
    with pytest.raises(ValueError):
        Battle(A, B, "a", None, left="right")
    with pytest.raises(ValueError):
        fit([], confidence=1.5)


# -- choosing the next vote -----------------------------------------------------------------


@pytest.fixture(scope="module")
def board():
    rng = np.random.default_rng(9)
    theta = np.array([1.2, 1.15, 0.0, -1.5])
    cs, battles = simulate(theta, 300, rng, nu=0.4, n_cases=60)
    return cs, fit(battles, bootstrap_rounds=200, seed=0)


def test_uncertainty_is_high_for_close_pairs_and_low_for_far_ones(board):
    cs, lb = board
    close, far = uncertainty_of_pair(lb, cs[0], cs[1]), uncertainty_of_pair(lb, cs[0], cs[3])
    assert 0.0 <= far < close <= 1.0
    assert far < 0.05
    assert uncertainty_of_pair(lb, cs[1], cs[0]) == pytest.approx(close)
    assert uncertainty_of_pair(lb, cs[0], Contestant("new", "v", "m")) == 1.0
    # without the bootstrap draws (a board rebuilt from storage) the normal reading agrees roughly
    stored = Leaderboard(**{**lb.__dict__, "draws": None})
    assert uncertainty_of_pair(stored, cs[0], cs[1]) == pytest.approx(close, abs=0.25)
    assert uncertainty_of_pair(stored, cs[0], cs[3]) < 0.05


def test_an_evenly_split_pair_is_nearly_a_coin_flip():
    # sides alternate: with A always on the left, a left advantage would explain A's wins over C
    battles = [Battle(A, B, w, f"t{i}", left="ab"[i // 2 % 2]) for i, w in enumerate(["a", "b"] * 16)]
    battles += [Battle(A, C, "a", f"u{i}", left="ab"[i % 2]) for i in range(16)]
    lb = fit(battles, bootstrap_rounds=200)
    assert uncertainty_of_pair(lb, A, B) > 0.8
    assert uncertainty_of_pair(lb, A, C) < 0.05
    assert uncertainty_of_pair(lb, A, A) == 0.0


def test_next_pair_prefers_uncertain_and_unseen_pairs(board):
    cs, lb = board
    newcomer = Contestant("new", "v", "m")
    assert next_pair(lb, [(cs[0], cs[3]), (cs[0], cs[1])]) == (cs[0], cs[1])
    assert next_pair(lb, [(cs[0], cs[3]), (cs[0], cs[1]), (cs[2], newcomer)]) == (cs[2], newcomer)
    assert next_pair(None, [(cs[2], cs[3]), (cs[0], cs[1])]) == (cs[2], cs[3])
    pairs = [(x, y) for x in cs for y in cs if x < y]
    assert next_pair(lb, pairs) == next_pair(lb, list(pairs))
    with pytest.raises(ValueError):
        next_pair(lb, [])


def test_votes_to_separate_top_two(board):
    cs, lb = board
    first, second = lb.ratings[0], lb.ratings[1]
    assert first.ci_low <= second.ci_high               # the two close ones overlap
    needed = votes_to_separate_top_two(lb)
    assert isinstance(needed, int) and needed > 0
    # a smaller gap with the same widths needs more votes
    closer = Leaderboard(**{**lb.__dict__, "ratings": [
        first, type(second)(**{**second.__dict__, "rating": second.rating + (first.rating - second.rating) / 2,
                                "ci_high": second.ci_high + (first.rating - second.rating) / 2})]})
    assert votes_to_separate_top_two(closer) > needed
    separated = fit([Battle(A, B, "a", f"t{i}") for i in range(40)], bootstrap_rounds=50)
    assert votes_to_separate_top_two(separated) is None
