"""How a ranking queue is worked through: which item next, its shuffled layout, and who was who.

Plain Python (no Qt) over core's ``RankItem`` (core/ranking/session.py): one thing to
judge, two or more outputs for the same test case. Where each output is shown is a
shuffle that depends only on the item and a seed, so the same item always appears the
same way for the same seed.
"""

from __future__ import annotations

import logging
import random
from typing import Callable

from promptbench.core.ranking.leaderboard import Contestant, Leaderboard
from promptbench.core.ranking.active import Judged, next_pair, not_a_repeat
from promptbench.core.ranking.session import RankItem, RankOutput
from promptbench.core.ranking.versions import VersionInfo
from promptbench.core.figures import short_version

log = logging.getLogger(__name__)
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# A pair chooser picks the next item from those still to judge: it gets the latest fitted
# leaderboard of the queue's contestants (None before the first fit) and returns an index.
PairChooser = Callable[[Leaderboard | None, list[RankItem]], int]


def least_certain(board: Leaderboard | None, remaining: list[RankItem]) -> int:
    """A ``PairChooser``: the pair the leaderboard is least sure about (``ranking.next_pair``).

    Only two-output items are candidates; with none left, the first remaining item.
    """
    pairs = [(i, tuple(item.contestants())) for i, item in enumerate(remaining) if item.pairwise]
    if not pairs:
        return 0
    chosen = next_pair(board, [pair for _, pair in pairs])
    return next(i for i, pair in pairs if pair == chosen)


def judged(item: RankItem) -> Judged:
    """What judging this item shows: its contestants on its test case."""
    return Judged.of(item.contestants(), item.test_case)


def choose_next(board: Leaderboard | None, remaining: list[RankItem], chooser: PairChooser | None,
                last: Judged | None, *, same_contestants: bool) -> int:
    """Index into ``remaining`` of the item to show next.

    Items that would repeat ``last`` (``ranking.not_a_repeat``) are left out while others
    remain; the chooser (or, without one, queue order) picks among the rest. A chooser
    that fails or answers out of range falls back to the first allowed item.
    """
    allowed = not_a_repeat([judged(item) for item in remaining], last, same_contestants=same_contestants)
    pick = 0
    if chooser is not None:
        try:
            pick = int(chooser(board, [remaining[i] for i in allowed]))
        except Exception:
            log.exception("pair chooser failed; taking the next item in order")
        pick = pick if 0 <= pick < len(allowed) else 0
    return allowed[pick]


def shown_order(item: RankItem, seed: int = 0) -> list[int]:
    """Indices into ``item.outputs`` in the order they are shown, left to right.

    Random, but reproducible: the same item (test case, contestants, runs) and seed give
    the same order, wherever the item sits in the queue.
    """
    keys = "|".join(f"{o.contestant.key()}#{o.run_id}" for o in item.outputs)
    order = list(range(len(item.outputs)))
    random.Random(f"{seed}|{item.test_case}|{keys}").shuffle(order)
    return order


# What is known of the versions on screen: (prompt, version) -> core.ranking_versions.VersionInfo
Versions = dict[tuple[str, str], VersionInfo]


def version_text(contestant: Contestant, versions: Versions | None = None) -> str:
    """``3f2a1b0c · Edit system message · production`` once the history is read, else ``3f2a1b0c``."""
    info = (versions or {}).get((contestant.prompt, contestant.version))
    return info.line() if info else short_version(contestant.version)


def identity(contestant: Contestant, *, with_prompt: bool = True, versions: Versions | None = None) -> str:
    """``model · prompt @ 3f2a1b0c · subject``: how a contestant reads once revealed."""
    version = version_text(contestant, versions)
    where = f"{contestant.prompt} @ {version}" if with_prompt else version
    return f"{contestant.model} · {where}"


def pair_reveal(letters: list[str], shown: list[Contestant], verdict: str, versions: Versions | None = None) -> str:
    """The last-vote strip after a pairwise vote; ``verdict`` is left/right/tie/both_bad."""
    who = [f"{letter} was <b>{_esc(c.model)}</b> ({_esc(c.prompt)} @ {_esc(version_text(c, versions))})"
           for letter, c in zip(letters, shown)]
    said = {"left": f"{letters[0]} better", "right": f"{letters[1]} better", "tie": "tie",
            "both_bad": "both bad"}[verdict]
    return f"Last vote: <b>{said}</b> — " + "; ".join(who)


def ranking_reveal(letters: list[str], shown: list[Contestant], groups: list[list[int]]) -> str:
    """The last-vote strip after an N-way ranking; ``groups`` hold shown indices, best first."""
    parts = []
    for place, group in enumerate(groups, start=1):
        names = " = ".join(f"{letters[i]} <b>{_esc(shown[i].model)}</b>" for i in group)
        parts.append(f"{place}. {names}")
    return "Last ranking: " + "  ›  ".join(parts)


def items_from_comparison(comparison: dict) -> tuple[list[RankItem], str | None]:
    """One item from a stored comparison's finished runs; (items, why not) when it cannot be ranked."""
    outputs = []
    for run in comparison.get("runs", []):
        if run.get("status") != "finished" or not (run.get("output") or "").strip():
            continue
        version = run.get("prompt_version") or comparison.get("prompt_version") or "unsaved"
        contestant = Contestant(run["prompt_path"], version, run["model_name"])
        outputs.append(RankOutput(contestant, run["id"], run["output"]))
    test_case = comparison.get("test_case")
    item = RankItem(None if test_case is None else str(test_case), outputs,
                    context=_last_user_message(comparison.get("runs", [])))
    if len(item.outputs) < 2:
        return [], (f"this comparison has {len(item.outputs)} finished output(s) from different models; "
                    "ranking needs at least two")
    return [item], None


def _last_user_message(runs: list[dict]) -> str | None:
    for run in runs:
        for message in reversed(run.get("messages") or []):
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
                return message["content"]
    return None


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def session_board(votes, contestants: list[Contestant], *, session_id: str | None = None,
                  prompt: str | None = None, rounds: int = 100) -> Leaderboard | None:
    """Worker thread: the leaderboard of a queue's contestants from the stored votes."""
    from promptbench.core.ranking.leaderboard import fit

    battles = votes.battles(session_id=session_id) if session_id else votes.battles(prompt=prompt)
    keep = set(contestants)
    battles = [b for b in battles if b.a in keep and b.b in keep]
    return fit(battles, bootstrap_rounds=rounds, seed=0) if battles else None


def queue_state(votes, contestants: list[Contestant], *, session_id: str | None = None,
                prompt: str | None = None) -> tuple[Leaderboard | None, Judged | None]:
    """Worker thread: the queue's leaderboard and what the newest stored vote judged."""
    from promptbench.core.ranking.session import last_judged

    return session_board(votes, contestants, session_id=session_id, prompt=prompt), last_judged(votes)
