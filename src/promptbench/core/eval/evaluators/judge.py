"""LLM judges: ``llm`` evaluators written in the prompt file and the ``uses: github/...``
built-ins (rubrics in :mod:`promptbench.core.prompts.judge_prompts`), judged as ``gh models eval``
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

That is GitHub's reading, the default. ``[eval] judging = "strict"`` makes promptbench's
strict reading decide instead (:func:`strict_choice`: whole-word choices; the whole reply,
else the choice it opens with, else the last one it states; pass when score >=
``[eval] pass_threshold``, the ``llm`` evaluator's own ``threshold`` still winning); see
:mod:`promptbench.core.eval.judging`. Both readings are computed from the one reply and stored
in ``details["github"]`` / ``details["strict"]`` ({choice, score, passed});
``details["judging"]`` says which decided, and the reason names the other where they differ.
"""

from __future__ import annotations

import re
from typing import Any

from promptbench.core.eval.judging import reading_text
from promptbench.core.settings.config import DEFAULT_PASS_THRESHOLD, GITHUB, JUDGING_MODES, STRICT
from promptbench.core.prompts.judge_prompts import BUILTIN_PREFIX, RUBRICS, SCALE_CHOICES
from promptbench.core.prompts.schema import is_number
from promptbench.core.eval.evaluators.base import EvalContext, EvalResult, Evaluator, SpecReader, gh_data, gh_template, go_lower, go_trim


def match_choice(answer: str, choices: list[str]) -> str | None:
    """The choice gh-models takes from *answer*: the first of *choices* whose lower-cased
    text is in the trimmed, lower-cased answer; None when there is none."""
    reply = go_trim(go_lower(answer or ""))
    for choice in choices:
        if go_lower(choice) in reply:
            return choice
    return None


_EDGES = " \t\r\n*_`\"'"   # emphasis and quotes around a bare answer
_OPENING = _EDGES + "([#>"   # what may come before an answer the reply opens with
_ENDS_OPENING = re.compile(r"[*_`\"')\]]*[ \t]*(?:$|\n|[,;!(\u2013\u2014]|-\s|\.[ \t]*(?:$|\n))")
_SCALE_BEFORE = re.compile(r"(?:/|\bout of)[ \t]*$")  # "4/5", "4 out of 5": the 5 is the scale
WHOLE, OPENS, LAST = "the whole reply", "the answer the reply opens with", "the last choice the reply states"


def _whole_word(choice: str) -> re.Pattern:
    """*choice* (lower-cased) with no letter or digit right before or after it, and no
    decimal part: "1" is in "1." and "(1)", not in "10", "1.5" or "0.1"."""
    left = r"(?<![^\W_])" if choice[:1].isalnum() else ""
    right = r"(?![^\W_])" if choice[-1:].isalnum() else ""
    if choice[:1].isdigit():
        left += r"(?<!\d[.,])"
    if choice[-1:].isdigit():
        right += r"(?![.,]\d)"
    return re.compile(left + re.escape(choice) + right)


def strict_choice(answer: str, choices: list[str]) -> tuple[str | None, str | None]:
    """(the choice the judge states as its answer, which rule found it) or (None, None).

    Case is ignored and a choice counts only as a whole word. In order: the whole reply
    when it is a choice (emphasis, quotes and a final period aside: "**Good.**"); else the
    choice the reply opens with, when a comma, semicolon, dash, parenthesis, "!", a
    line end or the end follows it ("5 (certainly not 1)", "Yes, no doubt"; not "1. First,"
    which numbers a list); else the last choice the reply states ("... Score: 4"), where a
    number right after "/" or "out of" is the scale ("4/5" is 4) and an aside in
    parentheses counts only when nothing outside one does. Of choices found at the same
    place the longest wins ("very good" over "good")."""
    reply = go_trim(go_lower(answer or ""))
    names = [(c, go_trim(go_lower(c))) for c in choices]
    names = [(c, low) for c, low in names if low]
    bare = reply.strip(_EDGES).rstrip(".!").strip(_EDGES)
    for choice, low in names:
        if bare == low:
            return choice, WHOLE
    found = [(m.start(), m.end(), choice) for choice, low in names for m in _whole_word(low).finditer(reply)]
    head = len(reply) - len(reply.lstrip(_OPENING))
    opening = [f for f in found if f[0] == head and _ENDS_OPENING.match(reply, f[1])]
    if opening:
        return max(opening, key=lambda f: f[1])[2], OPENS
    stated = [f for f in found if not _SCALE_BEFORE.search(reply, 0, f[0])]
    outside = [f for f in stated if _depth(reply, f[0]) == 0]
    if outside or stated:
        return max(outside or stated, key=lambda f: (f[1], f[1] - f[0]))[2], LAST
    return None, None


def _depth(text: str, at: int) -> int:
    """How many parentheses or brackets are open at *at*."""
    depth = 0
    for ch in text[:at]:
        depth = depth + 1 if ch in "([" else max(0, depth - 1) if ch in ")]" else depth
    return depth


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
        self.judging, self.pass_threshold = GITHUB, DEFAULT_PASS_THRESHOLD

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
        github_choice = match_choice(answer, names)
        strict, how = strict_choice(answer, names)
        readings = {GITHUB: self._reading(github_choice, GITHUB), STRICT: {**self._reading(strict, STRICT), "rule": how}}
        shown = ", ".join("{{" + n + "}}" for n in unfilled)
        note = f" (sent with {shown} as written: the test case has no such key)" if unfilled else ""
        reply = go_trim(go_lower(answer))
        also = [c for c in names if c != github_choice and go_lower(c) in reply] if github_choice is not None else []
        if also:  # e.g. "5 (certainly not 1)" with choices 1..5: GitHub's rule takes "1"
            extra["also_named"] = also
        used = readings[self.judging]
        if self.judging == STRICT:
            reason = self._strict_reason(answer, used, how, note)
        else:
            if also:
                note += (f" (the reply also names {', '.join(repr(c) for c in also)}: GitHub takes the first listed "
                         f"choice the reply contains)")
            reason = self._github_reason(answer, used, note)
        other = STRICT if self.judging == GITHUB else GITHUB
        if (readings[other]["passed"], readings[other]["score"]) != (used["passed"], used["score"]):
            reason += f"; {reading_text({'mode': other, **readings[other]})}"
        return self.verdict(used["passed"], reason, used["score"], judge_answer=answer, choice=used["choice"],
                            judge_model=self.model, judging=self.judging, **readings, **extra)

    def read_as(self, judging: str, pass_threshold: float = DEFAULT_PASS_THRESHOLD) -> None:
        """Which reading decides this judge's verdicts (``[eval] judging``), and the strict
        reading's pass threshold (``[eval] pass_threshold``)."""
        if judging not in JUDGING_MODES:
            raise ValueError(f"judging must be one of {', '.join(JUDGING_MODES)}, not {judging!r}")
        self.judging, self.pass_threshold = judging, float(pass_threshold)

    def _pass_rule(self, mode: str) -> float | None:
        """The score a choice needs (>=) in *mode*; None: GitHub's > 0."""
        if self.threshold is not None:
            return self.threshold
        return self.pass_threshold if mode == STRICT else None

    def _reading(self, choice: str | None, mode: str) -> dict:
        if choice is None:
            return {"choice": None, "score": 0.0, "passed": False}
        score = float(next(s for c, s in self.choices if c == choice))
        at_least = self._pass_rule(mode)
        return {"choice": choice, "score": score, "passed": score > 0 if at_least is None else score >= at_least}

    def _rule_text(self, mode: str) -> str:
        at_least = self._pass_rule(mode)
        return "> 0" if at_least is None else f">= {at_least:g}"

    def _none_of(self) -> str:
        return ", ".join(repr(c) for c, _ in self.choices)

    def _github_reason(self, answer: str, used: dict, note: str) -> str:
        if used["choice"] is None:
            return f"judge answered {_quote(go_trim(go_lower(answer)))}, which names none of {self._none_of()}: score 0{note}"
        return f"judge chose {used['choice']!r} (score {used['score']:g}, passes when {self._rule_text(GITHUB)}){note}"

    def _strict_reason(self, answer: str, used: dict, how: str | None, note: str) -> str:
        if used["choice"] is None:
            return (f"judge answered {_quote(go_trim(go_lower(answer)))}, which states none of {self._none_of()} as a "
                    f"whole word (strict reading): score 0{note}")
        return (f"judge stated {used['choice']!r} (strict reading: {how}; score {used['score']:g}, passes when "
                f"{self._rule_text(STRICT)}){note}")

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


def read_judges_as(evaluators: list, judging: dict) -> None:
    """Every judge among *evaluators* reads its replies as *judging* ({"mode", "pass_threshold"},
    a threshold of None: the default) says."""
    threshold = judging.get("pass_threshold")
    for e in evaluators:
        if isinstance(e, JudgeEvaluator):
            e.read_as(judging["mode"], DEFAULT_PASS_THRESHOLD if threshold is None else threshold)


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
