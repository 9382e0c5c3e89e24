"""Validation of the ``.prompt.yml`` fields (the GitHub Models prompt file format).

Problems are errors: the file cannot be used until they are fixed. Warnings are kept
apart (unknown fields, ignored settings): the file still works and is saved as is.
Every finding names the file, the 1-based line of the offending node and its field.
"""

from __future__ import annotations

import json
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from promptbench.core.errors import Problem
from promptbench.core.prompts.judge_prompts import RUBRICS
from promptbench.core.prompts.templating import find_variables, spaced_hint, spaced_placeholders

ROLES = ("system", "user", "assistant", "developer")
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
STRING_CHECKS = ("contains", "startsWith", "endsWith", "equals")
EVALUATOR_KINDS = ("string", "llm", "uses")
# promptbench's own kinds (core/evaluators validates their fields). `gh models eval` stops at
# an evaluator with none of its kinds, so these belong under EXTENSION_SECTION, which it ignores.
EXTENSION_KINDS = ("regex", "json", "jsonSchema", "bleu", "rouge", "similarity", "latency", "cost")
EXTENSION_SECTION = "promptbenchEvaluators"
EVALUATOR_SECTIONS = ("evaluators", EXTENSION_SECTION)
# Each built-in and the test-data keys its judge prompt reads ({{completion}} is the reply).
BUILTIN_VARIABLES = {uses: tuple(v for v in find_variables(rubric.prompt) if v != "completion")
                     for uses, rubric in RUBRICS.items()}
BUILTIN_EVALUATORS = tuple(BUILTIN_VARIABLES)
# Canonical order: also where a missing field is inserted when one is added.
KNOWN_FIELDS = (
    "name",
    "description",
    "model",
    "modelParameters",
    "responseFormat",
    "jsonSchema",
    "messages",
    "testData",
    "evaluators",
    EXTENSION_SECTION,
)
# name -> (kind, minimum, maximum); other parameters are passed through unchecked.
PARAMETERS: dict[str, tuple[str, float | None, float | None]] = {
    "temperature": ("number", 0, 2),
    "topP": ("number", 0, 1),
    "maxTokens": ("integer", 1, None),
    "frequencyPenalty": ("number", -2, 2),
    "presencePenalty": ("number", -2, 2),
    "seed": ("integer", None, None),
}
# Keys the GitHub Models UI writes that gh-models ignores (its names are camelCase): not sent.
# The only parameters gh models eval sends (pkg/prompt ModelParameters).
GITHUB_PARAMETERS = ("maxTokens", "temperature", "topP")
GITHUB_IGNORED_PARAMETERS = {"max_tokens": "maxTokens", "top_p": "topP", "max_completion_tokens": "maxTokens"}


def describe(value: Any) -> str:
    """A value as a person would name it in 'expected X, got Y'."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, TaggedScalar):
        return f"a value tagged {value.tag.value if hasattr(value.tag, 'value') else value.tag}"
    if isinstance(value, str):
        short = value if len(value) <= 40 else value[:37] + "..."
        return repr(short)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_schema_of(value: Any) -> tuple[dict | None, str | None, int]:
    """The jsonSchema field as a dict, or (None, why not, line of the fault within the JSON)."""
    if isinstance(value, dict):
        return value, None, 1
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno} of the JSON)", exc.lineno
        if not isinstance(parsed, dict):
            return None, f"the JSON must be an object, got {describe(parsed)}", 1
        return parsed, None, 1
    return None, f"expected a mapping or a JSON string, got {describe(value)}", 1


def _line_of(parent: Any, key: Any) -> int | None:
    """1-based line of parent[key]'s value (or of the key when the value has none)."""
    try:
        if isinstance(parent, CommentedMap):
            # An empty (null) value has no position of its own: ruamel reports the next token.
            return parent.lc.key(key)[0] + 1 if parent[key] is None else parent.lc.value(key)[0] + 1
        if isinstance(parent, CommentedSeq):
            return parent.lc.item(key)[0] + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return _node_line(parent)


def _node_line(node: Any) -> int | None:
    lc = getattr(node, "lc", None)
    return None if lc is None or lc.line is None else lc.line + 1


def _key_line(parent: Any, key: Any) -> int | None:
    try:
        return parent.lc.key(key)[0] + 1
    except (KeyError, TypeError, AttributeError):
        return _node_line(parent)


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, line: int | None, field: str, message: str, fix: str | None = None) -> None:
        self.problems.append(Problem(self.source, line, field, message, fix))

    def warn(self, line: int | None, field: str, message: str, fix: str | None = None) -> None:
        self.warnings.append(Problem(self.source, line, field, message, fix))

    def expect_text(self, parent: Any, key: Any, field: str, required: bool = False) -> None:
        if not isinstance(parent, dict) or key not in parent:
            if required:
                self.error(_node_line(parent), field, f"missing '{key}'")
            return
        value = parent[key]
        if isinstance(value, str):
            return
        if value is None and not required:
            return
        hint = f" (quote it: '{value}')" if is_number(value) else ""
        self.error(_line_of(parent, key), field, f"expected text, got {describe(value)}{hint}",
                   "quote-value" if is_number(value) else None)

    def expect_list(self, parent: dict, key: str) -> list | None:
        value = parent.get(key)
        if value is None or isinstance(value, list):
            return value
        self.error(_line_of(parent, key), key, f"expected a list, got {describe(value)}")
        return None

    def root(self, data: Any) -> None:
        if data is None:
            self.error(None, "", "file is empty: a prompt file needs at least a 'messages' list")
            return
        if not isinstance(data, dict):
            what = f"expected a mapping of fields (name, model, messages, ...) at the top level, got {describe(data)}"
            self.error(_node_line(data) or 1, "", what)
            return
        for key in ("name", "description", "model"):
            self.expect_text(data, key, key)
        self.model_parameters(data)
        self.response_format(data)
        self.messages(data)
        self.test_data(data)
        seen: dict[str, int | None] = {}
        for section in EVALUATOR_SECTIONS:
            self.evaluators(data, section, seen)
        for key in data:
            if key not in KNOWN_FIELDS:
                self.warn(_key_line(data, key), str(key), "unknown field: kept as is, but promptbench does not use it")

    def model_parameters(self, data: dict) -> None:
        params = data.get("modelParameters")
        if params is None:
            return
        if not isinstance(params, dict):
            what = f"expected a mapping such as {{temperature: 0.2}}, got {describe(params)}"
            self.error(_line_of(data, "modelParameters"), "modelParameters", what)
            return
        for key, value in params.items():
            field = f"modelParameters.{key}"
            line = _line_of(params, key)
            if key in GITHUB_IGNORED_PARAMETERS:
                self.warn(_key_line(params, key), field, f"GitHub ignores {key}: use {GITHUB_IGNORED_PARAMETERS[key]} (not sent)",
                          "rename-parameter")
                continue
            if key not in GITHUB_PARAMETERS:
                self.warn(_key_line(params, key), field, f"gh models eval does not send {key} (only maxTokens, "
                                                         "temperature and topP): promptbench does, so results can differ")
            if key == "stop":
                if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(s, str) for s in value))):
                    self.error(line, field, f"expected text or a list of texts, got {describe(value)}")
                continue
            if key not in PARAMETERS:
                continue
            kind, low, high = PARAMETERS[key]
            if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
                self.error(line, field, f"expected a whole number, got {describe(value)}")
            elif kind == "number" and not is_number(value):
                self.error(line, field, f"expected a number, got {describe(value)}")
            elif (low is not None and value < low) or (high is not None and value > high):
                bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
                self.error(line, field, f"{value} is out of range: expected {bounds}")

    def response_format(self, data: dict) -> None:
        fmt = data.get("responseFormat")
        if fmt is not None and fmt not in RESPONSE_FORMATS:
            what = f"unknown responseFormat {describe(fmt)}: expected one of {', '.join(RESPONSE_FORMATS)}"
            self.error(_line_of(data, "responseFormat"), "responseFormat", what)
        if "jsonSchema" in data:
            value = data["jsonSchema"]
            schema, why, json_line = json_schema_of(value)
            line = _line_of(data, "jsonSchema")
            if not isinstance(value, str):
                # gh-models: "jsonSchema must be a JSON string"; it refuses a YAML mapping.
                what = ("not a YAML mapping (GitHub Models refuses one): write it as jsonSchema: |- {...}"
                        if isinstance(value, dict) else f"got {describe(value)}")
                mapping = isinstance(value, dict)
                self.error(_key_line(data, "jsonSchema") if mapping else line, "jsonSchema",
                           f"must be a JSON string, {what}", "jsonschema-to-string" if mapping else None)
            elif why:
                # A block scalar's text starts on the line after its key.
                block = isinstance(value, (LiteralScalarString, FoldedScalarString)) and line is not None
                self.error(_key_line(data, "jsonSchema") + json_line if block else line, "jsonSchema", why)
            elif fmt == "json_schema" and not ("name" in schema and "schema" in schema):
                self.error(line, "jsonSchema", "needs 'name' and 'schema' keys (the json_schema shape: {name, strict, schema})")
            if fmt != "json_schema":
                self.warn(line, "jsonSchema", "ignored unless responseFormat is json_schema")
        elif fmt == "json_schema":
            self.error(_line_of(data, "responseFormat"), "jsonSchema", "responseFormat is json_schema but there is no jsonSchema")

    def messages(self, data: dict) -> None:
        if "messages" not in data or data["messages"] in (None, []):
            # gh-models loads such a file (and sends no messages).
            line = _line_of(data, "messages") if "messages" in data else None
            self.warn(line, "messages", "no messages: add at least one {role, content}")
            return
        messages = self.expect_list(data, "messages")
        cases = data.get("testData")
        keys = {k for c in cases if isinstance(c, dict) for k in c} if isinstance(cases, list) else set()
        for i, message in enumerate(messages or ()):
            field = f"messages[{i}]"
            if not isinstance(message, dict):
                self.error(_line_of(messages, i), field, f"expected a mapping with role and content, got {describe(message)}")
                continue
            role = message.get("role")
            if "role" not in message:
                self.error(_node_line(message) or _line_of(messages, i), f"{field}.role", f"missing role: expected one of {', '.join(ROLES)}")
            elif not (isinstance(role, str) and role.lower() in ROLES):  # any case, as gh-models
                self.error(_line_of(message, "role"), f"{field}.role", f"unknown role {describe(role)}: expected one of {', '.join(ROLES)}")
            elif role.lower() == "developer":
                self.warn(_line_of(message, "role"), f"{field}.role", "GitHub Models refuses role developer: use system")
            self.expect_text(message, "content", f"{field}.content", required=True)
            self.spaced_placeholders(message, f"{field}.content", keys)

    def test_data(self, data: dict) -> None:
        cases = self.expect_list(data, "testData")
        for i, case in enumerate(cases or ()):
            field = f"testData[{i}]"
            if not isinstance(case, dict):
                self.error(_line_of(cases, i), field, f"expected a mapping of variable values, got {describe(case)}")
                continue
            for key, value in case.items():
                if not isinstance(key, str):
                    self.error(_key_line(case, key), field, f"variable names must be text, got {describe(key)}")
                elif value is None:  # any other value loads, lists and mappings included, as in gh-models
                    self.warn(_line_of(case, key), f"{field}.{key}", "GitHub sends null as <nil>: give a value or remove the key")

    def spaced_placeholders(self, message: dict, field: str, keys: set) -> None:
        """A warning at its line for each {{ name }} that GitHub leaves as written."""
        content = message.get("content")
        if not isinstance(content, str):
            return
        start = _line_of(message, "content")
        if start is not None and isinstance(content, (LiteralScalarString, FoldedScalarString)):
            start = _key_line(message, "content") + 1  # a block's text starts after its header
        for offset, placeholder in spaced_placeholders(content):
            if placeholder[2:-2] not in keys:  # a test-data key " name " would fill it
                line = None if start is None else start + content.count("\n", 0, offset)
                self.warn(line, field, spaced_hint(placeholder), "unspace-placeholder")

    def evaluators(self, data: dict, section: str, seen: dict[str, int | None]) -> None:
        """One evaluator list: GitHub's ``evaluators`` or promptbench's own section. Names
        are unique across both."""
        evaluators = self.expect_list(data, section)
        for i, ev in enumerate(evaluators or ()):
            field = f"{section}[{i}]"
            if not isinstance(ev, dict):
                what = f"expected a mapping with name and one of {', '.join(EVALUATOR_KINDS)}, got {describe(ev)}"
                self.error(_line_of(evaluators, i), field, what)
                continue
            line = _node_line(ev) or _line_of(evaluators, i)
            name = ev.get("name")
            self.expect_text(ev, "name", f"{field}.name", required=True)
            if isinstance(name, str):
                if name in seen:
                    what = f"duplicate evaluator name {name!r} (first on line {seen[name]}): names must be unique"
                    self.error(_line_of(ev, "name"), f"{field}.name", what)
                seen.setdefault(name, _line_of(ev, "name"))
            label = f"evaluator {name!r}" if isinstance(name, str) else "evaluator"
            kinds = [k for k in EVALUATOR_KINDS + EXTENSION_KINDS if k in ev]
            if not kinds:
                ours = f" (promptbench's own: {', '.join(EXTENSION_KINDS)}, under {EXTENSION_SECTION})"
                self.error(line, field, f"{label} has no kind: give one of {', '.join(EVALUATOR_KINDS)}"
                                        f"{ours if section == 'evaluators' else ', ' + ', '.join(EXTENSION_KINDS)}")
            elif len(kinds) > 1:
                self.error(line, field, f"{label} has several kinds ({', '.join(kinds)}): give exactly one")
            elif kinds[0] == "string":
                self.string_evaluator(ev, field)
            elif kinds[0] == "llm":
                self.llm_evaluator(ev, field)
            elif kinds[0] in EXTENSION_KINDS:
                # Fields are checked by core/evaluators when the evaluators are built.
                if section == "evaluators":
                    what = (f"`gh models eval` will stop at this evaluator: {kinds[0]} is promptbench's own kind; "
                            f"move it to {EXTENSION_SECTION}, which GitHub ignores")
                    self.warn(line, field, what, "move-evaluator")
            else:
                self.expect_text(ev, "uses", f"{field}.uses", required=True)
                uses = ev["uses"]
                if isinstance(uses, str) and uses not in BUILTIN_EVALUATORS:
                    what = f"unknown built-in evaluator {uses!r}: known are {', '.join(BUILTIN_EVALUATORS)}"
                    self.warn(_line_of(ev, "uses"), f"{field}.uses", what)
                elif isinstance(uses, str):
                    self.builtin_variables(data, ev, uses, f"{field}.uses")

    def builtin_variables(self, data: dict, ev: dict, uses: str, field: str) -> None:
        """A warning when test cases lack what a github/ built-in reads: GitHub sends the
        placeholder as written and the judge rates the text '{{expected}}'."""
        needed = BUILTIN_VARIABLES.get(uses, ())
        cases = [c for c in data.get("testData") or () if isinstance(c, dict)] if isinstance(data.get("testData"), list) else []
        for variable in needed:
            lacking = [i + 1 for i, case in enumerate(cases) if variable not in case]
            if cases and not lacking:
                continue
            role = " (its context)" if uses == "github/groundedness" and variable == "expected" else ""
            which = "no test case gives it" if not cases or len(lacking) == len(cases) else (
                f"test case{'s' if len(lacking) > 1 else ''} {', '.join(map(str, lacking))} lack{'' if len(lacking) > 1 else 's'} it")
            what = f"{uses} reads {{{{{variable}}}}}{role} from the test data, but {which}: GitHub sends {{{{{variable}}}}} as written"
            self.warn(_line_of(ev, "uses"), field, what)

    def string_evaluator(self, ev: dict, field: str) -> None:
        spec = ev["string"]
        field = f"{field}.string"
        if not isinstance(spec, dict):
            self.error(_line_of(ev, "string"), field, f"expected a mapping such as {{contains: ...}}, got {describe(spec)}")
            return
        # As gh models eval: unknown fields are ignored and the first non-empty of equals,
        # contains, startsWith, endsWith is used; none at all makes every result an error.
        for key in spec:
            if key not in STRING_CHECKS:
                what = f"unknown string check {describe(key)} is ignored: use one of {', '.join(STRING_CHECKS)}"
                self.warn(_key_line(spec, key), f"{field}.{key}", what)
        for key in STRING_CHECKS:
            value = spec.get(key)
            if value is not None and not isinstance(value, str) and not (isinstance(value, int) and not isinstance(value, bool)):
                self.expect_text(spec, key, f"{field}.{key}")
        order = ("equals", "contains", "startsWith", "endsWith")
        used = [k for k in order if spec.get(k) not in (None, "")]
        if not used:
            what = "no string evaluation criteria specified: give a non-empty one of " + ", ".join(order)
            self.warn(_line_of(ev, "string"), field, what + " (every test case's result is an error)")
        elif len(used) > 1:
            self.warn(_line_of(ev, "string"), field, f"several checks ({', '.join(used)}): only {used[0]} is used")

    def llm_evaluator(self, ev: dict, field: str) -> None:
        spec = ev["llm"]
        field = f"{field}.llm"
        if not isinstance(spec, dict):
            self.error(_line_of(ev, "llm"), field, f"expected a mapping with modelId, prompt and choices, got {describe(spec)}")
            return
        self.expect_text(spec, "modelId", f"{field}.modelId", required=True)
        self.expect_text(spec, "prompt", f"{field}.prompt", required=True)
        self.expect_text(spec, "systemPrompt", f"{field}.systemPrompt")
        if "threshold" in spec:  # promptbench's extension
            self.warn(_key_line(spec, "threshold"), f"{field}.threshold", "gh models eval ignores threshold and passes "
                                                                        "any choice scored above 0: verdicts can differ")
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            line = _line_of(spec, "choices") if "choices" in spec else _node_line(spec)
            self.error(line, f"{field}.choices", "expected a non-empty list of {choice, score}")
            return
        for j, choice in enumerate(choices):
            cfield = f"{field}.choices[{j}]"
            if not isinstance(choice, dict):
                self.error(_line_of(choices, j), cfield, f"expected a mapping {{choice, score}}, got {describe(choice)}")
                continue
            self.expect_text(choice, "choice", f"{cfield}.choice", required=True)
            if "score" not in choice:
                self.error(_node_line(choice), f"{cfield}.score", "missing 'score'")
            elif not is_number(choice["score"]):
                self.error(_line_of(choice, "score"), f"{cfield}.score", f"expected a number, got {describe(choice['score'])}")


def check(data: Any, source: str) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) for parsed prompt-file data."""
    checker = _Checker(source)
    checker.root(data)
    return checker.problems, checker.warnings


def validate(data: Any, source: str) -> list[Problem]:
    """Every problem that makes *data* unusable as a prompt file (warnings excluded)."""
    return check(data, source)[0]
