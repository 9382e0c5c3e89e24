"""LLM judges: ``llm`` evaluators written in the prompt file and the ``uses: github/...``
built-ins (rubrics in :mod:`promptbench.core.judge_prompts`), judged as ``gh models eval``
judges them (github/gh-models cmd/eval/eval.go, runLLMEvaluator / runPluginEvaluator).

The judge model is called through an injected ``judge(model_name, messages) -> str``
coroutine (the batch runner builds it on the engine), so nothing here talks to a provider.

The prompt is filled with the test case plus ``{{completion}}`` (the model's output,
whitespace-trimmed); a ``{{name}}`` the test case lacks is sent as written, as GitHub
sends it (the result lists it in ``details["unfilled"]``). The system prompt is sent as
written. Reading the answer: the reply is trimmed and lower-cased; the choices are tried
in list order and the first whose lower-cased text occurs anywhere in it is taken (so
with choices "1".."5" the reply "5 (certainly not 1)" picks "1"). A reply naming no
choice scores 0 and fails. A judge that raises (ProviderError or anything else) gives
``passed=None`` with ``error`` set.

Scores and passing: the choice's ``score`` as written; it passes when that score is > 0,
unless the ``llm`` evaluator gives ``threshold`` (our extension): then when score >=
threshold. An unknown ``uses:`` is a failed result ("Plugin evaluator ... not found").
"""

from __future__ import annotations

from typing import Any

from ..judge_prompts import BUILTIN_PREFIX, RUBRICS, SCALE_CHOICES
from ..promptschema import is_number
from .base import EvalContext, EvalResult, Evaluator, SpecReader, gh_data, gh_template, go_lower, go_trim


def match_choice(answer: str, choices: list[str]) -> str | None:
    """The choice gh-models takes from *answer*: the first of *choices* whose lower-cased
    text is in the trimmed, lower-cased answer; None when there is none."""
    reply = go_trim(go_lower(answer or ""))
    for choice in choices:
        if go_lower(choice) in reply:
            return choice
    return None


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

    def messages(self, ctx: EvalContext) -> tuple[list[dict], list[str]]:
        """(what the judge is sent, the placeholders left unfilled)."""
        user, unfilled = gh_template(self.prompt, gh_data(ctx))
        # As on GitHub, the system prompt is sent as written (not a template).
        messages = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return messages + [{"role": "user", "content": user}], unfilled

    async def _aevaluate(self, ctx: EvalContext) -> EvalResult:
        messages, unfilled = self.messages(ctx)
        extra = {"unfilled": unfilled} if unfilled else {}
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
        shown = ", ".join("{{" + n + "}}" for n in unfilled)
        note = f" (sent with {shown} as written: the test case has no such key)" if unfilled else ""
        if picked is None:
            expected = ", ".join(repr(c) for c in names)
            return self.verdict(False, f"judge answered {_quote(go_trim(go_lower(answer)))}, which names none of "
                                       f"{expected}: score 0{note}", 0.0,
                                judge_answer=answer, choice=None, judge_model=self.model, **extra)
        score = next(s for c, s in self.choices if c == picked)
        passed = score > 0 if self.threshold is None else score >= self.threshold
        rule = "> 0" if self.threshold is None else f">= {self.threshold:g}"
        reply = go_trim(go_lower(answer))
        also = [c for c in names if c != picked and go_lower(c) in reply]
        if also:  # e.g. "5 (certainly not 1)" with choices 1..5: GitHub's rule takes "1"
            note += (f" (the reply also names {', '.join(repr(c) for c in also)}: GitHub takes the first listed "
                     f"choice the reply contains)")
            extra["also_named"] = also
        return self.verdict(passed, f"judge chose {picked!r} (score {score:g}, passes when {rule}){note}", float(score),
                            judge_answer=answer, choice=picked, judge_model=self.model, **extra)

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
    """``uses: github/<rubric>``: GitHub's 1-5 rubric, judged by ``openai/gpt-4o`` (or the
    workspace's judge model)."""

    @classmethod
    def from_uses(cls, uses: str, name: str, opts: Any) -> BuiltinJudge:
        rubric = RUBRICS[uses]
        choices = [(c["choice"], float(c["score"])) for c in SCALE_CHOICES]
        return cls(name, uses, opts.judge_model, rubric.prompt, rubric.system_prompt, choices, None, opts.judge)


class MissingPlugin(Evaluator):
    """``uses:`` naming no built-in: as on GitHub, every result fails with score 0 (not
    an error, and the file still loads)."""

    def __init__(self, name: str, uses: str):
        super().__init__(name)
        self.kind, self.uses = uses, uses

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        known = ", ".join(RUBRICS)
        hint = "" if self.uses.startswith(BUILTIN_PREFIX) else f" (built-ins start with {BUILTIN_PREFIX!r})"
        return self.verdict(False, f"Plugin evaluator '{self.uses}' not found{hint}: known are {known}", 0.0)
