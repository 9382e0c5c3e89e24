"""What the leaderboard shows, computed in a task: votes -> battles -> ``ranking.fit``.

Plain Python (no Qt). ``load_board`` reads the stored votes with the chosen filters, fits
them, and gathers the filter choices (prompts, sessions / import sources, models) from
every vote. "Per model" folds every (prompt, version) of a model into one contestant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from promptbench.core.ranking import Battle, Contestant, Leaderboard, Rating, fit
from promptbench.gui.compare.formatting import short_version

ALL_PROMPTS, ALL_VERSIONS = "(all prompts)", "(all versions)"


@dataclass(frozen=True)
class BoardQuery:
    prompt: str | None = None
    tag: str | None = None          # a ranking session id or an import's source name
    since: datetime | None = None   # inclusive
    until: datetime | None = None   # exclusive
    by_model: bool = False
    rounds: int = 200
    seed: int = 0


@dataclass
class BoardResult:
    query: BoardQuery
    board: Leaderboard | None
    battles: list[Battle]
    rubric: dict[Contestant, dict[str, tuple[float, int]]]
    prompts: list[str] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)   # (value, label)
    models: list[str] = field(default_factory=list)

    def criteria(self) -> list[str]:
        return sorted({c for means in self.rubric.values() for c in means})


def model_only(c: Contestant) -> Contestant:
    return Contestant(ALL_PROMPTS, ALL_VERSIONS, c.model)


def by_model(battles: list[Battle]) -> list[Battle]:
    """Every battle between the models alone (a model against itself stays: position and ties)."""
    return [Battle(model_only(b.a), model_only(b.b), b.winner, b.test_case, b.left) for b in battles]


def rubric_by_model(rubric: dict) -> dict[Contestant, dict[str, tuple[float, int]]]:
    sums: dict[Contestant, dict[str, list[float]]] = {}
    for contestant, means in rubric.items():
        for criterion, (mean, n) in means.items():
            cell = sums.setdefault(model_only(contestant), {}).setdefault(criterion, [0.0, 0])
            cell[0] += mean * n
            cell[1] += n
    return {c: {k: (s / n, n) for k, (s, n) in crit.items()} for c, crit in sums.items()}


def _vote_contestants(vote: dict) -> list[tuple[str, str]]:
    """(prompt, model) of every contestant in a stored vote or ranking."""
    if vote["kind"] == "pairwise":
        return [(vote["a_prompt"], vote["a_model"]), (vote["b_prompt"], vote["b_model"])]
    return [(c["prompt"], c["model"]) for c in vote.get("contestants") or []]


def load_board(votes, query: BoardQuery) -> BoardResult:
    """Worker thread: the fitted leaderboard for ``query`` and the filter choices."""
    everything = votes.votes()
    names = {s["id"]: s["name"] for s in votes.list_sessions(limit=10_000)}
    prompts, models, tags = set(), set(), {}
    for vote in everything:
        for prompt, model in _vote_contestants(vote):
            prompts.add(prompt)
            models.add(model)
        if vote.get("session_id"):
            tags[vote["session_id"]] = f"session: {names.get(vote['session_id'], vote['session_id'])}"
        if vote.get("source_name"):
            tags[vote["source_name"]] = f"import: {vote['source_name']}"
    battles = votes.battles(prompt=query.prompt, since=query.since, until=query.until, tag=query.tag)
    rubric = votes.rubric_means(prompt=query.prompt)
    if query.by_model:
        battles, rubric = by_model(battles), rubric_by_model(rubric)
    board = fit(battles, bootstrap_rounds=query.rounds, seed=query.seed) if battles else None
    return BoardResult(query, board, battles, rubric, sorted(prompts), sorted(tags.items(), key=lambda t: t[1]),
                       sorted(models))


def contestant_label(c: Contestant, *, with_prompt: bool) -> str:
    """``model · 3f2a1b0c`` (and the prompt when several are on the board)."""
    if c.prompt == ALL_PROMPTS:
        return c.model
    version = short_version(c.version)
    return f"{c.model} · {c.prompt} @ {version}" if with_prompt else f"{c.model} · {version}"


def visible_ratings(board: Leaderboard | None, model: str | None) -> list[Rating]:
    if board is None:
        return []
    return [r for r in board.ratings if model is None or r.contestant.model == model]


def win_rate(cell: dict) -> float:
    """Share of the votes between two contestants won by the first; ties (and both bad) count half."""
    return (cell["wins"] + 0.5 * (cell["ties"] + cell["both_bad"])) / cell["n"] if cell["n"] else 0.0
