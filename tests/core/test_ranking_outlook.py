""""About N more votes to separate the top two": planned from the fitted model, smooth.

The estimate used to come from bootstrap interval widths and jumped 22 -> 3 -> 5 -> 22 ->
2687 between consecutive votes. It now comes from the model's own standard deviation of
the gap (``Leaderboard.top_two_sd``) and the information one more vote adds; see
``ranking_active.top_two_outlook`` for the formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptbench.core.ranking.leaderboard import RATING_SCALE, Battle, Contestant, fit
from promptbench.core.ranking.active import top_two_outlook, votes_to_separate_top_two  # fmt: skip
from promptbench.core.ranking.fit import vote_information

A, B, C = (Contestant("p", f"v{i}", "m") for i in range(3))
MAX_STEP = 3.0   # one more vote never changes the estimate by more than this factor (from vote 5 on)


def estimates(battles: list[Battle], start: int = 1) -> list[int | str]:
    """The outlook after each prefix of battles: a number of votes, or the state's name."""
    out: list[int | str] = []
    for n in range(start, len(battles) + 1):
        outlook = top_two_outlook(fit(battles[:n], bootstrap_rounds=0))
        out.append(outlook.votes if outlook.state == "votes" else outlook.state)
    return out


def steps(values: list[int | str]) -> list[float]:
    """Factors between consecutive numeric estimates (a state in between breaks the chain)."""
    return [max(x / y, y / x) for x, y in zip(values, values[1:]) if isinstance(x, int) and isinstance(y, int)]


VOTE = st.tuples(st.sampled_from(["a", "b", "tie", "both_bad"]), st.sampled_from([None, "t0", "t1", "t2"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VOTE, min_size=6, max_size=18))
def test_one_more_vote_never_moves_the_estimate_by_more_than_a_bounded_factor(votes):
    # sides alternate, as the rank view's shuffle balances them on average
    battles = [Battle(A, B, winner, case, "ab"[i % 2]) for i, (winner, case) in enumerate(votes)]
    values = estimates(battles, start=5)
    assert all(isinstance(v, int) and v >= 1 or v in ("separated", "too_close") for v in values), values
    assert max(steps(values), default=1.0) <= MAX_STEP, values


def test_a_scripted_session_counts_down_smoothly_to_separated():
    """A is the better one (about 2:1); sides alternate; seven test cases."""
    script = "abaab" "taaba" "abaat" "aabab" "aaaba" "aabaa" "aaaba" "atbaa"
    battles = [Battle(A, B, {"t": "tie"}.get(w, w), f"case{i % 7}", "ab"[i % 2]) for i, w in enumerate(script)]
    values = estimates(battles)
    assert values[1] == "too_close"                      # 1:1 with one vote each side: level
    numbers = [v for v in values[4:] if isinstance(v, int)]
    assert values[4:25] == numbers[:21] and all(3 <= v <= 20 for v in numbers), values
    assert max(steps(values[4:])) <= 1.5, values         # no jumps: 7, 9, 9, 10, ...
    assert values[-1] == "separated" and values.index("separated") > 20
    first_separated = values.index("separated")
    lb = fit(battles[: first_separated + 1], bootstrap_rounds=0)
    gap = lb.ratings[0].rating - lb.ratings[1].rating
    assert gap >= 1.96 * lb.top_two_sd and lb.ratings[0].contestant == A


def test_the_formula_on_a_fitted_board():
    """m = (z^2 / g^2 - P) / I with g = s + (1 - 1/z) d, floored at sqrt(P) / I, whole votes."""
    rng = np.random.default_rng(5)
    battles = [Battle(A, B, "a" if rng.random() < 0.6 else "b", f"t{i % 9}", "ab"[i % 2]) for i in range(40)]
    lb = fit(battles, bootstrap_rounds=0)
    d = (lb.ratings[0].rating - lb.ratings[1].rating) / RATING_SCALE
    s = lb.top_two_sd / RATING_SCALE
    z = 1.959963984540054
    per_vote = vote_information(d, lb.left_advantage, lb.tie_strength)
    plan = (z * z / (s + (1 - 1 / z) * d) ** 2 - 1 / s**2) / per_vote
    assert d < z * s and plan > 1 / (s * per_vote)        # the plan, not the floor, decides here
    assert votes_to_separate_top_two(lb) == round(plan)


def test_the_model_sd_agrees_with_the_bootstrap_for_independent_votes():
    rng = np.random.default_rng(8)
    battles = [Battle(A, B, "a" if rng.random() < 0.6 else ("tie" if rng.random() < 0.2 else "b"), None,
                      "ab"[i % 2]) for i in range(400)]
    lb = fit(battles, bootstrap_rounds=400, seed=1)
    boot_sd = float(np.std(lb.draws[:, 0] - lb.draws[:, 1]))
    assert lb.top_two_sd == pytest.approx(boot_sd, rel=0.2)


def test_vote_information():
    assert vote_information(0.0, 1.0, 1e-9) == pytest.approx(0.25)        # a coin flip: p (1 - p)
    assert vote_information(3.0, 1.0, 1e-9) == pytest.approx(math.exp(3) / (1 + math.exp(3)) ** 2)
    assert vote_information(0.0, 1.0, 1.0) < 0.25                          # ties say nothing about the gap
    assert vote_information(0.0, 2.0, 1e-9) == pytest.approx(vote_information(0.0, 0.5, 1e-9))


def test_states():
    assert top_two_outlook(fit([])).state == "unknown"
    level = [Battle(A, B, w, f"t{i}", "ab"[i % 2]) for i, w in enumerate(["a", "a", "b", "b"] * 3)]
    assert top_two_outlook(fit(level, bootstrap_rounds=0)).state == "too_close"     # no leader to plan for
    assert votes_to_separate_top_two(fit(level, bootstrap_rounds=0)) is None
    clear = [Battle(A, B, "a", f"t{i}", "ab"[i % 2]) for i in range(30)]
    assert top_two_outlook(fit(clear, bootstrap_rounds=0)).state == "separated"
    D = Contestant("p", "v3", "m")
    apart = [Battle(x, y, "a", f"{x.version}{i}", "ab"[i % 2]) for x, y in ((A, B), (C, D)) for i in range(6)]
    lb = fit(apart, bootstrap_rounds=0)
    assert {r.contestant for r in lb.ratings[:2]} == {A, C}
    assert top_two_outlook(lb).state == "unknown"                            # the top two never met
    one = top_two_outlook(fit([Battle(A, B, "a", "t0")], bootstrap_rounds=0))
    assert one.state == "votes" and 1 <= one.votes <= 10                      # after one vote: a few more


def test_never_contradicts_the_leaderboard_ranks():
    """Once the board's own intervals rank #1 above #2, the outlook says "separated" too."""
    script = "abaab" "taaba" "abaat" "aabab" "aaaba" "aab"
    battles = [Battle(A, B, {"t": "tie"}.get(w, w), f"case{i % 7}", "ab"[i % 2]) for i, w in enumerate(script)]
    apart = []
    for n in range(5, len(battles) + 1):
        lb = fit(battles[:n], bootstrap_rounds=100, seed=0)
        first, second = lb.ratings[:2]
        ranked_apart = second.rank > first.rank
        if ranked_apart:
            apart.append(n)
            assert top_two_outlook(lb).state == "separated"
        gap = first.rating - second.rating
        assert (top_two_outlook(lb).state == "separated") == (ranked_apart or gap >= 1.96 * lb.top_two_sd)
    assert apart                                  # the case arises in this script (bootstrap on 7 test cases)
