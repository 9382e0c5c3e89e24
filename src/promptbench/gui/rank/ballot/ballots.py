"""A cast vote -> the ``VoteJob`` that records it, and the strip that reveals who was who.

Plain Python. ``shown`` indexes ``item.outputs`` left to right. A pairwise vote stores the
item's first output as ``a`` and its second as ``b``, with ``left`` saying which of them
was shown on the left, so the position bias can be measured later.
"""

from __future__ import annotations

from promptbench.gui.rank.items import LETTERS, RankItem, Versions, pair_reveal, ranking_reveal
from promptbench.gui.rank.ballot.nway import ranking_args
from promptbench.gui.rank.vote_writer import VoteJob


def pair_ballot(item: RankItem, shown: list[int], verdict: str, common: dict,
                versions: Versions | None = None) -> tuple[VoteJob, str]:
    """``verdict``: left / right / tie / both_bad, as the voter saw the pair; ``versions`` name
    the versions in the reveal (sha + subject + labels)."""
    outs = item.outputs
    left = "a" if shown[0] == 0 else "b"
    right = "b" if left == "a" else "a"
    winner = {"left": left, "right": right}.get(verdict, verdict)
    args = {"a": outs[0].contestant, "b": outs[1].contestant, "winner": winner, "left": left,
            "a_run_id": outs[0].run_id, "b_run_id": outs[1].run_id, **common}
    reveal = pair_reveal(list(LETTERS[:2]), [outs[i].contestant for i in shown], verdict, versions)
    return VoteJob("pairwise", args), reveal


def ranking_ballot(item: RankItem, shown: list[int], groups: list[list[int]], common: dict) -> tuple[VoteJob, str]:
    """``groups``: shown positions, best first; a group of several is a tie."""
    outs = item.outputs
    positions, ties = ranking_args(groups)
    order = [outs[shown[p]] for p in positions]
    shown_contestants = [outs[i].contestant for i in shown]
    args = {"order": [o.contestant for o in order], "shown": shown_contestants, "ties": ties or None,
            "run_ids": [o.run_id for o in order], **common}
    reveal = ranking_reveal(list(LETTERS[: len(outs)]), shown_contestants, groups)
    return VoteJob("ranking", args), reveal


def add_rubric(job: VoteJob, cards, test_case: str | None) -> None:
    """Every score given on the cards, recorded with the vote (after it, with its id)."""
    for card in cards:
        for criterion, score in card.rubric.scores().items():
            job.rubric.append({"contestant": card.contestant, "criterion": criterion, "score": score,
                               "run_id": card.run_id, "test_case": test_case})
