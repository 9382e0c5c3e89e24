"""Edits the structured view asks for, as functions of a ``PromptFile``.

Each one goes through PromptFile's mutation helpers (or its generic ``set``/``delete``,
which keep the existing ruamel nodes and so their comments and styles), never by
rewriting the text. The structured view emits these; the editor applies them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from promptbench.core.prompts.promptfile import PromptFile

Edit = Callable[[PromptFile], None]


def set_field(key: str, value: Any) -> Edit:
    return lambda prompt: prompt.set_field(key, value)


def set_parameter(key: str, value: Any) -> Edit:
    def apply(prompt: PromptFile) -> None:
        prompt.set_model_parameter(key, value)
        if value is None and not prompt.data.get("modelParameters"):
            prompt.set_field("modelParameters", None)
    return apply


def rename_parameter(old: str, new: str) -> Edit:
    def apply(prompt: PromptFile) -> None:
        value = prompt.model_parameters_in_file.get(old)
        prompt.set_model_parameter(old, None)
        prompt.set_model_parameter(new, value)
    return apply


def set_message(index: int, role: str | None = None, content: str | None = None) -> Edit:
    return lambda prompt: prompt.set_message(index, role=role, content=content)


def add_message(role: str, content: str = "") -> Edit:
    return lambda prompt: prompt.add_message(role, content)


def remove_message(index: int) -> Edit:
    return lambda prompt: prompt.remove_message(index)


def move_message(index: int, delta: int) -> Edit:
    """Swap message *index* with its neighbour; the moved nodes keep their comments."""
    def apply(prompt: PromptFile) -> None:
        items = list(prompt.data.get("messages") or [])
        other = index + delta
        if 0 <= index < len(items) and 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
            prompt.set(["messages"], items)
    return apply


def set_test_value(row: int, key: str, value: Any) -> Edit:
    """Set (or with ``None`` remove) one variable of test case *row*."""
    def apply(prompt: PromptFile) -> None:
        values = dict(prompt.data["testData"][row])  # ruamel values keep their style
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
        prompt.set_test_case(row, values)
    return apply


def add_test_case(values: dict | None = None) -> Edit:
    return lambda prompt: prompt.add_test_case(values or {})


def remove_test_case(row: int) -> Edit:
    def apply(prompt: PromptFile) -> None:
        prompt.remove_test_case(row)
        if not prompt.data.get("testData"):
            prompt.set_field("testData", None)
    return apply


def remove_test_key(key: str) -> Edit:
    """Remove variable *key* from every test case (a table column)."""
    def apply(prompt: PromptFile) -> None:
        for row, case in enumerate(prompt.data.get("testData") or []):
            if isinstance(case, dict) and key in case:
                prompt.set_test_case(row, {k: v for k, v in case.items() if k != key})
    return apply


def add_string_evaluator(name: str, check: str, value: str) -> Edit:
    def apply(prompt: PromptFile) -> None:
        items = list(prompt.data.get("evaluators") or [])
        prompt.set_field("evaluators", items + [{"name": name, "string": {check: value}}])
    return apply


def remove_evaluator(field: str) -> Edit:
    """Remove the evaluator at *field* (``evaluators[2]``, ``promptbenchEvaluators[0]``)."""
    section, _, index = field.rstrip("]").partition("[")

    def apply(prompt: PromptFile) -> None:
        prompt.delete([section, int(index)])
        if not prompt.data.get(section):
            prompt.set_field(section, None)
    return apply
