"""One-click repairs for what ``promptschema`` reports where GitHub would read a file
differently (a ``Problem`` whose ``fix`` names one of these).

Every repair takes the file's whole text and returns the new text, changed only where
the fix needs it (the rest byte for byte, through ``PromptFile``'s minimal-diff saving
or an edit of the one line), and checked by reading the result back: a repair that
would change anything else raises ``PromptbenchError`` instead of returning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ruamel.yaml.scalarstring import LiteralScalarString

from promptbench.core.prompts import yamlio
from promptbench.core.errors import Problem, PromptbenchError
from promptbench.core.prompts.promptfile import PromptFile
from promptbench.core.prompts.schema import EXTENSION_SECTION, GITHUB_IGNORED_PARAMETERS
from promptbench.core.prompts.templating import SPACED

_BOM = "\ufeff"
_INDEXED = re.compile(r"^(\w+)\[(\d+)\]$")


def fix_label(problem: Problem) -> str | None:
    """What the fix's button says, or None when the problem has no one-click fix."""
    if problem.fix == "move-evaluator":
        return f"Move to {EXTENSION_SECTION}"
    if problem.fix == "rename-parameter":
        old = problem.field.rpartition(".")[2]
        new = GITHUB_IGNORED_PARAMETERS.get(old)
        return f"Rename to {new}" if new else None
    if problem.fix == "jsonschema-to-string":
        return "Write as a JSON string"
    if problem.fix == "unspace-placeholder":
        return "Remove the spaces"
    if problem.fix == "quote-value":
        return "Quote it as text"
    return None


def apply_fix(text: str, problem: Problem) -> str:
    """*text* with *problem* repaired; raises PromptbenchError when it cannot be."""
    repair = _REPAIRS.get(problem.fix or "")
    if repair is None:
        raise PromptbenchError(f"{problem.file}: {problem.field}: there is no automatic fix for this; edit it by hand")
    return repair(text, problem)


# -- the repairs -----------------------------------------------------------------------
def _editable(text: str, source: str) -> PromptFile:
    """The text as a PromptFile, also when it has problems (a fix may be what repairs them)."""
    try:
        data = yamlio.load(text.removeprefix(_BOM))
    except Exception as exc:  # noqa: BLE001 - any parse failure: the fix cannot apply
        raise PromptbenchError(f"{source}: the YAML does not parse ({exc}); fix that first") from None
    if not isinstance(data, dict):
        raise PromptbenchError(f"{source}: not a mapping of fields; fix that first")
    return PromptFile(data, source, text, warnings=[])


def _plain(text: str) -> Any:
    return yamlio.to_plain(yamlio.load(text.removeprefix(_BOM)))


def _move_evaluator(text: str, problem: Problem) -> str:
    found = _INDEXED.match(problem.field)
    prompt = _editable(text, problem.file)
    items = prompt.data.get("evaluators")
    if not found or found.group(1) != "evaluators" or not isinstance(items, list) or int(found.group(2)) >= len(items):
        raise PromptbenchError(f"{problem.file}: {problem.field}: that evaluator is no longer there")
    index = int(found.group(2))
    spec = yamlio.to_plain(items[index])
    ours = prompt.data.get(EXTENSION_SECTION)
    moved = [*(yamlio.to_plain(ours) if isinstance(ours, list) else []), spec]
    prompt.delete(["evaluators", index])
    if not items:
        prompt.set_field("evaluators", None)
    prompt.set_field(EXTENSION_SECTION, moved)
    new = prompt.dumps()
    before, after = _plain(text), _plain(new)
    expected = dict(before)
    expected["evaluators"] = [e for i, e in enumerate(before["evaluators"]) if i != index]
    if not expected["evaluators"]:
        del expected["evaluators"]
    expected[EXTENSION_SECTION] = moved
    _check(after, expected, problem)
    return new


def _json_schema_to_string(text: str, problem: Problem) -> str:
    prompt = _editable(text, problem.file)
    schema = prompt.data.get("jsonSchema")
    if not isinstance(schema, dict):
        raise PromptbenchError(f"{problem.file}: jsonSchema is not a mapping any more: nothing to convert")
    written = json.dumps(yamlio.to_plain(schema), indent=2, ensure_ascii=False)
    prompt.set_field("jsonSchema", LiteralScalarString(written))
    new = prompt.dumps()
    expected = dict(_plain(text))
    expected["jsonSchema"] = written
    _check(_plain(new), expected, problem)
    return new


def _rename_parameter(text: str, problem: Problem) -> str:
    old = problem.field.rpartition(".")[2]
    new_key = GITHUB_IGNORED_PARAMETERS.get(old)
    before = _plain(text)
    params = before.get("modelParameters") if isinstance(before, dict) else None
    if not new_key or not isinstance(params, dict) or old not in params:
        raise PromptbenchError(f"{problem.file}: modelParameters.{old} is no longer there")
    expected = dict(before)
    if new_key in params:  # maxTokens is already set: the ignored duplicate just goes
        prompt = _editable(text, problem.file)
        prompt.set_model_parameter(old, None)
        new = prompt.dumps()
        expected["modelParameters"] = {k: v for k, v in params.items() if k != old}
    else:
        key = re.compile(r"(?<![\w-])([\"']?)" + re.escape(old) + r"\1(?=\s*:)")
        new = _edit_line(text, problem, lambda line: key.sub(lambda m: m.group(1) + new_key + m.group(1), line, count=1))
        expected["modelParameters"] = {(new_key if k == old else k): v for k, v in params.items()}
    _check(_plain(new), expected, problem)
    return new


def _unspace(text: str) -> str:
    return SPACED.sub(lambda m: "{{" + m.group(1).strip() + "}}" if m.group(1).strip() else m.group(0), text)


def _unspace_placeholder(text: str, problem: Problem) -> str:
    """``{{ name }}`` -> ``{{name}}`` on the problem's line; the read-back may differ from
    the original only in such spaces (checked on the whole file, unspaced)."""
    new = _edit_line(text, problem, _unspace)
    before, after = _plain(text), _plain(new)
    _check(json.loads(_unspace(json.dumps(after, default=str))), json.loads(_unspace(json.dumps(before, default=str))), problem)
    return new


def _quote_value(text: str, problem: Problem) -> str:
    """``content: 42`` -> ``content: '42'``: the number's text as written, now a string
    (GitHub reads it as that text; promptbench wants it quoted so nothing is guessed)."""
    key = problem.field.rpartition(".")[2]
    path = _path_of(problem.field)
    before = _plain(text)
    value = _at(before, path)
    pattern = re.compile(r"((?<![\w-])[\"']?" + re.escape(key) + r"[\"']?\s*:[ \t]*)([-+.\w]+)(?=[ \t]*(?:[,}#]|$))")
    written: list[str] = []

    def quote(line: str) -> str:
        def one(m: re.Match) -> str:
            written.append(m.group(2))
            return f"{m.group(1)}'{m.group(2)}'"
        return pattern.sub(one, line.rstrip("\r\n"), count=1) + line[len(line.rstrip("\r\n")):]

    new = _edit_line(text, problem, quote)
    expected = _with(before, path, written[0] if written else value)
    _check(_plain(new), expected, problem)
    return new


def _path_of(field: str) -> list[str | int]:
    """``messages[0].content`` -> ["messages", 0, "content"]."""
    path: list[str | int] = []
    for part in field.split("."):
        name, *indexes = part.split("[")
        path.append(name)
        path += [int(i.rstrip("]")) for i in indexes]
    return path


def _at(node: Any, path: list) -> Any:
    for key in path:
        node = node[key]
    return node


def _with(node: Any, path: list, value: Any) -> Any:
    copy = json.loads(json.dumps(node, default=str))
    _at(copy, path[:-1])[path[-1]] = value
    return copy


def _edit_line(text: str, problem: Problem, change: Callable[[str], str]) -> str:
    if not problem.line:
        raise PromptbenchError(f"{problem.file}: {problem.field}: its line is unknown; edit it by hand")
    lines = text.splitlines(keepends=True)
    index = problem.line - 1
    if index >= len(lines):
        raise PromptbenchError(f"{problem.file}:{problem.line}: the file is shorter now; check again")
    changed = change(lines[index])
    if changed == lines[index]:
        raise PromptbenchError(f"{problem.file}:{problem.line}: nothing to change on that line any more")
    lines[index] = changed
    return "".join(lines)


def _check(after: Any, expected: Any, problem: Problem) -> None:
    if after != expected:
        raise PromptbenchError(f"{problem.file}: {problem.field}: the fix would change more than it should; "
                               "edit it by hand")


_REPAIRS: dict[str, Callable[[str, Problem], str]] = {
    "move-evaluator": _move_evaluator,
    "jsonschema-to-string": _json_schema_to_string,
    "rename-parameter": _rename_parameter,
    "unspace-placeholder": _unspace_placeholder,
    "quote-value": _quote_value,
}
