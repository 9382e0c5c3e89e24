"""Templating and loading as GitHub Models does it (github/gh-models, commit f38cd97).

Each test names, as a marker, the gh-models test case it replays (``gh_case``: the line where
the case's t.Run or table entry starts) or the line of gh-models code whose rule it checks
where gh-models' tests assert none (``gh_rule``); comments name the asserting lines. The test
files are written here from the rules; no gh-models file is copied.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from promptbench.core.errors import PromptFileError
from promptbench.core.prompts.params import request_params
from promptbench.core.prompts.promptfile import parse_prompt, render
from promptbench.core.prompts.templating import find_variables, gh_text, substitute

SRC = "gh.prompt.yml"


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def one_user(content: str, test_data: str = "") -> str:
    return f"messages:\n  - role: user\n    content: {json.dumps(content)}\n" + test_data


# -- templating: pkg/prompt TemplateString ----------------------------------------------
@pytest.mark.gh_case("pkg/prompt/prompt_test.go:61")
def test_template_string_fills_text_and_numbers():
    # asserted at prompt_test.go:69 ("Hello World, you are 25 years old")
    assert substitute("Hello {{name}}, you are {{age}} years old", {"name": "World", "age": gh_text(25)}) == \
        "Hello World, you are 25 years old"


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:72")
def test_template_string_leaves_a_missing_variable_as_written():
    # asserted at prompt_test.go:79 ("Hello World, you are {{missing}} years old")
    prompt = parse_prompt(one_user("Hello {{name}}, you are {{missing}} years old"), SRC)
    r = render(prompt, values={"name": "World"})
    assert r.messages == [{"role": "user", "content": "Hello World, you are {{missing}} years old"}]
    assert r.missing == ["missing"]
    [warning] = r.warnings
    assert warning.file == SRC and "{{missing}}" in warning.message and "GitHub sends it as written" in warning.message


@pytest.mark.gh_case("cmd/eval/eval_test.go:62")
@pytest.mark.gh_rule("cmd/eval/eval.go:346-347")
def test_eval_templates_every_message():
    # asserted at eval_test.go:79-80 (system message kept, "Process hello and return world");
    # eval.go:346-347 templates every message's content, whatever its role
    prompt = parse_prompt(d("""
        messages:
          - role: system
            content: You are helpful.
          - role: user
            content: Process {{input}} and return {{expected}}
          - role: assistant
            content: Earlier I said {{input}}.
    """), SRC)
    r = render(prompt, {"input": "hello", "expected": "world"})
    assert [m["content"] for m in r.messages] == ["You are helpful.", "Process hello and return world", "Earlier I said hello."]


@pytest.mark.gh_case("cmd/run/run_test.go:153")
def test_run_fills_input_from_the_prompt_text():
    # asserted at run_test.go:227 ({{input}} -> the initial prompt and piped text)
    prompt = parse_prompt(d("""
        messages:
          - role: system
            content: You are a text summarizer.
          - role: user
            content: "{{input}}"
    """), SRC)
    r = render(prompt, values={"input": "Please summarize the provided text.\nHello there!"})
    assert r.messages[1]["content"] == "Please summarize the provided text.\nHello there!"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:189")
@pytest.mark.parametrize("written", ["{{ name }}", "{{.name}}", "{{Name}}", "{{ name}}", "{{name }}", "{{\tname\t}}", "{{{name}}"])
def test_only_the_exact_key_is_a_placeholder(written):
    # placeholder := "{{" + key + "}}", replaced with strings.ReplaceAll
    prompt = parse_prompt(one_user(f"Hi {written}!"), SRC)
    content = render(prompt, values={"name": "Ada"}).messages[0]["content"]
    if written == "{{{name}}":
        assert content == "Hi {Ada!"  # the exact {{name}} inside is replaced
    else:
        assert content == f"Hi {written}!"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:188-189")
@pytest.mark.parametrize("key", ["user name", "first-name", "a.b", "1x", "Ünïcode", "x:y"])
def test_any_key_is_a_variable(key):
    # every key of the test case, whatever its text
    placeholder = "{{" + key + "}}"
    prompt = parse_prompt(one_user(f"<{placeholder}>", f"testData:\n  - {{{key!r}: v}}\n"), SRC)
    assert prompt.variables == [key]
    r = render(prompt, 0)
    assert r.messages[0]["content"] == "<v>" and r.missing == [] and r.values == {key: "v"}


@pytest.mark.gh_rule("pkg/prompt/prompt.go:194")
@pytest.mark.parametrize("yaml_value, sent", [
    ("true", "true"), ("false", "false"), ("1.0", "1"), ("0.5", "0.5"), ("25", "25"), ("-3", "-3"),
    ("null", "<nil>"), ("~", "<nil>"), ("[a, b]", "[a b]"), ("[1, 2.5, true, null]", "[1 2.5 true <nil>]"),
    ("{k: v, a: 1}", "map[a:1 k:v]"), ("[[a, b], {x: 1}]", "[[a b] map[x:1]]"), ("1e6", "1e+06"), ("123456.0", "123456"),
    ("1234567.0", "1.234567e+06"), ("0.0001", "0.0001"), ("0.00001", "1e-05"), (".inf", "+Inf"), ("-.inf", "-Inf"),
    ("''", ""), ("'007'", "007"), ("[]", "[]"), ("{}", "map[]"),
])
def test_values_are_written_like_go_percent_v(yaml_value, sent):
    # fmt.Sprintf("%v", value) for a non-string value
    prompt = parse_prompt(one_user("<{{v}}>", f"testData:\n  - v: {yaml_value}\n"), SRC)
    assert render(prompt, 0).messages[0]["content"] == f"<{sent}>"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:188-196")
@pytest.mark.gh_difference("gh replaces key by key in Go's random map order, so a value holding another "
                           "placeholder may be filled again; promptbench substitutes in one pass (README)")
def test_values_are_not_scanned_again():
    # gh gives "{{a}} {{a}}" or "{{b}} {{b}}" here, depending on the map order; promptbench keeps
    # each value as written.
    prompt = parse_prompt(one_user("{{a}} {{b}}"), SRC)
    r = render(prompt, values={"a": "{{b}}", "b": "{{a}}"})
    assert r.messages[0]["content"] == "{{b}} {{a}}"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:189")
def test_find_variables_matches_what_render_fills():
    # only the exact {{key}}
    assert find_variables("{{a}} {{ a }} {{user name}} {{.b}} {{}} {{ }}") == ["a", "user name", ".b"]


# -- loading: pkg/prompt LoadFromFile -----------------------------------------------------
LOADS = d("""
    name: Test Prompt
    description: A test prompt file
    model: openai/gpt-4o
    modelParameters:
      temperature: 0.5
      maxTokens: 100
    messages:
      - role: system
        content: You are a helpful assistant.
      - role: user
        content: "Hello {{name}}"
    testData:
      - name: "Alice"
      - name: "Bob"
    evaluators:
      - name: contains-greeting
        string:
          contains: "hello"
""")


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:14")
def test_loads_and_parses_a_prompt_file():
    # asserted at prompt_test.go:43-58
    p = parse_prompt(LOADS, SRC)
    assert (p.name, p.description, p.model) == ("Test Prompt", "A test prompt file", "openai/gpt-4o")
    assert p.model_parameters == {"temperature": 0.5, "maxTokens": 100}
    assert [(m.role, m.content) for m in p.messages] == [("system", "You are a helpful assistant."), ("user", "Hello {{name}}")]
    assert [c["name"] for c in p.test_data] == ["Alice", "Bob"]
    assert p.evaluators == [{"name": "contains-greeting", "string": {"contains": "hello"}}]


@pytest.mark.gh_case("cmd/eval/eval_test.go:19")
def test_loads_an_evaluation_file():
    # asserted at eval_test.go:52-59
    p = parse_prompt(d("""
        name: Test Evaluation
        description: A test evaluation
        model: openai/gpt-4o
        modelParameters:
          temperature: 0.5
          maxTokens: 100
        testData:
          - input: "hello"
            expected: "hello world"
          - input: "goodbye"
            expected: "goodbye world"
        messages:
          - role: system
            content: You are a helpful assistant.
          - role: user
            content: "Please respond to: {{input}}"
        evaluators:
          - name: contains-world
            string:
              contains: "world"
          - name: similarity-check
            uses: github/similarity
    """), SRC)
    assert (p.name, p.description, p.model) == ("Test Evaluation", "A test evaluation", "openai/gpt-4o")
    assert p.model_parameters == {"temperature": 0.5, "maxTokens": 100}
    assert (len(p.test_data), len(p.messages), len(p.evaluators)) == (2, 2, 2)


@pytest.mark.gh_case("cmd/run/run_test.go:85")
def test_run_file_loads_messages_and_temperature():
    # asserted at run_test.go:143-148 (two messages as written, temperature 0.5 sent)
    from tests.core.test_gh_compat_loading import SUMMARIZER   # the file run_test.go:143 writes

    p = parse_prompt(d(SUMMARIZER), SRC)
    r = render(p)
    assert [m["content"] for m in r.messages] == ["You are a text summarizer.", "Hello there!"]
    assert request_params(p.model_parameters)["temperature"] == 0.5


@pytest.mark.parametrize("fmt", [
    pytest.param("text", marks=pytest.mark.gh_case("pkg/prompt/prompt_test.go:97")),          # asserted at :115-117
    pytest.param("json_object", marks=pytest.mark.gh_case("pkg/prompt/prompt_test.go:120")),  # asserted at :138-140
])
def test_response_format_text_and_json_object(fmt):
    # loaded as written, with no jsonSchema
    p = parse_prompt(f"name: T\nmodel: openai/gpt-4o\nresponseFormat: {fmt}\nmessages:\n  - role: user\n    content: \"Hello\"\n", SRC)
    assert p.response_format == fmt and p.json_schema is None


SCHEMA_AS_TEXT = d("""
    responseFormat: json_schema
    jsonSchema: |-
      {
        "name": "describe_animal",
        "strict": true,
        "schema": {
          "type": "object",
          "properties": {"name": {"type": "string"}, "habitat": {"type": "string"}},
          "additionalProperties": false,
          "required": ["name", "habitat"]
        }
      }
    messages:
      - role: user
        content: "Hello"
""")


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:143")
def test_json_schema_as_a_json_string():
    # asserted at prompt_test.go:182-206
    p = parse_prompt(SCHEMA_AS_TEXT, SRC)
    assert p.response_format == "json_schema"
    schema = p.json_schema
    assert schema["name"] == "describe_animal" and schema["strict"] is True
    assert schema["schema"]["type"] == "object"
    assert set(schema["schema"]["properties"]) == {"name", "habitat"} and schema["schema"]["required"] == ["name", "habitat"]


@pytest.mark.gh_case("cmd/eval/eval_test.go:567")
def test_json_schema_one_line_string_is_sent():
    # asserted at eval_test.go:620-627 (json_schema with name and strict in the request)
    p = parse_prompt(d("""
        responseFormat: json_schema
        jsonSchema: '{"name": "response_schema", "strict": true, "schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"], "additionalProperties": false}}'
        messages:
          - role: user
            content: "Respond to: {{input}}"
    """), SRC)
    sent = request_params(p.model_parameters, p.response_format, p.json_schema)["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "response_schema" and sent["json_schema"]["strict"] is True
    assert "schema" in sent["json_schema"]


@pytest.mark.gh_rule("pkg/prompt/prompt.go:84-85")
def test_json_schema_as_a_yaml_mapping_is_refused():
    # node.Kind != yaml.ScalarNode -> "jsonSchema must be a JSON string"
    text = "responseFormat: json_schema\njsonSchema:\n  name: x\n  schema: {type: object}\nmessages: [{role: user, content: hi}]\n"
    with pytest.raises(PromptFileError) as info:
        parse_prompt(text, SRC)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (SRC, 2, "jsonSchema")  # the key's line
    assert "must be a JSON string" in problem.message


@pytest.mark.gh_rule("pkg/prompt/prompt.go:156-162")
def test_json_schema_name_and_schema_are_required_only_for_json_schema():
    # name/schema are checked when responseFormat is json_schema
    base = "jsonSchema: '{\"type\": \"object\"}'\nmessages: [{role: user, content: hi}]\n"
    p = parse_prompt("responseFormat: text\n" + base, SRC)
    assert [w.field for w in p.warnings] == ["jsonSchema"]  # ignored unless json_schema
    with pytest.raises(PromptFileError, match="needs 'name' and 'schema'"):
        parse_prompt("responseFormat: json_schema\n" + base, SRC)


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:209")
def test_invalid_response_format_is_refused():
    # asserted at prompt_test.go:226-227 (an error naming invalid_format; promptbench words it its own way)
    with pytest.raises(PromptFileError, match="unknown responseFormat 'invalid_format'"):
        parse_prompt("responseFormat: invalid_format\nmessages:\n  - role: user\n    content: Hello\n", SRC)


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:230")
def test_json_schema_format_needs_a_json_schema():
    # asserted at prompt_test.go:247-248 ("jsonSchema is required when responseFormat is 'json_schema'")
    with pytest.raises(PromptFileError, match="responseFormat is json_schema but there is no jsonSchema"):
        parse_prompt("responseFormat: json_schema\nmessages:\n  - role: user\n    content: Hello\n", SRC)


@pytest.mark.gh_case("pkg/prompt/prompt_test.go:87")
def test_invalid_yaml_is_refused():
    # asserted at prompt_test.go:94 ("invalid: yaml: content: [" is an error)
    with pytest.raises(PromptFileError, match="invalid YAML"):
        parse_prompt("invalid: yaml: content: [", SRC)


@pytest.mark.gh_rule("pkg/prompt/prompt.go:203")
@pytest.mark.parametrize("role", ["System", "SYSTEM", "User", "ASSISTANT", "uSeR"])
def test_roles_in_any_case(role):
    # switch strings.ToLower(role)
    text = f"messages:\n  - role: {role}\n    content: Hi {{{{x}}}}\n"
    p = parse_prompt(text, SRC)
    assert p.messages[0].role == role.lower()
    assert render(p, values={"x": "1"}).messages == [{"role": role.lower(), "content": "Hi 1"}]
    assert p.dumps() == text  # the file keeps what it says


@pytest.mark.gh_rule("pkg/prompt/prompt.go:203-211")
@pytest.mark.gh_difference("gh stops at any role but system/user/assistant ('unknown message role'); promptbench "
                           "loads OpenAI's developer role and says at its line that GitHub refuses it")
def test_developer_role_is_a_warning():
    p = parse_prompt("messages:\n  - role: developer\n    content: hi\n", SRC)
    assert [(w.line, w.field) for w in p.warnings] == [(2, "messages[0].role")]
    assert "GitHub Models refuses role developer" in p.warnings[0].message


@pytest.mark.gh_rule("pkg/prompt/prompt.go:22", "pkg/prompt/prompt.go:112")
@pytest.mark.parametrize("text", ["name: Only a name\n", "name: x\nmessages: []\n", "name: x\nmessages:\n"])
def test_a_file_without_messages_loads(text):
    # messages is a plain field: yaml.Unmarshal needs none
    p = parse_prompt(text, SRC)
    assert p.messages == [] and render(p).messages == []
    assert [w.field for w in p.warnings] == ["messages"] and "no messages" in p.warnings[0].message


@pytest.mark.gh_rule("pkg/prompt/prompt.go:42")
def test_list_and_mapping_test_values_load():
    # TestDataItem is map[string]interface{}: any YAML value
    p = parse_prompt(one_user("{{tags}} / {{who}}", "testData:\n  - tags: [a, b]\n    who: {name: Ada, age: 36}\n"), SRC)
    assert p.test_data == [{"tags": ["a", "b"], "who": {"name": "Ada", "age": 36}}]
    assert render(p, 0).messages[0]["content"] == "[a b] / map[age:36 name:Ada]"
    assert p.warnings == []


@pytest.mark.gh_rule("pkg/prompt/prompt.go:194")
def test_null_value_renders_nil_with_a_warning_at_its_line():
    # fmt.Sprintf("%v", nil) is "<nil>"
    p = parse_prompt(one_user("Hi {{name}}", "testData:\n  - name: Ada\n  - name: null\n"), SRC)
    assert [(w.line, w.field, w.message) for w in p.warnings] == [
        (6, "testData[1].name", "GitHub sends null as <nil>: give a value or remove the key")]
    assert render(p, 1).messages[0]["content"] == "Hi <nil>"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:189")
def test_spaced_placeholder_is_a_warning_at_its_line():
    # {{ name }} is not "{{" + "name" + "}}"
    p = parse_prompt(d("""
        messages:
          - role: system
            content: Hi {{name}}.
          - role: user
            content: |
              First line
              Dear {{ name }}, see {{ place}}.
    """), SRC)
    assert [(w.line, w.field, w.message) for w in p.warnings] == [
        (7, "messages[1].content", "GitHub will not substitute {{ name }}: write {{name}}"),
        (7, "messages[1].content", "GitHub will not substitute {{ place}}: write {{place}}"),
    ]
    assert p.variables == ["name"]
    assert render(p, values={"name": "Ada"}).messages[1]["content"] == "First line\nDear {{ name }}, see {{ place}}.\n"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:29-33")
def test_models_ui_parameters_are_ignored_with_a_warning_and_kept_in_the_file():
    # ModelParameters has maxTokens, temperature, topP only; max_tokens, top_p,
    # max_completion_tokens written by the Models UI are ignored
    text = d("""
        model: openai/gpt-4o
        modelParameters:
          max_tokens: 4096  # written by the GitHub Models UI
          top_p: 1
          max_completion_tokens: 800
          temperature: 1
        messages:
          - role: user
            content: hi
    """)
    p = parse_prompt(text, SRC)
    assert [(w.line, w.field, w.message) for w in p.warnings] == [
        (3, "modelParameters.max_tokens", "GitHub ignores max_tokens: use maxTokens (not sent)"),
        (4, "modelParameters.top_p", "GitHub ignores top_p: use topP (not sent)"),
        (5, "modelParameters.max_completion_tokens", "GitHub ignores max_completion_tokens: use maxTokens (not sent)"),
    ]
    assert p.model_parameters == {"temperature": 1}
    assert request_params(p.model_parameters) == {"temperature": 1}
    assert p.model_parameters_in_file == {"max_tokens": 4096, "top_p": 1, "max_completion_tokens": 800, "temperature": 1}
    assert p.dumps() == text


@pytest.mark.gh_rule("pkg/prompt/prompt.go:112")
def test_unknown_keys_anywhere_load_and_save_byte_identical():
    # yaml.Unmarshal ignores keys the File struct does not name
    text = d("""
        name: Unknown keys
        x-owner: team-a  # ours
        modelParameters:
          temperature: 0.2
          frequency: weekly
        messages:
          - role: user
            content: "Hi {{who}}"
            name: alice
            weight: 2
        testData:
          - who: Ada
            note: {deep: [1, 2]}
        evaluators:
          - name: has hi
            string: {contains: Hi}
            extra: kept
    """)
    p = parse_prompt(text, SRC)
    assert render(p, 0).messages == [{"role": "user", "content": "Hi Ada"}]
    assert p.dumps() == text and not p.modified
    # promptbench names an unknown top-level field, and a parameter gh does not send but promptbench does
    assert [w.field for w in p.warnings] == ["modelParameters.frequency", "x-owner"]
