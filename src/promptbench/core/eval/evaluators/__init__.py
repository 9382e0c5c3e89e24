"""Evaluators: score one model output against a prompt file's ``evaluators`` list.

GitHub Models kinds, judged as ``gh models eval`` judges them: ``string``
{equals|contains|startsWith|endsWith}, ``llm`` {modelId, prompt, choices, systemPrompt}
and ``uses: github/{similarity,coherence,fluency,relevance,groundedness}`` (an unknown
``uses`` loads and fails every case). Our extension kinds: ``regex`` {pattern, flags, mustMatch},
``json`` {valid}, ``jsonSchema`` {schema | schemaRef: jsonSchema}, ``bleu`` {reference,
threshold, tokenize}, ``rouge`` {reference, variant, threshold}, ``similarity``
{reference, model, threshold}, ``latency`` {maxTtftMs, maxTotalMs}, ``cost`` {maxUsd}.

``build_evaluators`` checks every spec before anything runs (for the GitHub kinds, only
what ``gh models eval`` could not read at all) and raises one
``PromptFileError`` listing every problem (file, ``evaluators[i].kind.field``,
evaluator name, what to do). ``Evaluator.evaluate`` / ``aevaluate`` never raise: an
evaluator that cannot run returns ``passed=None`` with ``error`` set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from promptbench.core.errors import Problem, PromptFileError
from promptbench.core.prompts.judge_prompts import DEFAULT_JUDGE_MODEL, RUBRICS
from promptbench.core.prompts.schema import describe
from promptbench.core.eval.evaluators.base import EvalContext, EvalResult, Evaluator, Embed, Judge, SpecReader
from promptbench.core.eval.evaluators.checks import CostEvaluator, JsonEvaluator, JsonSchemaEvaluator, LatencyEvaluator, RegexEvaluator, StringEvaluator
from promptbench.core.eval.evaluators.judge import BuiltinJudge, JudgeEvaluator, MissingPlugin, match_choice
from promptbench.core.eval.evaluators.overlap import BleuEvaluator, RougeEvaluator, SimilarityEvaluator, lexical_similarity, litellm_embed
from promptbench.core.eval.evaluators.summary import judge_agreement, summarize

if TYPE_CHECKING:
    from promptbench.core.prompts.promptfile import PromptFile

__all__ = [
    "KINDS", "EvalContext", "EvalResult", "Evaluator", "Embed", "Judge", "build_evaluators", "evaluate_all",
    "judge_agreement", "lexical_similarity", "litellm_embed", "match_choice", "summarize",
]

_FACTORIES = {
    "string": StringEvaluator.from_spec,
    "llm": JudgeEvaluator.from_llm_spec,
    "regex": RegexEvaluator.from_spec,
    "json": JsonEvaluator.from_spec,
    "jsonSchema": JsonSchemaEvaluator.from_spec,
    "bleu": BleuEvaluator.from_spec,
    "rouge": RougeEvaluator.from_spec,
    "similarity": SimilarityEvaluator.from_spec,
    "latency": LatencyEvaluator.from_spec,
    "cost": CostEvaluator.from_spec,
}
KINDS = ("uses", *_FACTORIES)
_NOT_KINDS = ("name", "description")


@dataclass
class _Options:
    prompt: Any
    judge: Judge | None
    judge_model: str
    embed: Embed | None
    embedding_model: str | None


def build_evaluators(specs: list[dict], *, source: str, prompt: PromptFile | None = None, judge: Judge | None = None,
                     judge_model: str = DEFAULT_JUDGE_MODEL, embed: Embed | None = None,
                     embedding_model: str | None = None, fields: list[str] | None = None) -> list[Evaluator]:
    """Evaluators for *specs* (``PromptFile.evaluators``), in order.

    *judge*: ``async (model_name, messages) -> reply`` for ``llm`` and ``uses``
    evaluators; *judge_model* runs the ``uses:`` built-ins. *embed*: ``async
    (model_name, texts) -> vectors`` for ``similarity``'s provider models (default:
    litellm); *embedding_model* is its default model (None: the offline local model).
    *prompt* supplies ``jsonSchema`` for ``schemaRef``. *fields* names each spec's place
    in the file for messages (default ``evaluators[i]``; see ``PromptFile.evaluator_entries``).
    """
    opts = _Options(prompt, judge, judge_model, embed, embedding_model)
    problems: list[Problem] = []
    built: list[Evaluator] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs or ()):
        field = fields[i] if fields is not None and i < len(fields) else f"evaluators[{i}]"
        if not isinstance(spec, Mapping):
            problems.append(Problem(source, None, field, f"expected a mapping with name and one kind, got {describe(spec)}"))
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(source, None, f"{field}.name", "every evaluator needs a name (text)"))
            name = f"#{i + 1}"
        elif name in seen:
            problems.append(Problem(source, None, f"{field}.name", f"duplicate evaluator name {name!r}: names must be unique"))
        seen.add(name)
        kinds = [k for k in spec if k not in _NOT_KINDS]
        if len(kinds) != 1:
            what = "has no kind" if not kinds else f"has several kinds ({', '.join(map(str, kinds))})"
            problems.append(Problem(source, None, field, f"evaluator {name!r} {what}: give exactly one of {', '.join(KINDS)}"))
            continue
        kind = kinds[0]
        if kind == "uses":
            uses = spec["uses"]
            if not isinstance(uses, str) or not uses:
                problems.append(Problem(source, None, f"{field}.uses", f"evaluator {name!r}: expected the name of a "
                                        f"built-in evaluator, got {describe(uses)}: known are {', '.join(RUBRICS)}"))
                continue
            # An unknown name loads, and fails every case as on GitHub ("Plugin evaluator ... not found").
            built.append(BuiltinJudge.from_uses(uses, name, opts) if uses in RUBRICS else MissingPlugin(name, uses))
            continue
        if kind not in _FACTORIES:
            problems.append(Problem(source, None, f"{field}.{kind}", f"evaluator {name!r}: unknown evaluator kind "
                                    f"{describe(kind)}: use one of {', '.join(KINDS)}"))
            continue
        body = spec[kind]
        reader = SpecReader(source, field, name, kind, body, problems)
        if kind == "json" and body is True:  # ``json: true`` as a shorthand for {valid: true}
            reader.body = {}
        elif not isinstance(body, Mapping):
            reader.problem(None, f"expected a mapping of {kind} settings, got {describe(body)}")
            continue
        evaluator = _FACTORIES[kind](reader, opts)
        if evaluator is not None and not reader.failed:
            built.append(evaluator)
    if problems:
        raise PromptFileError(problems)
    return built


async def evaluate_all(evaluators: list[Evaluator], ctx: EvalContext) -> list[EvalResult]:
    """Every evaluator on one output, judges concurrently; results in evaluator order."""
    import asyncio

    return list(await asyncio.gather(*(e.aevaluate(ctx) for e in evaluators)))
