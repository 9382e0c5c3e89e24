"""Deterministic checks: string (GitHub's), regex, json, jsonSchema, latency, cost."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import regex
from jsonschema import Draft202012Validator, SchemaError, validators

from promptbench.core.prompts.schema import describe, json_schema_of
from promptbench.core.eval.evaluators.base import EvalContext, EvalResult, Evaluator, SpecReader, gh_template, go_lower, go_trim

REGEX_TIMEOUT_S = 2.0
REGEX_FLAGS = {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}
_FENCE = re.compile(r"\A```[A-Za-z0-9_+-]*[ \t]*\r?\n(.*?)\r?\n?```\Z", re.DOTALL)


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# -- string (GitHub Models semantics) -----------------------------------------------------
# gh-models cmd/eval/eval.go runStringEvaluator: the first non-empty criterion in this order.
GH_STRING_ORDER = ("equals", "contains", "startsWith", "endsWith")
NO_STRING_CRITERIA = "no string evaluation criteria specified"


class StringEvaluator(Evaluator):
    """As ``gh models eval``: the first non-empty of equals, contains, startsWith, endsWith
    is used (the others, and unknown fields, are ignored). Its text is filled with the test
    case (``{{expected}}``) and compared with the output trimmed of surrounding white
    space: ``equals`` exactly, the others ignoring case. With no non-empty criterion every
    result is an error "no string evaluation criteria specified"."""

    kind = "string"

    def __init__(self, name: str, criteria: dict[str, str]):
        super().__init__(name)
        self.criteria = criteria
        self.check = next((k for k in GH_STRING_ORDER if criteria.get(k)), None)
        self.value = criteria.get(self.check, "") if self.check else ""

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> StringEvaluator | None:
        criteria: dict[str, str] = {}
        for key in GH_STRING_ORDER:
            value = r.body.get(key)
            if value is None:  # absent or null: empty, as Go reads it
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # ``equals: 42``: Go's YAML reads the number's text
            if not isinstance(value, str):
                r.problem(key, f"expected text for {key!r}, got {describe(value)}")
                continue
            criteria[key] = value
        return None if r.failed else cls(r.name, criteria)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        if self.check is None:
            return self.error(NO_STRING_CRITERIA)
        expected, unfilled = gh_template(self.value, ctx.test_case or {})
        out = go_trim(ctx.output)
        if self.check == "equals":
            passed = out == expected
        else:
            hay, needle = go_lower(out), go_lower(expected)
            passed = {"contains": needle in hay, "startsWith": hay.startswith(needle),
                      "endsWith": hay.endswith(needle)}[self.check]
        yes, no = _STRING_VERBS[self.check]
        case = "" if self.check == "equals" else " (ignoring case)"
        details = {"check": self.check, "expected": expected, **({"unfilled": unfilled} if unfilled else {})}
        return self.verdict(passed, f"output {yes if passed else no}{case} {_short(expected)}", **details)


_STRING_VERBS = {"contains": ("contains", "does not contain"), "startsWith": ("starts with", "does not start with"),
                 "endsWith": ("ends with", "does not end with"), "equals": ("equals", "does not equal")}


# -- regex ----------------------------------------------------------------------------------
class RegexEvaluator(Evaluator):
    """``regex: {pattern, flags: "imsx", mustMatch: true}``: a search anywhere in the output
    (anchor with ^ and $). Python syntax; matching stops after 2 s (catastrophic backtracking)."""

    kind = "regex"

    def __init__(self, name: str, pattern: regex.Pattern, must_match: bool):
        super().__init__(name)
        self.pattern, self.must_match = pattern, must_match

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> RegexEvaluator | None:
        r.allow("pattern", "flags", "mustMatch")
        pattern = r.text("pattern", required=True)
        flags_text = r.text("flags", default="") or ""
        must_match = r.boolean("mustMatch", True)
        flags = 0
        for letter in flags_text:
            if letter not in REGEX_FLAGS:
                r.problem("flags", f"unknown regex flag {letter!r}: use any of i (ignore case), m (multi-line), "
                                   "s (dot matches newline), x (verbose)")
            else:
                flags |= REGEX_FLAGS[letter]
        if pattern is None:
            return None
        try:
            compiled = regex.compile(pattern, flags | regex.VERSION0)
        except (regex.error, ValueError, TypeError) as exc:
            where = f" at position {exc.pos}" if getattr(exc, "pos", None) is not None else ""
            msg = getattr(exc, "msg", None) or str(exc)
            r.problem("pattern", f"invalid regex {_short(pattern)}: {msg}{where}; fix the pattern (Python syntax)")
            return None
        return None if r.failed else cls(r.name, compiled, must_match)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        try:
            match = self.pattern.search(ctx.output or "", timeout=REGEX_TIMEOUT_S)
        except TimeoutError:
            return self.error(f"the pattern took over {REGEX_TIMEOUT_S:g} s on this output (catastrophic "
                              "backtracking?): simplify it, e.g. avoid nested repeats like (a+)+")
        shown = f"/{self.pattern.pattern}/"
        if match is not None:
            found = f"matches {shown}: {_short(match.group(0))} at {match.start()}"
            return self.verdict(self.must_match, found if self.must_match else f"output must not match but {found}")
        return self.verdict(not self.must_match, f"no match for {shown}" if self.must_match else f"does not match {shown}")


# -- json ------------------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_output(output: str) -> tuple[Any, str | None]:
    """(value, None) or (None, why it is not JSON). One surrounding ```json fence is allowed."""
    text = (output or "").strip()
    if not text:
        return None, "the output is empty"
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except (ValueError, RecursionError) as exc:
        return None, f"not JSON: {exc}"


class JsonEvaluator(Evaluator):
    """``json: {valid: true}``: the output parses as JSON (``valid: false``: it must not)."""

    kind = "json"

    def __init__(self, name: str, want_valid: bool):
        super().__init__(name)
        self.want_valid = want_valid

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> JsonEvaluator | None:
        r.allow("valid")
        want = r.boolean("valid", True)
        return None if r.failed else cls(r.name, want)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        value, why = parse_json_output(ctx.output)
        if why is None:
            kind = type(value).__name__.replace("dict", "object").replace("list", "array")
            return self.verdict(self.want_valid, f"valid JSON ({kind})")
        return self.verdict(not self.want_valid, why)


class JsonSchemaEvaluator(Evaluator):
    """``jsonSchema: {schema: {...}}`` or ``{schemaRef: jsonSchema}`` (the prompt's own
    ``jsonSchema``; GitHub's ``{name, strict, schema}`` wrapper is unwrapped). The schema
    is checked when built; the draft follows ``$schema`` (default 2020-12)."""

    kind = "jsonSchema"

    def __init__(self, name: str, schema: dict):
        super().__init__(name)
        cls = validators.validator_for(schema, default=Draft202012Validator)
        self.validator = cls(schema, format_checker=cls.FORMAT_CHECKER)

    @classmethod
    def from_spec(cls, r: SpecReader, opts: Any) -> JsonSchemaEvaluator | None:
        r.allow("schema", "schemaRef")
        has_schema, has_ref = "schema" in r.body, "schemaRef" in r.body
        if has_schema == has_ref:
            r.problem(None, "give exactly one of 'schema' (a JSON Schema) or 'schemaRef: jsonSchema' "
                            "(the prompt's own jsonSchema)")
            return None
        if has_ref:
            ref = r.text("schemaRef", required=True)
            if ref is None:
                return None
            if ref != "jsonSchema":
                r.problem("schemaRef", f"unknown schemaRef {ref!r}: the only one is 'jsonSchema' (this prompt's jsonSchema field)")
                return None
            prompt = opts.prompt
            raw = None if prompt is None else prompt.data.get("jsonSchema")
            if raw is None:
                r.problem("schemaRef", "the prompt has no jsonSchema field: add one, or give the schema inline as 'schema'")
                return None
            key = "schemaRef"
        else:
            raw, key = r.body["schema"], "schema"
        # An inline schema is our own kind's field: a YAML mapping is fine there.
        schema, why, _ = (raw, None, 1) if isinstance(raw, dict) else json_schema_of(raw)
        if schema is None:
            r.problem(key, f"the schema is {why}")
            return None
        schema = _unwrap(_plain(schema))
        try:
            validators.validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except SchemaError as exc:
            path = "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in exc.path)
            r.problem(key, f"invalid JSON Schema{' at ' + path if path else ''}: {exc.message}; fix the schema")
            return None
        return cls(r.name, schema)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        value, why = parse_json_output(ctx.output)
        if why is not None:
            return self.verdict(False, why)
        errors = sorted(self.validator.iter_errors(value), key=lambda e: (len(e.path), list(map(str, e.path))))
        if not errors:
            return self.verdict(True, "matches the schema")
        shown = "; ".join(f"{e.json_path}: {_clip(e.message)}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return self.verdict(False, f"does not match the schema: {shown}{more}", errors=len(errors))


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _unwrap(schema: dict) -> dict:
    """GitHub/OpenAI's response_format wrapper {name, strict, schema} -> the schema itself."""
    inner = schema.get("schema")
    if isinstance(inner, dict) and set(schema) <= {"name", "strict", "schema", "description"}:
        return inner
    return schema


# -- latency / cost --------------------------------------------------------------------------
def _metric(ctx: EvalContext, key: str) -> Any:
    metrics = ctx.metrics
    if hasattr(metrics, "to_json"):
        metrics = metrics.to_json()
    value = (metrics or {}).get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


class LatencyEvaluator(Evaluator):
    """``latency: {maxTtftMs, maxTotalMs}`` (either or both), from the run's metrics."""

    kind = "latency"
    _LIMITS = (("maxTtftMs", "ttft_ms", "time to first token"), ("maxTotalMs", "total_ms", "total time"))

    def __init__(self, name: str, limits: dict[str, float]):
        super().__init__(name)
        self.limits = limits

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> LatencyEvaluator | None:
        r.allow("maxTtftMs", "maxTotalMs")
        limits = {key: r.number(key, low=0) for key, _, _ in cls._LIMITS}
        limits = {k: v for k, v in limits.items() if v is not None}
        if not limits and not r.failed:
            r.problem(None, "give maxTtftMs, maxTotalMs or both (milliseconds)")
        return None if r.failed else cls(r.name, limits)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        parts, failed, unknown, details = [], False, [], {}
        for key, metric, label in self._LIMITS:
            if key not in self.limits:
                continue
            value = _metric(ctx, metric)
            details[metric] = value
            if value is None:
                unknown.append(label)
                continue
            ok = value <= self.limits[key]
            failed |= not ok
            parts.append(f"{label} {value:.0f} ms {'<=' if ok else '>'} {self.limits[key]:g} ms")
        if not failed and unknown:
            return self.error(f"no {' or '.join(unknown)} measured for this run (did it fail or get cancelled?)", **details)
        return self.verdict(not failed, "; ".join(parts), **details)


class CostEvaluator(Evaluator):
    """``cost: {maxUsd}``: the run's cost from its metrics (``cost_usd``)."""

    kind = "cost"

    def __init__(self, name: str, max_usd: float):
        super().__init__(name)
        self.max_usd = max_usd

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> CostEvaluator | None:
        r.allow("maxUsd")
        if "maxUsd" not in r.body:
            r.problem("maxUsd", "missing 'maxUsd': the most a run may cost, in US dollars")
        limit = r.number("maxUsd", low=0)
        return None if r.failed or limit is None else cls(r.name, limit)

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        cost = _metric(ctx, "cost_usd")
        if cost is None:
            metrics = ctx.metrics.to_json() if hasattr(ctx.metrics, "to_json") else (ctx.metrics or {})
            note = metrics.get("cost_note")
            why = f" ({note})" if note else ""
            return self.error(f"the cost of this run is unknown{why}: set a price for the model in settings")
        ok = cost <= self.max_usd
        return self.verdict(ok, f"cost ${cost:.6f} {'<=' if ok else '>'} ${self.max_usd:g}", cost_usd=cost)
