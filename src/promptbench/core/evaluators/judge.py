"""LLM judges: ``llm`` evaluators written in the prompt file and the ``uses: github/...``
built-ins (rubrics in :mod:`promptbench.core.judge_prompts`).

The judge model is called through an injected ``judge(model_name, messages) -> str``
coroutine (the batch runner builds it on the engine), so nothing here talks to a provider.

Reading the answer: a reply equal to a choice (ignoring case, surrounding spaces,
quotes, ``*`` and final punctuation) picks it; otherwise the choice mentioned first as a
whole word does. Any other reply, a judge that raises (ProviderError or anything else)
and a prompt variable the test case lacks give ``passed=None`` with ``error`` set.

Scores and passing: an ``llm`` evaluator scores its choice's ``score`` as written and, as
on GitHub, passes when that score is > 0, unless it gives ``threshold`` (our extension):
then it passes when score >= threshold. Built-ins score 0-1 and pass at >= 0.6 (a 4 or 5).
"""

from __future__ import annotations

import re
from typing import Any

from ..judge_prompts import PASS_THRESHOLD, RUBRICS, SCALE_CHOICES
from ..promptschema import is_number
from .base import (
    EvalContext, EvalResult, Evaluator, SpecReader, conversation_text, fill, missing_message, template_values,
)

_EDGE = " \t\r\n\"'`*_.,;:!?()[]"


def match_choice(answer: str, choices: list[str]) -> str | None:
    """The choice *answer* names, or None."""
    core = (answer or "").strip().strip(_EDGE)
    for choice in choices:
        if core == choice:
            return choice
    folded = core.casefold()
    for choice in choices:
        if folded == choice.casefold():
            return choice
    best: tuple[int, int, str] | None = None
    for choice in choices:
        if not choice.strip():
            continue
        found = re.search(rf"(?<!\w){re.escape(choice)}(?!\w)", answer or "", re.IGNORECASE)
        if found and (best is None or (found.start(), -len(choice)) < best[:2]):
            best = (found.start(), -len(choice), choice)
    return best[2] if best else None


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join((text or "").split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


class JudgeEvaluator(Evaluator):
    is_async = True

    def __init__(self, name: str, kind: str, model: str, prompt: str, system_prompt: str | None,
                 choices: list[tuple[str, float]], threshold: float | None, judge: Any):
        super().__init__(name)
        self.kind, self.model, self.prompt, self.system_prompt = kind, model, prompt, system_prompt
        self.choices, self.threshold, self.judge = choices, threshold, judge

    def values(self, ctx: EvalContext) -> dict[str, str]:
        return template_values(ctx)

    def messages(self, ctx: EvalContext) -> tuple[list[dict] | None, list[str]]:
        values = self.values(ctx)
        user, missing = fill(self.prompt, values)
        if missing:
            return None, missing
        # As on GitHub, the system prompt is sent as written (not a template).
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return messages + [{"role": "user", "content": user}], []

    async def _aevaluate(self, ctx: EvalContext) -> EvalResult:
        messages, missing = self.messages(ctx)
        if messages is None:
            return self.error(missing_message(missing, f"the judge prompt of {self.name!r}"), missing=missing)
        if self.judge is None:
            return self.error("no judge is configured to run LLM evaluators: pick a judge model in settings")
        try:
            answer = await self.judge(self.model, messages)
        except Exception as exc:  # noqa: BLE001 - provider down, auth, timeout...: an error, never a crash
            klass = getattr(exc, "error_class", None)
            return self.error(f"judge model {self.model!r} failed{f' ({klass})' if klass else ''}: {exc}",
                              judge_model=self.model, error_class=klass)
        if not isinstance(answer, str):
            return self.error(f"judge model {self.model!r} returned {type(answer).__name__}, not text", judge_model=self.model)
        names = [c for c, _ in self.choices]
        picked = match_choice(answer, names)
        if picked is None:
            expected = ", ".join(repr(c) for c in names)
            return self.error(f"judge answered {_quote(answer)}, expected one of {expected}",
                              judge_answer=answer, judge_model=self.model)
        score = dict(self.choices)[picked]
        passed = score > 0 if self.threshold is None else score >= self.threshold
        rule = "> 0" if self.threshold is None else f">= {self.threshold:g}"
        return self.verdict(passed, f"judge chose {picked!r} (score {score:g}, passes when {rule})", float(score),
                            judge_answer=answer, choice=picked, judge_model=self.model)

    @classmethod
    def from_llm_spec(cls, r: SpecReader, opts: Any) -> JudgeEvaluator | None:
        r.allow("modelId", "prompt", "choices", "systemPrompt", "threshold")
        model = r.text("modelId", required=True)
        prompt = r.text("prompt", required=True)
        system = r.text("systemPrompt")
        threshold = r.number("threshold")
        raw = r.body.get("choices")
        choices: list[tuple[str, float]] = []
        if not isinstance(raw, list) or not raw:
            r.problem("choices", "expected a non-empty list of {choice, score}")
        else:
            for j, item in enumerate(raw):
                where = f"choices[{j}]"
                if not isinstance(item, dict) or not isinstance(item.get("choice"), str) or not is_number(item.get("score")):
                    r.problem(where, "expected {choice: text, score: number}")
                elif item["choice"] in dict(choices):
                    r.problem(f"{where}.choice", f"duplicate choice {item['choice']!r}: choices must differ")
                else:
                    choices.append((item["choice"], float(item["score"])))
        if r.failed:
            return None
        return cls(r.name, "llm", model, prompt, system, choices, threshold, opts.judge)  # type: ignore[arg-type]


class BuiltinJudge(JudgeEvaluator):
    """``uses: github/<rubric>``: a 1-5 rubric judged by the workspace's judge model."""

    def values(self, ctx: EvalContext) -> dict[str, str]:
        values = template_values(ctx)
        if "context" not in values:
            found = conversation_text(ctx.messages)
            if found is not None:
                values["context"] = found
        return values

    @classmethod
    def from_uses(cls, uses: str, name: str, opts: Any) -> BuiltinJudge:
        rubric = RUBRICS[uses]
        choices = [(c["choice"], float(c["score"])) for c in SCALE_CHOICES]
        return cls(name, uses, opts.judge_model, rubric.prompt, rubric.system_prompt, choices, PASS_THRESHOLD, opts.judge)
