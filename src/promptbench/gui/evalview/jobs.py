"""The eval tab's background work: plain functions run in tasks, never on the GUI thread.

Each asks core (settings, the prompt store, the batch planner, the eval runner) and
returns plain data the widgets show. Nothing here imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from promptbench.core.errors import PromptbenchError

JUDGE_KINDS = ("llm", "uses")  # evaluator kinds that ask a judge model
MAX_CASE_LABEL = 60


@dataclass
class Setup:
    """What the setup panel offers for one prompt."""

    rel: str
    models: list[str] = field(default_factory=list)
    default_models: list[str] = field(default_factory=list)
    versions: list[tuple[str | None, str, str]] = field(default_factory=list)  # (rev, text, tooltip); None: working copy
    test_cases: list[str] = field(default_factory=list)
    evaluators: list[str] = field(default_factory=list)
    has_judges: bool = False
    judge_default: str | None = None
    concurrency: int = 4
    problem: str | None = None  # the prompt cannot be read or parsed


@dataclass(frozen=True)
class EvalChoice:
    """What the person picked; None for versions/test_cases means "all" / "the working copy"."""

    models: tuple[str, ...]
    versions: tuple[str | None, ...] | None = None
    test_cases: tuple[int, ...] | None = None
    repeats: int = 1
    judge_model: str | None = None
    concurrency: int | None = None


def _case_label(index: int, case: dict) -> str:
    values = ", ".join(f"{k}={v}" for k, v in (case or {}).items()) if isinstance(case, dict) else str(case)
    text = f"#{index + 1}  {values}" if values else f"#{index + 1}"
    return text if len(text) <= MAX_CASE_LABEL else text[: MAX_CASE_LABEL - 1] + "…"


def case_title(index: int | None, labels: list[str]) -> str:
    if index is None:
        return "(no test data)"
    return labels[index] if 0 <= index < len(labels) else f"#{index + 1}"


def load_setup(services, rel: str) -> Setup:
    """Models, versions, test cases and evaluator facts for *rel* (git, disk, settings)."""
    from promptbench.core.settings.config import list_all_models
    from promptbench.core.prompts.promptfile import parse_prompt_bytes

    settings = services.settings()
    setup = Setup(rel, judge_default=settings.eval_judge_model, concurrency=settings.eval_concurrency)
    setup.models = [m.name for m in list_all_models(settings)]
    setup.default_models = [n for n in settings.default_models if n in setup.models]
    setup.versions = [(None, "Working copy", "The file as it is on disk now, committed or not (unsaved editor changes are not included)")]
    for v in services.store.history(rel):
        labels = f"  [{', '.join(v.labels)}]" if v.labels else ""
        setup.versions.append((v.sha, f"{v.short}  {v.subject}{labels}", f"{v.sha}\n{v.author}, {v.date}\n{v.message}"))
    try:
        prompt = parse_prompt_bytes(services.store.read_bytes(rel), rel)
    except PromptbenchError as exc:
        setup.problem = str(exc)
        return setup
    setup.test_cases = [_case_label(i, case) for i, case in enumerate(prompt.test_data or [])]
    specs = [s for s in (prompt.evaluators or []) if isinstance(s, dict)]
    setup.evaluators = [str(s.get("name", "?")) for s in specs]
    setup.has_judges = any(k in s for s in specs for k in JUDGE_KINDS)
    if not specs:
        setup.problem = f"{rel} has no evaluators: add an `evaluators:` list in the editor to evaluate it."
    return setup


def estimate(holder: RunnerHolder, choice: EvalChoice, rel: str) -> dict:
    """Cells, tokens and the most the runs can cost. Plans the eval (git reads) and checks its
    evaluators and judge models: raises with the reason when it cannot run."""
    if not choice.models:
        raise PromptbenchError("check at least one model")
    prepared = holder.get().prepare(rel, **_plan_args(choice))
    return prepared.estimate()


def _plan_args(choice: EvalChoice) -> dict:
    return {"models": list(choice.models), "versions": list(choice.versions) if choice.versions else None,
            "test_cases": list(choice.test_cases) if choice.test_cases else None, "repeats": choice.repeats,
            "judge_model": choice.judge_model}


class RunnerHolder:
    """The view's way to the workspace's one EvalRunner (the workbench builds it on first use,
    in a task: it needs the engine, and builds it again after a settings change)."""

    def __init__(self, services):
        self.services = services

    def get(self):
        return self.services.workbench.eval_runner()

    def existing(self):
        return self.services.workbench.eval_runner(create=False)

    def close(self, timeout: float = 10.0) -> None:
        self.services.workbench.close_eval_runner(timeout)


def start(holder: RunnerHolder, rel: str, choice: EvalChoice, on_progress) -> str:
    return holder.get().start(rel, **_plan_args(choice), concurrency=choice.concurrency, on_progress=on_progress)


def resume(holder: RunnerHolder, eval_id: str, on_progress) -> str:
    runner = holder.get()
    runner.wait(eval_id, 30)  # a cancelled eval may still be writing its last results
    return runner.resume(eval_id, on_progress=on_progress)


def cancel(holder: RunnerHolder, eval_id: str) -> None:
    runner = holder.existing()
    if runner is not None:
        runner.cancel(eval_id)


def list_evals(holder: RunnerHolder, rel: str) -> tuple[list[dict], list[str]]:
    """(this prompt's evals newest first, the ids running in this process)."""
    runner = holder.get()
    return runner.list_evals(prompt_path=rel), runner.running()


def load_report(holder: RunnerHolder, eval_id: str, baseline: str | None) -> dict:
    return holder.get().report(eval_id, baseline=baseline)


def judge_agreement(holder: RunnerHolder, rel: str) -> list[dict]:
    return holder.get().judge_agreement(rel)
