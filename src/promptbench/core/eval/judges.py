"""Judges for ``promptbench eval``: LLM evaluators whose judge model runs THROUGH THE ENGINE.

``EngineJudges.make(evaluator_name)`` returns the ``async judge(model_name, messages)``
an ``llm`` / ``uses:`` evaluator calls. It starts a comparison of one model (prompt_path
``"judge:<evaluator>"``, variables naming the eval and the judged run; a remote judge
is sent the messages with no parameters, as ``gh models eval`` sends them) and awaits
its end, which the comparison's own listener hands over from the engine thread. A failed run raises ProviderError with its
error class (the evaluator reports an error, the others go on); a cancelled one raises
ProviderError("cancelled"). Local judges therefore work offline, and judge runs are
stored like any run (but are never batch cells).

A local judge (an embedded llama.cpp model) is sent ``temperature 0``, at most
``JUDGE_MAX_TOKENS`` tokens and a GBNF ``grammar`` that allows exactly one of the
evaluator's choices: a 135M-parameter model asked for "one digit" otherwise tends to
answer with prose (measured: SmolLM2 restates the summary it was
asked to grade). Which choice it picks is still the model's own. Remote judges are
asked as written (providers reject unknown fields).

Which cell a judge call belongs to travels in a context variable (set around
``evaluate_all`` by ``EngineJudges.cell``): evaluators are shared by every cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from promptbench.core.engine import events as ev
from promptbench.core.settings.config import Settings, resolve_model
from promptbench.core.engine.engine import ComparisonRequest, Engine
from promptbench.core.ids import new_id
from promptbench.core.providers.errorclass import ProviderError
from promptbench.core.errors import PromptbenchError
from promptbench.core.eval.evaluators import Evaluator, build_evaluators
from promptbench.core.eval.evaluators.judge import JudgeEvaluator
from promptbench.core.prompts.judge_prompts import DEFAULT_JUDGE_MODEL
from promptbench.core.prompts.promptfile import PromptFile

JUDGE_PREFIX = "judge:"      # prompt_path of judge runs: "judge:<evaluator name>"
JUDGE_MAX_TOKENS = 32        # a local judge answers with a choice (its grammar allows nothing else)


@dataclass
class CellInfo:
    job: Any                 # the eval's job: .eval_id, .cancelled, .judging (comparison ids in flight)
    run_id: str
    test_case: int | None
    judge_runs: dict[str, str] = field(default_factory=dict)  # evaluator name -> its judge's run id


_CURRENT: contextvars.ContextVar[CellInfo] = contextvars.ContextVar("promptbench_eval_cell")


def build_eval_evaluators(prompt: PromptFile, source: str, specs: list[dict] | None = None, *,
                          judge_model: str | None, embedding_model: str | None,
                          make_judge: Callable[[JudgeEvaluator], Callable] | None = None) -> list[Evaluator]:
    """The evaluators of *specs* (default: the prompt's), with *judge_model* (when set)
    judging every llm/uses evaluator. Raises PromptbenchError naming the file and field."""
    fields = None
    if specs is None:
        fields, specs = [f for f, _ in prompt.evaluator_entries], prompt.evaluators
    if not specs:
        raise PromptbenchError(
            f"{source}: no evaluators to run: add an `evaluators:` list to the prompt file, e.g. "
            "`evaluators: [{name: mentions it, string: {contains: \"...\"}}]` (see the sample prompts)")
    evaluators = build_evaluators(specs, source=source, prompt=prompt, judge_model=judge_model or DEFAULT_JUDGE_MODEL,
                                  embedding_model=embedding_model, fields=fields)
    for e in evaluators:
        if isinstance(e, JudgeEvaluator):
            if judge_model:
                e.model = judge_model
            if make_judge is not None:
                e.judge = make_judge(e)
    return evaluators


def check_judge_models(settings: Settings, source: str, evaluators: list[Evaluator]) -> None:
    """Every judge model resolves (and a local one is installed), before anything runs."""
    from promptbench.core.local.catalog import get_local_model

    for e in evaluators:
        if isinstance(e, JudgeEvaluator):
            try:
                cfg = resolve_model(settings, e.model)
                if cfg.is_local:
                    get_local_model(cfg.model)
            except PromptbenchError as exc:
                raise PromptbenchError(f"{source}: evaluator {e.name!r}: judge model {e.model!r}: {exc}") from None


class EngineJudges:
    def __init__(self, engine: Engine, settings: Settings):
        self.engine, self.settings = engine, settings

    @staticmethod
    @contextlib.contextmanager
    def cell(info: CellInfo) -> Iterator[CellInfo]:
        """Judge calls made inside (and in tasks started inside) belong to this cell."""
        token = _CURRENT.set(info)
        try:
            yield info
        finally:
            _CURRENT.reset(token)

    def cancel(self, job) -> None:
        for comparison_id in list(job.judging):
            self.engine.cancel_all(comparison_id)

    def make(self, evaluator: JudgeEvaluator):
        evaluator_name = evaluator.name
        grammar = choice_grammar([choice for choice, _ in evaluator.choices])

        async def judge(model_name: str, messages: list[dict]) -> str:
            info = _CURRENT.get(None)
            if info is None:
                raise ProviderError("unknown", "this judge only runs inside an eval")
            job = info.job
            if job.cancelled:
                raise ProviderError("cancelled", "the eval was cancelled before this judge ran")
            cfg = resolve_model(self.settings, model_name)
            comparison_id = new_id()
            loop = asyncio.get_running_loop()
            future = loop.create_future()

            def on_event(event) -> None:  # engine thread
                if type(event) in ev.END_STATUS:
                    try:
                        loop.call_soon_threadsafe(_settle, future, event)
                    except RuntimeError:  # its loop is closed: nobody waits any more
                        pass
            job.judging.add(comparison_id)
            # A remote judge gets what gh models eval sends: the messages, no parameters (a
            # GitHub rubric asks for its reasoning before the score; a token cap would cut it).
            params = {"temperature": 0, "max_tokens": JUDGE_MAX_TOKENS, "grammar": grammar} if cfg.is_local else {}
            request = ComparisonRequest(
                messages=messages, models=[cfg], params=params,
                prompt_path=f"{JUDGE_PREFIX}{evaluator_name}", test_case=info.test_case,
                variables={"eval_id": job.eval_id, "run_id": info.run_id, "evaluator": evaluator_name},
                local_mode="batched", comparison_id=comparison_id, kind="judge")
            try:
                try:
                    self.engine.compare(request, listener=on_event)  # returns once the run is scheduled (ms)
                except Exception as exc:  # the engine is shutting down
                    raise ProviderError("cancelled", f"the judge could not start: {exc}") from None
                if job.cancelled:  # a cancel that came while compare() was starting it
                    self.engine.cancel_all(comparison_id)
                event = await future
            finally:
                job.judging.discard(comparison_id)
            info.judge_runs[evaluator_name] = event.run_id
            if isinstance(event, ev.RunFinished):
                return event.output
            if isinstance(event, ev.RunFailed):
                raise ProviderError(event.error_class, event.message)
            raise ProviderError("cancelled", f"judge run {event.run_id} was cancelled")

        return judge


def choice_grammar(choices: list[str]) -> str:
    """A GBNF grammar whose only sentences are the choices (llama.cpp's ``grammar`` field)."""
    def literal(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'

    return "root ::= " + " | ".join(literal(c) for c in choices)


def _settle(future: asyncio.Future, event) -> None:
    if not future.done():
        future.set_result(event)


SMALL_JUDGE_PARAMETERS = 1_000_000_000
_SIZE = re.compile(r"(?<![a-z0-9])(\d+(?:\.\d+)?)\s*([mb])(?![a-z])", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def parameter_count(model_id: str) -> float | None:
    """Roughly how many parameters a model has, from its GGUF header's ``general.size_label``
    (local models) or from its name ("...-135m-...", "llama-3-8b"); None when unknown."""
    label = None
    if model_id.startswith("local/"):
        from promptbench.core.local.catalog import get_local_model, read_gguf_metadata

        try:
            spec = get_local_model(model_id)
        except Exception:  # noqa: BLE001 - unknown or not installed: fall back to the name
            spec = None
        if spec is not None and spec.path is not None and spec.path.exists():
            meta = read_gguf_metadata(spec.path, keys=("general.size_label",)) or {}
            label = meta.get("general.size_label")
    for text in (label, model_id.rsplit("/", 1)[-1]):
        match = _SIZE.search(str(text or ""))
        if match:
            return float(match.group(1)) * (1e6 if match.group(2).lower() == "m" else 1e9)
    return None


def small_judge_warning(model_id: str | None) -> str | None:
    """A plain warning when the judge is a local model under ~1B parameters: such a model
    tends to give the same answer to every case, so its verdicts are a smoke test."""
    if not model_id or not model_id.startswith("local/"):
        return None
    count = parameter_count(model_id)
    if count is None or count >= SMALL_JUDGE_PARAMETERS:
        return None
    size = f"{count / 1e6:.0f}M" if count < 1e9 else f"{count / 1e9:.1f}B"
    return (f"The judge, {model_id}, has about {size} parameters: its verdicts are a smoke test, not a judgment "
            "(a model this small often gives every case the same score). Check it against people's votes in "
            "Judge agreement, or judge with a larger model.")
