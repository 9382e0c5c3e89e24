"""The comparison just judged never comes straight back while another one is left.

A new user voted once, started a ranking session, and was shown the very pair they had
just voted on. The pair chooser now learns the last judgement (from the votes table at
the start of a queue, from the vote itself inside one) and passes over its repeats.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.active import Judged, next_pair, not_a_repeat
from promptbench.core.ranking.session import last_judged
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore

P = "greet.prompt.yml"
A, B, C, D = (Contestant(P, "v1", m) for m in ("alpha", "beta", "gamma", "delta"))


def item(case, *contestants) -> Judged:
    return Judged.of(contestants, case)


def test_the_exact_comparison_just_judged_is_passed_over():
    items = [item("0", A, B), item("0", C, D), item("1", A, B)]
    assert not_a_repeat(items, item(0, B, A)) == [1, 2]          # same outputs (order and int/str do not matter)
    assert not_a_repeat(items, None) == [0, 1, 2]
    assert not_a_repeat(items, item("9", A, C)) == [0, 1, 2]     # nothing here repeats it
    assert not_a_repeat([item("0", A, B)], item("0", A, B)) == [0]   # nothing else is left: it may come


def test_right_after_a_vote_the_same_contestants_wait_while_others_remain():
    items = [item("1", A, B), item("2", A, B), item("1", C, D)]
    assert not_a_repeat(items, item("0", A, B), same_contestants=True) == [2]
    only_ab = [item("1", A, B), item("0", A, B)]
    assert not_a_repeat(only_ab, item("0", A, B), same_contestants=True) == [0]   # then only the exact repeat
    assert not_a_repeat([item("0", A, B)], item("0", A, B), same_contestants=True) == [0]


def test_a_new_sessions_first_pair_is_not_the_pair_just_voted_on(tmp_path: Path):
    """Without a board every pair is equally unsure and next_pair takes the first: the one
    just voted on when it sorts first. With the last judgement from the votes table it is
    skipped."""
    runs = RunStore(tmp_path / ".promptbench" / "promptbench.db")
    try:
        votes = VoteStore(runs, voter="ada")
        assert last_judged(votes) is None
        votes.record_vote(a=C, b=D, winner="a", test_case=3)
        votes.record_vote(a=A, b=B, winner="tie", test_case=0, left="b")
        last = last_judged(votes)
        assert last == item("0", A, B)
        assert last_judged(votes, prompt="other.prompt.yml") is None

        session = [item("0", A, B), item("0", A, C), item("0", B, C), item("1", A, B)]
        pairs = [tuple(sorted(i.contestants)) for i in session]
        assert next_pair(None, pairs) == pairs[0]                            # what the user saw before
        allowed = not_a_repeat(session, last)
        chosen = next_pair(None, [pairs[i] for i in allowed])
        assert allowed == [1, 2, 3] and chosen == pairs[1]

        votes.record_ranking(order=[C, A, B], shown=[A, B, C], test_case="5")   # an N-way ranking counts too
        assert last_judged(votes) == item("5", A, B, C)
    finally:
        runs.close()


@pytest.mark.parametrize("case", [None, "7"])
def test_votes_without_a_test_case(tmp_path: Path, case):
    runs = RunStore(tmp_path / "db.sqlite")
    try:
        votes = VoteStore(runs, voter="ada")
        votes.record_vote(a=A, b=B, winner="a", test_case=case)
        assert last_judged(votes) == Judged(frozenset({A, B}), case)
    finally:
        runs.close()
