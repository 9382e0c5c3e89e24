"""The sample prompts in prompts/: the demo workspace a new user opens first."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from promptbench.core.prompts import yamlio
from promptbench.core.prompts.diff import describe_change
from promptbench.core.prompts.promptfile import load_prompt, parse_prompt, render, require_complete

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
SAMPLES = sorted(PROMPTS.glob("*.prompt.yml"))
NAMES = [p.name for p in SAMPLES]


def test_there_are_five_samples():
    assert NAMES == [
        "classify-ticket.prompt.yml",
        "extract-contacts.prompt.yml",
        "grounded-answer.prompt.yml",
        "rewrite-tone.prompt.yml",
        "summarize.prompt.yml",
    ]


@pytest.fixture(params=SAMPLES, ids=NAMES)
def sample(request) -> Path:
    return request.param


def test_sample_is_valid_without_warnings(sample):
    prompt = load_prompt(sample)
    assert prompt.warnings == []
    assert prompt.problems() == []
    assert prompt.name and prompt.description
    assert prompt.model and prompt.model.startswith("openai/")


def test_sample_fits_small_local_models(sample):
    prompt = load_prompt(sample)
    assert 0 < prompt.model_parameters["maxTokens"] <= 256
    assert "temperature" in prompt.model_parameters
    for message in prompt.messages:
        assert len(message.content) < 600
    for case in prompt.test_data:
        assert all(len(str(v)) < 300 for v in case.values())


def test_sample_has_variables_and_complete_test_cases(sample):
    prompt = load_prompt(sample)
    assert prompt.variables
    assert 3 <= len(prompt.test_data) <= 5
    for i in range(len(prompt.test_data)):
        rendered = render(prompt, i)
        require_complete(rendered, prompt.source)
        assert rendered.unused == []
        assert all("{{" not in m["content"] for m in rendered.messages)
    assert all("expected" in case for case in prompt.test_data)


def test_sample_has_a_string_evaluator(sample):
    evaluators = load_prompt(sample).evaluators
    assert any("string" in e for e in evaluators) or sample.name == "grounded-answer.prompt.yml"
    assert len({e["name"] for e in evaluators}) == len(evaluators)


def test_samples_use_judges_and_structured_output():
    prompts = [load_prompt(p) for p in SAMPLES]
    assert any("llm" in e for p in prompts for e in p.evaluators)
    assert any(e.get("uses") == "github/similarity" for p in prompts for e in p.evaluators)
    classify = load_prompt(PROMPTS / "classify-ticket.prompt.yml")
    assert classify.response_format == "json_schema"
    schema = classify.json_schema
    assert schema["name"] and schema["schema"]["required"] == ["category", "urgency"]
    assert load_prompt(PROMPTS / "extract-contacts.prompt.yml").response_format == "json_object"
    grounded = load_prompt(PROMPTS / "grounded-answer.prompt.yml")
    assert any(case["expected"] == "I don't know." for case in grounded.test_data)


def test_sample_round_trips_byte_identical(sample):
    text = sample.read_text(encoding="utf-8")
    prompt = load_prompt(sample)
    assert prompt.dumps() == text
    # ruamel alone reproduces the samples too, so edits never reformat them.
    assert yamlio.dump(prompt.data, prompt._indent, prompt._explicit_start) == text


def test_samples_are_hand_written_with_comments():
    commented = [p.name for p in SAMPLES if any(line.lstrip().startswith("#") for line in p.read_text().splitlines())]
    assert len(commented) >= 3


def test_editing_a_sample_changes_one_line(sample):
    text = sample.read_text(encoding="utf-8")
    prompt = parse_prompt(text, sample.name)
    prompt.set_model_parameter("maxTokens", 200)
    out = prompt.dumps()
    diff = [line for line in difflib.unified_diff(text.splitlines(), out.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert len(diff) == 2 and diff[0].startswith("-") and "maxTokens: 200" in diff[1], diff
    assert describe_change(load_prompt(sample), prompt).startswith("maxTokens ")
