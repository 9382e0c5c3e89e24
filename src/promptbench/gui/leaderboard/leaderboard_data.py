"""What the leaderboard shows, computed in a task: votes -> battles -> ``ranking.fit``.

Plain Python (no Qt). ``load_board`` reads the stored votes with the chosen filters, fits
them, and gathers the filter choices (prompts, sessions / import sources, models) from
every vote. "Per model" folds every (prompt, version) of a model into one contestant.
Versions on the board read as short sha + commit subject + labels, from the workspace's
history when a store is given (``core.ranking_versions``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from promptbench.core.figures import plural, short_version
from promptbench.core.ranking.leaderboard import Battle, Contestant, Leaderboard, Rating, fit
from promptbench.core.ranking.versions import VersionInfo, describe_contestants

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
    versions: dict[tuple[str, str], VersionInfo] = field(default_factory=dict)   # (prompt, version) -> info

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


def load_board(votes, query: BoardQuery, store=None) -> BoardResult:
    """Worker thread: the fitted leaderboard for ``query`` and the filter choices; with the
    workspace's ``store``, the subjects and labels of the versions on the board too."""
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
    on_board = [r.contestant for r in board.ratings if r.contestant.prompt != ALL_PROMPTS] if board else []
    versions = describe_contestants(store, on_board) if store is not None and on_board else {}
    return BoardResult(query, board, battles, rubric, sorted(prompts), sorted(tags.items(), key=lambda t: t[1]),
                       sorted(models), versions)


def version_label(c: Contestant, versions: dict | None = None) -> str:
    """``3f2a1b0c · Edit system message · production`` (just the short sha when the history
    has nothing on it)."""
    info = (versions or {}).get((c.prompt, c.version))
    return info.line() if info else short_version(c.version)


def version_tooltip(c: Contestant, versions: dict | None = None) -> str:
    info = (versions or {}).get((c.prompt, c.version))
    return info.tooltip() if info else f"version {c.version}"


def contestant_label(c: Contestant, *, with_prompt: bool, versions: dict | None = None) -> str:
    """``model · 3f2a1b0c · subject`` (and the prompt when several are on the board)."""
    if c.prompt == ALL_PROMPTS:
        return c.model
    version = version_label(c, versions)
    return f"{c.model} · {c.prompt} @ {version}" if with_prompt else f"{c.model} · {version}"


def elide(text: str, limit: int = 48, *, middle: bool = True) -> str:
    """Long names cut to ``limit`` characters, in the middle (paths, model ids) or at the end."""
    if len(text) <= limit:
        return text
    if not middle:
        return text[: limit - 1] + "…"
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head):]


def short_label(c: Contestant, *, with_prompt: bool, versions: dict | None = None) -> str:
    """``contestant_label`` with each part cut to size for a chart axis or a row header: the
    model and prompt in the middle, the version line at its end (its sha stays)."""
    if c.prompt == ALL_PROMPTS:
        return elide(c.model, 40)
    version = elide(version_label(c, versions), 36, middle=False)
    where = f"{elide(c.prompt, 28)} @ {version}" if with_prompt else version
    return f"{elide(c.model, 24)} · {where}"


def visible_ratings(board: Leaderboard | None, model: str | None) -> list[Rating]:
    if board is None:
        return []
    return [r for r in board.ratings if model is None or r.contestant.model == model]


def win_rate(cell: dict) -> float:
    """Share of the votes between two contestants won by the first; ties (and both bad) count half."""
    return (cell["wins"] + 0.5 * (cell["ties"] + cell["both_bad"])) / cell["n"] if cell["n"] else 0.0


def footer_texts(board: Leaderboard | None, shown: int) -> tuple[str, str]:
    """The line under the leaderboard in plain words, and its tooltip with the statistics.

    ``shown``: rows left visible by the model filter. Tie strength nu reads as how often two
    equally good answers tie (nu / (2 + nu)); the left advantage gamma as which side wins
    more often, or no clear difference when its interval holds 1.
    """
    if board is None:
        return ("No votes match these filters yet: vote in Rank mode, or import votes (promptbench votes import).", "")
    nu, gamma = board.tie_strength, board.left_advantage
    low, high = board.left_advantage_ci
    units, unit = resampled_units(board)
    if units < FIRM_TEST_CASES:
        side = f"Too few {unit}s to tell a left/right bias"
    elif low <= 1.0 <= high:
        side = f"No clear left/right bias (×{gamma:.2f})"
    else:
        winner = "left" if gamma > 1 else "right"
        how = "a bit" if max(gamma, 1 / gamma) < 1.5 else "much"
        side = f"The {winner} answer wins {how} more often (×{gamma:.2f})"
    hidden = len(board.ratings) - shown
    text = (f"{plural(board.n_battles, 'pairwise vote')} on {plural(board.n_test_cases, 'test case')}"
            f" · Equal answers tie {nu / (2 + nu):.0%} of the time (ν {nu:.2f}) · {side}"
            f" · {ranges_text(board)}" + (f" · {hidden} rows hidden by the model filter" if hidden else ""))
    nu_ci = board.tie_strength_ci or (nu, nu)
    tip = (f"{board.n_battles} battles (an N-way ranking counts as its pairs) · {board.n_test_cases} test cases"
           " (a vote without one counts as its own)\n"
           f"tie strength ν = {nu:.2f} [{nu_ci[0]:.2f}, {nu_ci[1]:.2f}] (Davidson): two equally strong"
           " contestants tie with probability ν / (2 + ν)\n"
           f"left-position advantage ×{gamma:.2f} [{low:.2f}, {high:.2f}]: the strength of whichever answer is"
           " shown on the left is multiplied by this (1 = no bias)\n"
           f"{board.confidence:.0%} intervals, bootstrap over test cases, {board.rounds} rounds, seed {board.seed}")
    return text, tip


FIRM_TEST_CASES = 8  # fewer clusters than this: the bootstrap has too few distinct resamples to trust


def resampled_units(board: Leaderboard) -> tuple[int, str]:
    """What the bootstrap resamples: test cases, or single votes when there is only one test case."""
    if board.n_test_cases >= 2:
        return board.n_test_cases, "test case"
    return board.n_battles, "vote"


def ranges_text(board: Leaderboard) -> str:
    """How far the ranges can be trusted: intervals come from resampling test cases (single
    votes when there is one), and with a handful of them the few possible resamples make
    ranges look narrower than they are (one vote: no range at all)."""
    n, unit = resampled_units(board)
    if n < FIRM_TEST_CASES:
        more = "votes on more test cases" if unit == "test case" else "more votes"
        return f"Ranges are rough: only {plural(n, unit)} ({more} make them firmer)"
    return f"Ranges are {board.confidence:.0%} sure"


