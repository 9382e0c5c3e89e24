"""Structured diffs between prompt versions and the one-line change descriptions."""

from __future__ import annotations

import copy
import json

import pytest

from promptbench.core.prompts.diff import align, describe_change, structured_diff
from promptbench.core.prompts.promptfile import parse_prompt

BASE = {
    "name": "Greeter",
    "description": "Says hello",
    "model": "openai/gpt-4o-mini",
    "modelParameters": {"temperature": 0.2, "maxTokens": 64},
    "messages": [
        {"role": "system", "content": "You are friendly."},
        {"role": "user", "content": "Say hello to {{name}}."},
    ],
    "testData": [{"name": "Ada"}, {"name": "Linus"}],
    "evaluators": [{"name": "mentions", "string": {"contains": "Ada"}}],
}


def edited(**changes) -> dict:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_identical_versions():
    diff = structured_diff(BASE, copy.deepcopy(BASE))
    assert diff["change"] == "unchanged"
    assert all(diff[k] == [] for k in ("fields", "modelParameters", "messages", "testData", "evaluators", "other"))
    assert diff["summary"] == "no change"
    assert describe_change(BASE, copy.deepcopy(BASE)) == "No change"


def test_created_and_deleted():
    created = structured_diff(None, BASE)
    assert created["change"] == "created" and created["summary"] == "prompt created"
    assert len(created["messages"]) == 2 and {m["change"] for m in created["messages"]} == {"added"}
    assert structured_diff(BASE, None)["change"] == "deleted"
    assert describe_change(None, BASE) == "Create prompt"
    assert describe_change(BASE, None) == "Delete prompt"
    assert structured_diff(None, None)["change"] == "unchanged"


def test_scalar_fields_and_parameters():
    new = edited(model="openai/gpt-4o", modelParameters={"temperature": 0.7, "topP": 0.9})
    diff = structured_diff(BASE, new)
    assert diff["fields"] == [{"field": "model", "old": "openai/gpt-4o-mini", "new": "openai/gpt-4o"}]
    assert diff["modelParameters"] == [
        {"key": "temperature", "old": 0.2, "new": 0.7, "change": "changed"},
        {"key": "topP", "old": None, "new": 0.9, "change": "added"},
        {"key": "maxTokens", "old": 64, "new": None, "change": "removed"},
    ]
    assert describe_change(BASE, new) == "Change model to openai/gpt-4o; temperature 0.2 → 0.7; Set topP 0.9 (+1 more)"
    assert describe_change(BASE, edited(modelParameters={"temperature": 0.2})) == "Remove maxTokens"


def test_spec_example_edit_system_message_and_temperature():
    new = edited(modelParameters={"temperature": 0.7, "maxTokens": 64})
    new["messages"][0]["content"] = "You are terse."
    diff = structured_diff(BASE, new)
    assert diff["messages"] == [{
        "index": 0, "old_index": 0, "new_index": 0, "change": "changed", "role": None,
        "content": {"old": "You are friendly.", "new": "You are terse."},
    }]
    assert diff["summary"] == "1 message changed, temperature 0.2→0.7"
    assert describe_change(BASE, new) == "Edit system message; temperature 0.2 → 0.7"


def test_inserting_a_message_in_the_middle_is_one_addition():
    new = edited()
    new["messages"].insert(1, {"role": "assistant", "content": "Hi!"})
    new["messages"].append({"role": "assistant", "content": "Bye"})
    diff = structured_diff(BASE, new)
    assert [(m["change"], m["old_index"], m["new_index"]) for m in diff["messages"]] == [("added", None, 1), ("added", None, 3)]
    assert diff["messages"][0]["role"] == {"old": None, "new": "assistant"}
    assert describe_change(BASE, new) == "Add 2 messages"


def test_edit_next_to_an_insertion_pairs_by_role():
    new = edited()
    new["messages"] = [
        {"role": "system", "content": "You are formal."},
        {"role": "assistant", "content": "Example reply"},
        {"role": "user", "content": "Say hello to {{name}}."},
    ]
    changes = [(m["change"], m["old_index"], m["new_index"]) for m in structured_diff(BASE, new)["messages"]]
    assert changes == [("changed", 0, 0), ("added", None, 1)]
    assert describe_change(BASE, new) == "Edit system message; Add assistant message"


def test_removed_message_and_role_change():
    removed = edited(messages=[BASE["messages"][1]])
    diff = structured_diff(BASE, removed)
    assert [(m["change"], m["index"]) for m in diff["messages"]] == [("removed", 0)]
    assert diff["messages"][0]["content"] == {"old": "You are friendly.", "new": None}
    assert describe_change(BASE, removed) == "Remove system message"
    role = edited()
    role["messages"][0]["role"] = "developer"
    diff = structured_diff(BASE, role)
    assert diff["messages"][0]["role"] == {"old": "system", "new": "developer"} and diff["messages"][0]["content"] is None
    assert describe_change(BASE, role) == "Change message 1 role to developer"


def test_same_role_twice_is_named_by_position():
    base = edited(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    new = edited(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "c"}])
    assert describe_change(base, new) == "Edit message 2"


def test_test_data_by_index_with_per_key_changes():
    new = edited(testData=[{"name": "Ada", "place": "Paris"}, {"name": "Linus"}, {"name": "Grace"}, {"name": "Alan"}])
    diff = structured_diff(BASE, new)
    assert diff["testData"][0] == {
        "index": 0, "old_index": 0, "new_index": 0, "change": "changed",
        "keys": [{"key": "place", "old": None, "new": "Paris", "change": "added"}],
    }
    assert [(t["change"], t["index"]) for t in diff["testData"][1:]] == [("added", 2), ("added", 3)]
    assert diff["testData"][1]["keys"] == [{"key": "name", "old": None, "new": "Grace", "change": "added"}]
    assert describe_change(BASE, new) == "Edit test case 1; Add 2 test cases"
    assert describe_change(BASE, edited(testData=BASE["testData"] + [{"name": "x"}, {"name": "y"}])) == "Add 2 test cases"
    assert describe_change(BASE, edited(testData=[{"name": "Linus"}])) == "Remove test case 1"


def test_test_case_inserted_first_is_one_addition():
    new = edited(testData=[{"name": "Zed"}, *BASE["testData"]])
    assert [(t["change"], t["index"]) for t in structured_diff(BASE, new)["testData"]] == [("added", 0)]


def test_evaluators_matched_by_name():
    new = edited(evaluators=[
        {"name": "similar", "uses": "github/similarity"},
        {"name": "mentions", "string": {"contains": "Linus"}},
    ])
    diff = structured_diff(BASE, new)
    assert diff["evaluators"] == [
        {"name": "similar", "change": "added", "old": None, "new": {"name": "similar", "uses": "github/similarity"},
         "section": "evaluators", "old_section": "evaluators"},
        {"name": "mentions", "change": "changed", "old": BASE["evaluators"][0], "new": new["evaluators"][1],
         "section": "evaluators", "old_section": "evaluators"},
    ]
    assert describe_change(BASE, new) == "Edit evaluator mentions; Add evaluator similar"
    gone = structured_diff(BASE, edited(evaluators=None))["evaluators"]
    assert gone == [{"name": "mentions", "change": "removed", "old": BASE["evaluators"][0], "new": None,
                     "section": "evaluators", "old_section": "evaluators"}]


def test_an_evaluator_moved_to_promptbench_evaluators_is_a_change_named_as_a_move():
    regex = {"name": "digits", "regex": {"pattern": "[0-9]+"}}
    before = edited(evaluators=[*BASE["evaluators"], regex])
    after = edited(evaluators=BASE["evaluators"], promptbenchEvaluators=[regex])
    diff = structured_diff(before, after)
    assert diff["evaluators"] == [{"name": "digits", "change": "changed", "old": regex, "new": regex,
                                   "section": "promptbenchEvaluators", "old_section": "evaluators"}]
    assert diff["other"] == []  # a known field, not an unknown one
    assert describe_change(before, after) == "Move evaluator digits to promptbenchEvaluators"


def test_unknown_fields_go_to_other():
    new = edited(**{"x-owner": "me"})
    diff = structured_diff(BASE, new)
    assert diff["other"] == [{"field": "x-owner", "old": None, "new": "me", "change": "added"}]
    assert describe_change(BASE, new) == "Add field x-owner"


def test_name_description_schema_and_format():
    new = edited(name="Welcomer", description="New text", responseFormat="json_object")
    assert describe_change(BASE, new) == "Rename to Welcomer; Edit description; Set response format to json_object"
    schema = edited(responseFormat="json_schema", jsonSchema={"name": "x", "schema": {}})
    assert "Edit JSON schema" in describe_change(BASE, schema)


def test_long_descriptions_are_cut_to_a_subject_line():
    new = edited(name="A longer greeter name", description="x", model="openai/gpt-4.1")
    new["messages"][0]["content"] = "changed"
    new["testData"].append({"name": "Grace"})
    subject = describe_change(BASE, new)
    assert subject == "Rename to A longer greeter name; Edit description (+3 more)"
    long_name = describe_change(BASE, edited(name="x" * 100))
    assert long_name == "Rename to " + "x" * 29 + "…"


def test_many_parameters_are_counted():
    new = edited(modelParameters={"temperature": 1, "maxTokens": 2, "topP": 0.5, "seed": 1})
    assert describe_change(BASE, new) == "Change 4 model parameters"


def test_accepts_prompt_files_and_is_json_serialisable():
    old = parse_prompt("# c\nname: A\nmessages:\n  - role: user\n    content: hi\ntestData:\n  - when: 2024-05-01\n", "a.prompt.yml")
    new = parse_prompt("name: A\nmessages:\n  - role: user\n    content: hello\ntestData:\n  - when: 2024-05-02\n", "a.prompt.yml")
    diff = structured_diff(old, new)
    assert json.loads(json.dumps(diff)) == diff
    assert diff["testData"][0]["keys"] == [{"key": "when", "old": "2024-05-01", "new": "2024-05-02", "change": "changed"}]
    assert describe_change(old, new) == "Edit user message; Edit test case 1"
    assert describe_change(old, parse_prompt(old.dumps(), "a.prompt.yml")) == "No change"


def test_tolerates_malformed_plain_data():
    diff = structured_diff({"messages": "oops", "testData": [1, 2]}, {"messages": [{"role": "user"}], "testData": [2]})
    assert [m["change"] for m in diff["messages"]] == ["added"]
    assert [t["change"] for t in diff["testData"]] == ["removed"]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("abc", "abc", []),
        ("abc", "aXbc", [("added", None, 1)]),
        ("abc", "ac", [("removed", 1, None)]),
        ("abc", "aBc", [("changed", 1, 1)]),
        ("", "ab", [("added", None, 0), ("added", None, 1)]),
    ],
)
def test_align(old, new, expected):
    assert align(list(old), list(new), key=lambda c: c, loose=lambda c: c.lower()) == expected
