"""``{{name}}`` placeholders: find them and substitute values.

Rendering is pure string substitution, never evaluation: anything inside braces that
is not a plain variable name (``{{ ''.__class__ }}``, ``{{}}``) stays literal text,
and substituted values are never scanned again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import Problem, PromptFileError

if TYPE_CHECKING:
    from .promptfile import PromptFile

# Spaces and tabs only: a placeholder never spans lines.
PLACEHOLDER = re.compile(r"\{\{[ \t]*([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*\}\}")


def find_variables(text: str) -> list[str]:
    """Names of the ``{{vars}}`` in *text*, each once, in first-seen order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def find_variables_in(texts: Iterable[str]) -> list[str]:
    names: dict[str, None] = {}
    for text in texts:
        for name in PLACEHOLDER.findall(text):
            names.setdefault(name, None)
    return list(names)


def value_text(value: object) -> str:
    """How a test value is written into a prompt: ``None`` is empty, others via ``str``."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """Replace each placeholder whose name is in *values*; leave the others as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return values[name] if name in values else match.group(0)

    return PLACEHOLDER.sub(replace, text)


@dataclass
class Rendered:
    messages: list[dict]
    missing: list[str] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


def render(prompt: PromptFile, test_case: int | dict | None = None, values: dict | None = None) -> Rendered:
    """Substitute ``{{vars}}`` from a test case (index or mapping), overridden by *values*."""
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
    used = prompt.variables
    texts = {name: value_text(given[name]) for name in used if name in given}
    messages = [{"role": m.role, "content": substitute(m.content, texts)} for m in prompt.messages]
    # Values that evaluators read ({{expected}}, {{completion}}...) are not unused.
    evaluator_refs = set(find_variables_in(_strings(prompt.evaluators))) | {"expected"}
    unused = [k for k in given if k not in used and k not in evaluator_refs]
    return Rendered(messages, [v for v in used if v not in given], unused, texts)


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def require_complete(rendered: Rendered, source: str) -> None:
    """Raise when a variable has no value, naming each one."""
    if rendered.missing:
        names = ", ".join("{{" + name + "}}" for name in rendered.missing)
        noun = "variable" if len(rendered.missing) == 1 else "variables"
        raise PromptFileError([Problem(source, None, "messages", f"no value for {noun} {names}: add it to the test case or give a value")])
