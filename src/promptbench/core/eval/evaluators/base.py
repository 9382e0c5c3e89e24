"""What every evaluator shares: its context, its result, the base class and spec reading."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promptbench.core.errors import Problem
from promptbench.core.prompts.schema import describe, is_number
from promptbench.core.prompts.templating import PLACEHOLDER, find_variables, gh_text, substitute, value_text

if TYPE_CHECKING:
    from promptbench.core.prompts.promptfile import PromptFile

# async def judge(model_name, messages) -> the judge's reply text
Judge = Callable[[str, list[dict]], Awaitable[str]]
# async def embed(model_name, texts) -> one vector per text
Embed = Callable[[str, list[str]], Awaitable[list[list[float]]]]


@dataclass
class EvalContext:
    output: str
    test_case: dict = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)  # what was sent to the model, rendered
    metrics: dict = field(default_factory=dict)  # RunMetrics.to_json(): ttft_ms, total_ms, cost_usd...
    prompt: PromptFile | None = None


@dataclass
class EvalResult:
    name: str
    kind: str
    passed: bool | None  # None: the evaluator could not decide (see error)
    score: float | None  # 0-1 (an ``llm`` judge: its choice's score as written)
    reason: str
    error: str | None = None  # why the evaluator could not run
    details: dict = field(default_factory=dict)  # raw figures: judge answer, BLEU 0-100, measured ms...


class Evaluator:
    """One evaluator built from one spec. ``evaluate`` never raises: any failure
    becomes a result with ``passed=None`` and ``error`` set."""

    kind = ""
    is_async = False  # True: the work is in ``_aevaluate`` (judges, embeddings)

    def __init__(self, name: str):
        self.name = name

    def evaluate(self, ctx: EvalContext) -> EvalResult:
        if self.is_async:
            return _run_sync(self.aevaluate(ctx))
        try:
            return self._evaluate(ctx)
        except Exception as exc:  # noqa: BLE001 - an evaluator bug must not take a batch down
            return self.error(f"{type(exc).__name__}: {exc}")

    async def aevaluate(self, ctx: EvalContext) -> EvalResult:
        if not self.is_async:
            return self.evaluate(ctx)
        try:
            return await self._aevaluate(ctx)
        except Exception as exc:  # noqa: BLE001
            return self.error(f"{type(exc).__name__}: {exc}")

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        raise NotImplementedError

    async def _aevaluate(self, ctx: EvalContext) -> EvalResult:
        raise NotImplementedError

    # -- results -------------------------------------------------------------------
    def verdict(self, passed: bool, reason: str, score: float | None = None, **details: Any) -> EvalResult:
        """A decided result; pass/fail checks score 1.0 / 0.0 as GitHub does."""
        if score is None:
            score = 1.0 if passed else 0.0
        return EvalResult(self.name, self.kind, passed, score, reason, None, details)

    def error(self, message: str, **details: Any) -> EvalResult:
        return EvalResult(self.name, self.kind, None, None, f"could not evaluate: {message}", message, details)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _run_sync(coro: Awaitable[EvalResult]) -> EvalResult:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    # Called from inside a running loop: run on a helper thread with its own loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# -- template values -----------------------------------------------------------------
def last_user_message(messages: list[dict]) -> str | None:
    for message in reversed(messages or ()):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return value_text(message.get("content"))
    return None


def template_values(ctx: EvalContext) -> dict[str, str]:
    """Test-case variables plus ``completion`` (the output), and ``input`` taken from the
    last user message when the test case has none."""
    values = {str(k): value_text(v) for k, v in (ctx.test_case or {}).items()}
    if "input" not in values:
        found = last_user_message(ctx.messages)
        if found is not None:
            values["input"] = found
    values["completion"] = ctx.output or ""
    return values


def fill(template: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """(the filled text, the names with no value). Substitution is single-pass."""
    missing: list[str] = []

    def replace(match: Any) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return match.group(0)

    return PLACEHOLDER.sub(replace, template), missing


def missing_message(missing: list[str], where: str) -> str:
    names = ", ".join("{{" + n + "}}" for n in missing)
    keys = ", ".join(repr(n) for n in missing)
    noun = "variable" if len(missing) == 1 else "variables"
    return f"the test case has no value for {noun} {names} used in {where}: add {keys} to the test case (testData) or remove it"


# -- GitHub Models (gh models eval) text rules --------------------------------------------
# Go's strings.TrimSpace trims Unicode White_Space; Python's str.strip also trims \x1c-\x1f.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


def go_trim(text: str) -> str:
    """``strings.TrimSpace``: how gh-models trims the model's reply and the judge's."""
    return (text or "").strip(_GO_SPACE)


def go_lower(text: str) -> str:
    """``strings.ToLower``: per-character simple lower case (Python's ``lower`` maps a
    final Σ to ς and İ to two characters; Go does neither)."""
    text = text or ""
    if text.isascii():
        return text.lower()
    return "".join("i" if c == "\u0130" else c.lower() for c in text)


def gh_template(text: str, data: Mapping[str, object]) -> tuple[str, list[str]]:
    """gh-models' ``TemplateString``: every ``{{key}}`` (exactly, no spaces) of a key in
    *data* replaced by its value written as Go's ``%v`` (core/templating's ``substitute``
    and ``gh_text``); other placeholders stay as written. Returns (the text, the names of
    the ``{{name}}`` placeholders left unfilled)."""
    values = {str(k): gh_text(v) for k, v in (data or {}).items()}
    return substitute(text, values), [name for name in find_variables(text) if name not in values]


def gh_data(ctx: EvalContext) -> dict[str, object]:
    """What gh-models fills an evaluator's text with: the test case, plus ``completion``
    (the trimmed output) for judge prompts."""
    data = {str(k): v for k, v in (ctx.test_case or {}).items()}
    data["completion"] = go_trim(ctx.output)
    return data


# -- spec reading ----------------------------------------------------------------------
class SpecReader:
    """Reads one evaluator's kind mapping, collecting problems (never raising) that name
    the file, the evaluator and the field."""

    def __init__(self, source: str, where: str, name: str, kind: str, body: Any, problems: list[Problem]):
        self.source, self.where, self.name, self.kind = source, where, name, kind  # where: "evaluators[2]"
        self.body = body if isinstance(body, Mapping) else {}
        self.problems = problems
        self.failed = False

    def field(self, key: str | None = None) -> str:
        base = f"{self.where}.{self.kind}"
        return f"{base}.{key}" if key else base

    def problem(self, key: str | None, message: str) -> None:
        self.failed = True
        self.problems.append(Problem(self.source, None, self.field(key), f"evaluator {self.name!r}: {message}"))

    def allow(self, *keys: str) -> None:
        for key in self.body:
            if key not in keys:
                expected = ", ".join(keys) if keys else "no fields"
                self.problem(str(key), f"unknown field {describe(key)} in {self.kind}: expected {expected}")

    def text(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        if key not in self.body or self.body[key] is None:
            if required:
                self.problem(key, f"missing {key!r}: {self.kind} needs it")
            return default
        value = self.body[key]
        if not isinstance(value, str):
            self.problem(key, f"expected text for {key!r}, got {describe(value)}")
            return default
        return value

    def number(self, key: str, *, default: float | None = None, low: float | None = None,
               high: float | None = None, hint: str = "") -> float | None:
        if key not in self.body or self.body[key] is None:
            return default
        value = self.body[key]
        if not is_number(value):
            self.problem(key, f"expected a number for {key!r}, got {describe(value)}")
            return default
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"between {low:g} and {high:g}" if low is not None and high is not None else (
                f"at least {low:g}" if low is not None else f"at most {high:g}")
            self.problem(key, f"{key!r} must be {span}, got {value:g}{hint}")
            return default
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.body or self.body[key] is None:
            return default
        value = self.body[key]
        if not isinstance(value, bool):
            self.problem(key, f"expected true or false for {key!r}, got {describe(value)}")
            return default
        return value

    def template(self, key: str, default: str) -> str:
        """A text field that may hold {{vars}} filled from the test case at evaluation."""
        return self.text(key, default=default) or default
