"""Planning a batch: which cells (prompt version x test case x model x repeat) to run.

Planning is pure: it reads prompt files (the current file, or versions out of git) and
renders every (version, test case) pair up front, so a test case that lacks a variable
fails here, naming the file, the version, the test case and the variable, before
anything is written or sent. A plan carries the text of every version it uses, so a
batch can be resumed later exactly as it was planned even if the file changed since
(or was an unsaved draft).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from promptbench.core.engine.requests import estimate as estimate_request
from promptbench.core.engine.requests import prompt_version
from promptbench.core.settings.config import ModelConfig
from promptbench.core.engine.engine import ComparisonRequest
from promptbench.core.errors import PromptbenchError
from promptbench.core.store.history import last_version_at
from promptbench.core.prompts.params import request_params
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt_bytes, render
from promptbench.core.store.promptstore import PromptStore

CURRENT = ("current", "WORKTREE")  # version names meaning "the file as it is on disk now"
MAX_LISTED_PROBLEMS = 5


@dataclass(frozen=True)
class Cell:
    prompt_version: str
    test_case: int | None
    model_name: str
    repeat: int

    @property
    def key(self) -> str:
        """Unique within a batch; what ``batch_cells.cell_key`` holds."""
        return json.dumps([self.prompt_version, self.test_case, self.model_name, self.repeat], ensure_ascii=False)


@dataclass
class PlanVersion:
    version: str          # the commit that last changed the file, or "draft:<sha1>"
    rev: str | None       # as asked for (a label, a sha, "~1"); None: the current file
    content: str          # the prompt file's text at that version
    prompt: PromptFile = field(repr=False)


@dataclass(frozen=True)
class Rendered:
    messages: list[dict]
    variables: dict
    params: dict


@dataclass
class BatchPlan:
    prompt_path: str
    versions: list[PlanVersion]
    test_cases: list[int | None]
    models: list[ModelConfig]
    repeats: int
    local_mode: str
    cells: list[Cell]
    rendered: dict[tuple[str, int | None], Rendered] = field(repr=False)
    run_kind: str = "ranking_generation"  # what its runs are stored as (an eval's: "eval_cell")

    @property
    def total(self) -> int:
        return len(self.cells)

    def model(self, name: str) -> ModelConfig:
        for m in self.models:
            if m.name == name:
                return m
        raise PromptbenchError(f"batch plan for {self.prompt_path}: no model named {name!r}")

    def request_for(self, cell: Cell, comparison_id: str | None = None) -> ComparisonRequest:
        r = self.rendered[(cell.prompt_version, cell.test_case)]
        return ComparisonRequest(messages=r.messages, models=[self.model(cell.model_name)], params=r.params,
                                 prompt_path=self.prompt_path, prompt_version=cell.prompt_version,
                                 test_case=cell.test_case, variables=r.variables, local_mode=self.local_mode,
                                 comparison_id=comparison_id, kind=self.run_kind)

    def to_config(self, concurrency: int) -> dict:
        """What ``batches.config`` stores: enough to rebuild this plan without the workspace."""
        return {
            "versions": [{"version": v.version, "rev": v.rev, "content": v.content} for v in self.versions],
            "test_cases": self.test_cases,
            "models": [dataclasses.asdict(m) for m in self.models],  # where keys come from, never keys
            "repeats": self.repeats,
            "local_mode": self.local_mode,
            "concurrency": concurrency,
        }

    @classmethod
    def from_config(cls, prompt_path: str, config: dict) -> BatchPlan:
        versions = [_version(prompt_path, v["version"], v.get("rev"), v["content"].encode("utf-8"))
                    for v in config["versions"]]
        known = {f.name for f in dataclasses.fields(ModelConfig)}  # a field added or dropped since is no error
        models = [ModelConfig(**{k: v for k, v in m.items() if k in known}) for m in config["models"]]
        plan = _build(prompt_path, versions, list(config["test_cases"]), models, int(config["repeats"]),
                      config.get("local_mode") or "sequential")
        plan.run_kind = "eval_cell" if config.get("kind") == "eval" else "ranking_generation"
        return plan


def _version(rel: str, version: str, rev: str | None, raw: bytes) -> PlanVersion:
    label = "the current file" if rev is None else f"version {rev}"
    try:
        prompt = parse_prompt_bytes(raw, rel)
    except PromptbenchError as exc:
        raise PromptbenchError(f"{rel} ({label}): {exc}") from None
    return PlanVersion(version, rev, raw.decode("utf-8"), prompt)


def load_versions(store: PromptStore, rel: str, versions: list[str | None] | None) -> list[PlanVersion]:
    """Each asked-for version once, in the order given. None/"current": the file on disk."""
    out: dict[str, PlanVersion] = {}
    for rev in versions or [None]:
        if rev is None or rev in CURRENT:
            raw = store.read_bytes(rel)
            version, rev = prompt_version(store, rel, raw), None
        else:
            sha, path_then = store.resolve_version(rel, rev)
            raw = store.read_at(rel, rev)
            version = last_version_at(store.repo, path_then, sha) or sha
        if version not in out:
            out[version] = _version(rel, version, rev, raw)
    return list(out.values())


def _check_test_cases(rel: str, versions: list[PlanVersion], test_cases: list[int] | None) -> list[int | None]:
    counts = {len(v.prompt.test_data) for v in versions}
    if test_cases is None:
        n = min(counts)
        if len(counts) > 1:
            raise PromptbenchError(f"{rel}: the versions have different numbers of test cases ({sorted(counts)}); "
                                   "pick the test cases to run by index")
        return list(range(n)) if n else [None]  # no testData: one run per model with no values
    if not test_cases:
        raise PromptbenchError(f"{rel}: no test cases chosen; pass None for all of them")
    n = min(counts)
    bad = [t for t in test_cases if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < n]
    if bad:
        has = f"indexes 0 to {n - 1}" if n else "the file has no testData"
        raise PromptbenchError(f"{rel}: no test case {bad[0]!r} ({has})")
    return list(dict.fromkeys(test_cases))


def _build(rel: str, versions: list[PlanVersion], test_cases: list[int | None], models: list[ModelConfig],
           repeats: int, local_mode: str) -> BatchPlan:
    rendered: dict[tuple[str, int | None], Rendered] = {}
    problems: list[str] = []
    for v in versions:
        params = request_params(v.prompt.model_parameters, v.prompt.response_format, v.prompt.json_schema)
        for tc in test_cases:
            r = render(v.prompt, tc)
            if r.missing:
                names = ", ".join("{{" + n + "}}" for n in r.missing)
                where = "the current file" if v.rev is None else f"version {v.rev} ({v.version[:12]})"
                case = "no test case" if tc is None else f"test case {tc}"
                problems.append(f"{rel} ({where}), {case}: no value for {names}")
                continue
            rendered[(v.version, tc)] = Rendered(r.messages, r.values, params)
    if problems:
        more = f" (and {len(problems) - MAX_LISTED_PROBLEMS} more)" if len(problems) > MAX_LISTED_PROBLEMS else ""
        raise PromptbenchError("; ".join(problems[:MAX_LISTED_PROBLEMS]) + more +
                               ". Add the values to testData or remove the placeholders; nothing was run.")
    cells = [Cell(v.version, tc, m.name, k)
             for v in versions for tc in test_cases for k in range(repeats) for m in models]
    return BatchPlan(rel, versions, test_cases, models, repeats, local_mode, cells, rendered)


def plan(store: PromptStore, rel: str, *, versions: list[str | None] | None = None,
         test_cases: list[int] | None = None, models: list[ModelConfig], repeats: int = 1,
         local_mode: str = "sequential") -> BatchPlan:
    """The cells of a batch, in run order (models interleaved, so providers share the load)."""
    if not models:
        raise PromptbenchError(f"{rel}: a batch needs at least one model")
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PromptbenchError(f"{rel}: model {dupes[0]!r} is listed twice; each model runs once per cell")
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise PromptbenchError(f"{rel}: repeats must be a whole number >= 1, not {repeats!r}")
    loaded = load_versions(store, rel, versions)
    cases = _check_test_cases(rel, loaded, test_cases)
    return _build(rel, loaded, cases, list(models), repeats, local_mode)


def estimate(plan: BatchPlan) -> dict:
    """Before starting: input tokens and the most the batch can cost (prompt + max_tokens per cell)."""
    per_model: dict[str, dict] = {m.name: {"model": m.name, "cells": 0, "input_tokens": 0, "max_output_tokens": 0,
                                           "max_cost_usd": 0.0, "cost_note": None} for m in plan.models}
    for r in plan.rendered.values():
        request = ComparisonRequest(messages=r.messages, models=plan.models, params=r.params)
        for row in estimate_request(request):
            acc = per_model[row["model"]]
            acc["cells"] += plan.repeats
            acc["input_tokens"] += row["input_tokens"] * plan.repeats
            acc["max_output_tokens"] += row["max_output_tokens"] * plan.repeats
            if row["max_cost_usd"] is None or acc["max_cost_usd"] is None:
                acc["max_cost_usd"] = None
            else:
                acc["max_cost_usd"] += row["max_cost_usd"] * plan.repeats
            if row["max_cost_usd"] is None or acc["cost_note"] is None:
                acc["cost_note"] = row["cost_note"]  # the note saying why a price is unknown wins
    rows = list(per_model.values())
    unknown = [r["model"] for r in rows if r["max_cost_usd"] is None]
    known = sum(r["max_cost_usd"] for r in rows if r["max_cost_usd"] is not None)
    return {
        "cells": plan.total,
        "input_tokens": sum(r["input_tokens"] for r in rows),
        "max_output_tokens": sum(r["max_output_tokens"] for r in rows),
        "max_cost_usd": None if unknown else known,   # None: some price is unknown
        "known_max_cost_usd": known,                  # the models whose price is known
        "unknown_price_models": unknown,
        "per_model": rows,
    }
