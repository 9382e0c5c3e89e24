"""``{{name}}`` placeholders as GitHub Models fills them (gh-models ``prompt.TemplateString``).

For every test-data key, the exact text ``{{key}}`` is replaced by the key's value;
nothing else is a placeholder: ``{{ name }}``, ``{{.name}}`` and ``{{Name}}`` stay as
written for the key ``name``, and a ``{{var}}`` with no value stays as written. Any key
works (``user name``, ``first-name``). Values that are not text are written as Go's
``%v`` writes them: ``true``, ``1`` for 1.0, ``<nil>`` for null, ``[a b]`` for a list,
``map[k:v]`` for a mapping.

Rendering is pure string substitution, never evaluation, and it is single-pass:
substituted values are never scanned again (gh-models replaces key by key in map
order, so a value holding another key's placeholder depends on that order; here it
stays as written).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from promptbench.core.errors import Problem, PromptFileError


class Template(Protocol):
    """What ``render`` reads of a prompt file (core/prompts/promptfile.PromptFile)."""

    source: str
    messages: list
    test_data: list
    evaluators: list

# A variable GitHub fills: {{key}} where key is written exactly, without braces, line
# breaks or spaces at either end (a test-data key could hold those, but nobody writes one).
VARIABLE = re.compile(r"\{\{([^{}\s](?:[^{}\r\n]*[^{}\s])?)\}\}")
# {{ name }}: spaces inside the braces, so GitHub leaves it as written.
SPACED = re.compile(r"\{\{([ \t]+[^{}\r\n]*?|[^{}\r\n]*?[ \t]+)\}\}")
# The older, looser pattern ({{ name }} included), still used where a placeholder is only
# recognised, not filled (evaluator templates).
PLACEHOLDER = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*\}\}")


def find_variables(text: str) -> list[str]:
    """Names of the ``{{vars}}`` in *text*, each once, in first-seen order."""
    return list(dict.fromkeys(VARIABLE.findall(text)))


def find_variables_in(texts: Iterable[str]) -> list[str]:
    names: dict[str, None] = {}
    for text in texts:
        for name in VARIABLE.findall(text):
            names.setdefault(name, None)
    return list(names)


def spaced_placeholders(text: str) -> list[tuple[int, str]]:
    """(offset, placeholder) of each ``{{ name }}`` that GitHub does not fill."""
    return [(m.start(), m.group(0)) for m in SPACED.finditer(text) if m.group(1).strip()]


def spaced_hint(placeholder: str) -> str:
    """The warning for a ``{{ name }}``: what to write instead."""
    return f"GitHub will not substitute {placeholder}: write {{{{{placeholder[2:-2].strip()}}}}}"


def value_text(value: object) -> str:
    """A value as plain text: ``None`` is empty, others via ``str`` (not what GitHub sends:
    see ``gh_text``)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def gh_text(value: object) -> str:
    """A test value as GitHub writes it into a prompt: Go's ``fmt.Sprintf("%v", value)``."""
    if value is None:
        return "<nil>"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # YAML integers beyond 64 bits decode as float64 in Go.
        return str(int(value)) if -(2**63) <= value < 2**64 else _go_float(float(value))
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, Mapping):
        # fmt prints a map's keys sorted.
        items = sorted(value.items(), key=lambda kv: (not isinstance(kv[0], str), type(kv[0]).__name__, _sort_key(kv[0])))
        return "map[" + " ".join(f"{gh_text(k)}:{gh_text(v)}" for k, v in items) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(gh_text(v) for v in value) + "]"
    return str(value)


def _sort_key(key: Any) -> Any:
    return key if isinstance(key, (str, int, float)) and not isinstance(key, bool) else str(key)


def _go_float(x: float) -> str:
    """strconv.FormatFloat(x, 'g', -1, 64): shortest digits; %e when the exponent is
    below -4 or at least 6 (Go prints 1e+06, not 1000000)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    if x == 0:
        return "-0" if math.copysign(1, x) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    point = len(digits) + int(exponent)  # value = 0.<digits> * 10**point
    exp10 = point - 1
    neg = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return neg + digits + "0" * (point - len(digits))
    return f"{neg}{digits[:point]}.{digits[point:]}"


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``{{key}}`` (written exactly) whose key is in *values*; the rest stays as
    written. One pass: a replacement is never scanned again."""
    keys = [k for k in values if "{{" + k + "}}" in text]
    if not keys:
        return text
    # Longest first, so a key that contains another key's placeholder wins deterministically.
    pattern = re.compile("|".join(re.escape("{{" + k + "}}") for k in sorted(keys, key=len, reverse=True)))
    return pattern.sub(lambda match: values[match.group(0)[2:-2]], text)


@dataclass
class Rendered:
    messages: list[dict]
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    # Where what GitHub sends may surprise: a variable left as written, a null sent as <nil>.
    warnings: list[Problem] = field(default_factory=list)


def render(prompt: Template, test_case: int | dict | None = None, values: dict | None = None) -> Rendered:
    """Fill ``{{key}}`` in every message from a test case (index or mapping), overridden by
    *values*, as GitHub does. A variable with no value stays as written and is listed in
    ``missing`` (``require_complete`` refuses it for callers that want every value)."""
    given: dict[str, Any] = {}
    if isinstance(test_case, int) and not isinstance(test_case, bool):
        cases = prompt.test_data
        if not 0 <= test_case < len(cases):
            count = f"{len(cases)} test case{'s' if len(cases) != 1 else ''}"
            raise PromptFileError([Problem(prompt.source, None, "testData", f"no test case {test_case}: the file has {count}")])
        given.update(cases[test_case])
    elif test_case is not None:
        given.update(test_case)
    given.update(values or {})
    given = {str(k): v for k, v in given.items()}
    texts = {key: gh_text(value) for key, value in given.items()}
    contents = [m.content for m in prompt.messages]
    variables = find_variables_in(contents)
    used = [k for k in variables if k in given] + [
        k for k in given if k not in variables and any("{{" + k + "}}" in c for c in contents)
    ]
    messages = [{"role": m.role, "content": substitute(m.content, texts)} for m in prompt.messages]
    # Values that evaluators read ({{expected}}, {{completion}}...) are not unused.
    evaluator_texts = _strings(prompt.evaluators)
    unused = [k for k in given if k not in used and k != "expected" and not any("{{" + k + "}}" in s for s in evaluator_texts)]
    missing = [v for v in variables if v not in given]
    warnings = []
    if missing:
        names = ", ".join("{{" + name + "}}" for name in missing)
        noun = "variable" if len(missing) == 1 else "variables"
        warnings.append(Problem(prompt.source, None, "messages", f"no value for {noun} {names}: GitHub sends it as written"))
    for key in used:
        if given[key] is None:
            warnings.append(Problem(prompt.source, None, "testData", f"{{{{{key}}}}} is null: GitHub sends null as <nil>"))
    return Rendered(messages, missing, unused, {k: texts[k] for k in used}, warnings)


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def require_complete(rendered: Rendered, source: str) -> None:
    """The strict option: raise when a variable has no value, naming each one. GitHub sends
    such a variable as written; callers that must not (a paid run) call this."""
    if rendered.missing:
        names = ", ".join("{{" + name + "}}" for name in rendered.missing)
        noun = "variable" if len(rendered.missing) == 1 else "variables"
        raise PromptFileError([Problem(source, None, "messages", f"no value for {noun} {names}: add it to the test case or give a value")])
