"""Ranking sessions: every pair of (version, model) outputs per test case, reusing stored outputs.

A session judges contestants (prompt, version, model) on chosen test cases. Outputs
already stored for a (version, test case, model) are reused; only the missing ones are
generated, as one batch through the engine. The pairs to judge are then presented
least-certain first by the front (core.ranking.next_pair), never starting with the
comparison judged last (``last_judged`` + core.ranking.not_a_repeat).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import NamedTuple

from promptbench.core.batch.runner import BatchRunner
from promptbench.core.batch.plan import BatchPlan
from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.active import Judged
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking.votes import VoteStore


class RankOutput(NamedTuple):
    """One output to judge: whose it is, the stored run it came from (None: not stored), its text."""

    contestant: Contestant
    run_id: str | None
    text: str


@dataclass
class RankItem:
    """One judgement to make: ``outputs`` are (Contestant, run_id, text) for one test case.

    ``context`` is optional text shown above the outputs (e.g. the question asked).
    """

    test_case: str | None
    outputs: list[RankOutput]
    context: str | None = None
    dropped: list[RankOutput] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.test_case is not None and not isinstance(self.test_case, str):
            self.test_case = str(self.test_case)
        unique, seen, dropped = [], set(), []
        for out in self.outputs:
            out = RankOutput(*out)
            (dropped if out.contestant in seen else unique).append(out)
            seen.add(out.contestant)
        self.outputs, self.dropped = unique, dropped   # a vote needs different contestants

    @property
    def pairwise(self) -> bool:
        return len(self.outputs) == 2

    def contestants(self) -> list[Contestant]:
        return [o.contestant for o in self.outputs]


@dataclass
class SessionPlan:
    plan: BatchPlan                         # only the cells whose output is missing
    reused: dict[tuple, str] = field(default_factory=dict)   # (version, test case, model) -> run id

    @property
    def missing(self) -> int:
        return len(self.plan.cells)


def plan_session(runner: BatchRunner, runs: RunStore, prompt_path: str, *, versions: list[str] | None,
                 models, test_cases: list[int] | None = None) -> SessionPlan:
    """Plan the session; cells that already have a finished output are dropped from the batch."""
    plan = runner.plan(prompt_path, versions=versions, test_cases=test_cases, models=models, repeats=1)
    reused = find_outputs(runs, prompt_path, {v.version for v in plan.versions}, {m.name for m in plan.models})
    plan.cells = [c for c in plan.cells if (c.prompt_version, c.test_case, c.model_name) not in reused]
    return SessionPlan(plan, reused)


# Runs whose output can be judged: what a person compared, eval cells and earlier sessions'
# own generations (not judge calls, warm-ups or connection tests).
REUSABLE_KINDS = ("comparison", "eval_cell", "ranking_generation")


def find_outputs(runs: RunStore, prompt_path: str, versions: set[str], models: set[str]) -> dict[tuple, str]:
    """The newest finished run id per (version, test case, model) among those wanted."""
    found: dict[tuple, str] = {}
    for version in versions:
        for row in runs.list_runs(prompt_path=prompt_path, prompt_version=version, status="finished", limit=100000,
                                  kinds=REUSABLE_KINDS):
            key = (row["prompt_version"], row["test_case"], row["model_name"])
            if row["model_name"] in models and key not in found:  # newest first
                found[key] = row["id"]
    return found


def session_pairs(runs: RunStore, prompt_path: str, cells: dict[tuple, str]) -> list[RankItem]:
    """Every pair of contestants per test case, as items to rank (runs without output are skipped)."""
    by_case: dict[object, list[RankOutput]] = {}
    context: dict[object, str | None] = {}
    for (version, test_case, model), run_id in sorted(cells.items(), key=lambda kv: str(kv[0])):
        run = runs.get_run(run_id)
        if not run or not run.get("output"):
            continue
        by_case.setdefault(test_case, []).append(RankOutput(Contestant(prompt_path, version, model), run_id, run["output"]))
        if test_case not in context:
            users = [m.get("content") for m in (run.get("messages") or []) if m.get("role") == "user"]
            context[test_case] = users[-1] if users else None
    pairs = []
    for test_case, outputs in sorted(by_case.items(), key=lambda kv: str(kv[0])):
        for a, b in itertools.combinations(outputs, 2):
            pairs.append(RankItem(None if test_case is None else str(test_case), [a, b], context.get(test_case)))
    return pairs


def all_cells(session: SessionPlan, results: list[dict]) -> dict[tuple, str]:
    """Reused outputs plus the ones the batch generated (finished cells only)."""
    cells = dict(session.reused)
    for cell in results:
        if cell.get("status") == "finished" and cell.get("run_id"):
            cells[(cell["prompt_version"], cell["test_case"], cell["model_name"])] = cell["run_id"]
    return cells


def last_judged(votes: VoteStore, *, prompt: str | None = None) -> Judged | None:
    """What the newest stored vote or ranking judged (its contestants and test case).

    ``prompt``: the newest among the votes on that prompt. None when there are no votes.
    """
    stored = votes.votes(prompt=prompt)
    if not stored:
        return None
    vote = stored[-1]                                  # oldest first
    if vote["kind"] == "pairwise":
        contestants = [Contestant(vote[f"{side}_prompt"], vote[f"{side}_version"], vote[f"{side}_model"])
                       for side in ("a", "b")]
    else:
        contestants = [Contestant(c["prompt"], c["version"], c["model"]) for c in vote.get("contestants") or []]
    return Judged.of(contestants, vote["test_case"])
