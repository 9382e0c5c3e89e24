"""The prompt file model: validation with positions, rendering, round-trip saving."""

from __future__ import annotations

import difflib
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptbench.core.errors import Problem, PromptbenchError, PromptFileError
from promptbench.core.prompts.promptfile import (
    MAX_PROMPT_BYTES,
    ROLES,
    Message,
    PromptFile,
    Rendered,
    find_variables,
    load_prompt,
    parse_prompt,
    parse_prompt_bytes,
    render,
    require_complete,
    validate,
)

SRC = "t.prompt.yml"

GOOD = """\
# A hand-written prompt
name: Greeter  # shown in the sidebar
description: Says hello
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  maxTokens: 64
  topP: 0.9
  stop: ["\\n\\n"]
  seed: 7
messages:
  - role: system
    content: You are friendly.
  - role: user
    content: 'Say hello to {{name}} from {{ place }}.'
testData:
  - name: Ada
    place: London
    expected: Hello Ada
  - name: Linus
    place: 42
evaluators:
  - name: mentions a name
    string:
      contains: Ada
  - name: similar
    uses: github/similarity
"""


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def problems(text: str) -> list[Problem]:
    with pytest.raises(PromptFileError) as info:
        parse_prompt(text, SRC)
    assert str(info.value).startswith(str(info.value.problems[0]))
    return info.value.problems


def one_problem(text: str) -> Problem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


# -- reading -----------------------------------------------------------------------
def test_good_file_exposes_plain_fields():
    p = parse_prompt(GOOD, SRC)
    assert (p.source, p.name, p.description, p.model) == (SRC, "Greeter", "Says hello", "openai/gpt-4o-mini")
    assert p.model_parameters == {"temperature": 0.2, "maxTokens": 64, "topP": 0.9, "stop": ["\n\n"], "seed": 7}
    assert type(p.model_parameters["temperature"]) is float
    assert p.response_format == "text" and p.json_schema is None
    assert p.messages == [Message("system", "You are friendly."), Message("user", "Say hello to {{name}} from {{ place }}.")]
    assert p.test_data == [{"name": "Ada", "place": "London", "expected": "Hello Ada"}, {"name": "Linus", "place": 42}]
    assert p.evaluators[1] == {"name": "similar", "uses": "github/similarity"}
    assert type(p.evaluators[0]["string"]) is dict
    # GitHub fills {{name}} only: {{ place }} (spaces) stays as written, and a warning says so at its line.
    assert p.variables == ["name"]
    assert [(w.line, w.field, w.message) for w in p.warnings] == [
        (9, "modelParameters.stop", "gh models eval does not send stop (only maxTokens, temperature and topP): "
                                    "promptbench does, so results can differ"),
        (10, "modelParameters.seed", "gh models eval does not send seed (only maxTokens, temperature and topP): "
                                     "promptbench does, so results can differ"),
        (15, "messages[1].content", "GitHub will not substitute {{ place }}: write {{place}}"),
        (27, "evaluators[1].uses", "github/similarity reads {{input}} from the test data, but no test case gives it: "
                                   "GitHub sends {{input}} as written"),
        (27, "evaluators[1].uses", "github/similarity reads {{expected}} from the test data, but test case 2 lacks it: "
                                   "GitHub sends {{expected}} as written")]
    assert [w.fix for w in p.warnings] == [None, None, "unspace-placeholder", None, None]
    assert p.to_plain()["messages"][0] == {"role": "system", "content": "You are friendly."}
    assert ROLES == ("system", "user", "assistant", "developer")


def test_json_schema_is_a_json_string_not_a_mapping():
    # GitHub Models refuses a YAML-mapping jsonSchema ("jsonSchema must be a JSON string").
    base = "messages: [{role: user, content: hi}]\nresponseFormat: json_schema\n"
    as_map = one_problem(base + "jsonSchema:\n  name: x\n  schema: {type: object}\n")
    assert (as_map.line, as_map.field) == (3, "jsonSchema") and "must be a JSON string" in as_map.message  # its key
    as_text = parse_prompt(base + 'jsonSchema: \'{"name": "x", "schema": {"type": "object"}}\'\n', SRC)
    assert as_text.json_schema == {"name": "x", "schema": {"type": "object"}}
    assert as_text.response_format == "json_schema"


def test_unknown_fields_are_warnings_and_kept():
    text = "messages: [{role: user, content: hi}]\nx-owner: team-a  # who\n"
    p = parse_prompt(text, SRC)
    assert [(w.line, w.field) for w in p.warnings] == [(2, "x-owner")]
    assert p.to_plain()["x-owner"] == "team-a"
    p.set_field("name", "N")
    assert "x-owner: team-a  # who\n" in p.dumps()


def test_empty_optional_sections_are_allowed():
    p = parse_prompt("name:\nmessages:\n  - role: user\n    content: ''\ntestData:\nevaluators:\nmodelParameters:\n", SRC)
    assert p.name is None and p.test_data == [] and p.evaluators == [] and p.model_parameters == {}


# -- problems ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, line, field, message",
    [
        ("messages:\n  - role: bot\n    content: hi\n", 2, "messages[0].role",
         "unknown role 'bot': expected one of system, user, assistant, developer"),
        ("messages:\n  - role: user\n    content: hi\n  - role: bot\n    content: x\n", 4, "messages[1].role", "unknown role 'bot'"),
        ("modelParameters:\n  temperature: hot\nmessages: [{role: user, content: hi}]\n", 2,
         "modelParameters.temperature", "expected a number, got 'hot'"),
        ("modelParameters:\n  maxTokens: 1.5\nmessages: [{role: user, content: hi}]\n", 2, "modelParameters.maxTokens", "expected a whole number"),
        ("modelParameters:\n  maxTokens: true\nmessages: [{role: user, content: hi}]\n", 2, "modelParameters.maxTokens", "got true"),
        ("modelParameters:\n  temperature: 3\nmessages: [{role: user, content: hi}]\n", 2, "modelParameters.temperature", "out of range"),
        ("modelParameters:\n  topP: -0.1\nmessages: [{role: user, content: hi}]\n", 2, "modelParameters.topP", "between 0 and 1"),
        ("modelParameters:\n  stop: {a: 1}\nmessages: [{role: user, content: hi}]\n", 2, "modelParameters.stop", "expected text or a list"),
        ("modelParameters: hot\nmessages: [{role: user, content: hi}]\n", 1, "modelParameters", "expected a mapping"),
        ("messages: hello\n", 1, "messages", "expected a list, got 'hello'"),
        ("messages:\n  - just text\n", 2, "messages[0]", "expected a mapping with role and content"),
        ("messages:\n  - role: user\n    content: 5\n", 3, "messages[0].content", "expected text, got the number 5 (quote it: '5')"),
        ("messages:\n  - role: user\n    content: [a]\n", 3, "messages[0].content", "expected text, got a list"),
        ("messages:\n  - role: user\n", 2, "messages[0].content", "missing 'content'"),
        ("messages:\n  - content: hi\n", 2, "messages[0].role", "missing role"),
        ("name: [a]\nmessages: [{role: user, content: hi}]\n", 1, "name", "expected text, got a list"),
        ("model: 4\nmessages: [{role: user, content: hi}]\n", 1, "model", "expected text, got the number 4"),
        ("responseFormat: xml\nmessages: [{role: user, content: hi}]\n", 1, "responseFormat",
         "unknown responseFormat 'xml': expected one of text, json_object, json_schema"),
        ("responseFormat: json_schema\nmessages: [{role: user, content: hi}]\n", 1, "jsonSchema", "no jsonSchema"),
        ("responseFormat: json_schema\njsonSchema: '{\"name\": 1,'\nmessages: [{role: user, content: hi}]\n", 2, "jsonSchema", "not valid JSON"),
        ("responseFormat: json_schema\njsonSchema: '[1]'\nmessages: [{role: user, content: hi}]\n", 2, "jsonSchema", "must be an object"),
        ("responseFormat: json_schema\njsonSchema: '{\"type\": \"object\"}'\nmessages: [{role: user, content: hi}]\n", 2, "jsonSchema",
         "needs 'name' and 'schema'"),
        ("responseFormat: json_schema\njsonSchema: {type: object}\nmessages: [{role: user, content: hi}]\n", 2, "jsonSchema",
         "must be a JSON string, not a YAML mapping"),
        ("responseFormat: json_schema\njsonSchema: 5\nmessages: [{role: user, content: hi}]\n", 2, "jsonSchema", "must be a JSON string, got the number 5"),
        ("messages: [{role: user, content: hi}]\ntestData: {a: 1}\n", 2, "testData", "expected a list"),
        ("messages: [{role: user, content: hi}]\ntestData:\n  - plain\n", 3, "testData[0]", "expected a mapping of variable values"),
        ("messages: [{role: user, content: hi}]\ntestData:\n  - 1: x\n", 3, "testData[0]", "variable names must be text"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n", 3, "evaluators[0]", "evaluator 'e' has no kind"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    uses: github/fluency\n    string: {contains: a}\n", 3,
         "evaluators[0]", "has several kinds (string, uses): give exactly one"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - uses: github/fluency\n", 3, "evaluators[0].name", "missing 'name'"),
        # (an unknown string check, several checks and no check are warnings now: see
        # test_string_criteria_gh_models_reads_are_warnings; ``equals: 42`` reads as "42")
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    string:\n      equals: [4, 2]\n", 5, "evaluators[0].string.equals", "expected text"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    string: yes\n", 4, "evaluators[0].string", "expected a mapping"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    llm:\n      prompt: p\n      choices: [{choice: y, score: 1}]\n", 5,
         "evaluators[0].llm.modelId", "missing 'modelId'"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    llm:\n      modelId: m\n      prompt: p\n      choices: []\n", 7,
         "evaluators[0].llm.choices", "non-empty list"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    llm:\n      modelId: m\n      prompt: p\n      choices:\n        - choice: y\n          score: high\n",
         9, "evaluators[0].llm.choices[0].score", "expected a number, got 'high'"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    uses: 3\n", 4, "evaluators[0].uses", "expected text"),
        ("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    uses: github/fluency\n  - name: e\n    uses: github/coherence\n", 5,
         "evaluators[1].name", "duplicate evaluator name 'e' (first on line 3)"),
        ("messages: [{role: user, content: hi}]\nevaluators: [plain]\n", 2, "evaluators[0]", "expected a mapping with name"),
    ],
)
def test_each_problem_names_file_line_and_field(text, line, field, message):
    found = [p for p in problems(text) if p.field == field]
    assert found, problems(text)
    assert found[0].file == SRC
    assert found[0].line == line
    assert message in found[0].message
    assert f"{SRC}:{line}: {field}: " in str(found[0]) if line else str(found[0]).startswith(f"{SRC}: {field}: ")


@pytest.mark.parametrize("spec, line, field, message", [
    ("string: {regex: a}", 4, "evaluators[0].string.regex", "unknown string check 'regex' is ignored"),
    ("string: {contains: a, equals: b}", 4, "evaluators[0].string", "several checks (equals, contains): only equals is used"),
    ("string: {}", 4, "evaluators[0].string", "no string evaluation criteria specified"),
    ("string: {contains: ''}", 4, "evaluators[0].string", "no string evaluation criteria specified"),
])
def test_string_criteria_gh_models_reads_are_warnings(spec, line, field, message):
    # Changed with gh-models compatibility (these were problems): gh models eval loads such a
    # file, ignores unknown fields and uses the first non-empty of equals/contains/startsWith/endsWith.
    text = f"messages: [{{role: user, content: hi}}]\nevaluators:\n  - name: e\n    {spec}\n"
    found = [w for w in parse_prompt(text, SRC).warnings if w.field == field]  # loads: no problem
    assert found and found[0].line == line and message in found[0].message
    assert parse_prompt("messages: [{role: user, content: hi}]\nevaluators:\n  - name: e\n    string: {equals: 42}\n",
                        SRC).evaluators[0]["string"]["equals"] == 42


def test_all_problems_are_reported_at_once_in_line_order():
    text = d("""
        name: 5
        modelParameters:
          temperature: hot
          maxTokens: many
        messages:
          - role: bot
            content: 1
        evaluators:
          - name: e
    """)
    found = problems(text)
    assert [(p.line, p.field) for p in found] == [
        (1, "name"), (3, "modelParameters.temperature"), (4, "modelParameters.maxTokens"),
        (6, "messages[0].role"), (7, "messages[0].content"), (9, "evaluators[0]"),
    ]
    assert isinstance(PromptFileError(found), PromptbenchError)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("", None, "file is empty"),
        ("# only a comment\n", None, "file is empty"),
        ("- a\n- b\n", 1, "expected a mapping of fields"),
        ("just text\n", 1, "expected a mapping of fields"),
        ("name: [x\n", 2, "invalid YAML"),
        ("name: a: b\n", 1, "invalid YAML at column 8: mapping values are not allowed here"),
        ("name: x\nmessages:\n\t- role: user\n", 3, "invalid YAML"),
        ("name: x\n---\nname: y\n", 2, "invalid YAML"),
        ("created: 2024-13-45\n", None, "invalid YAML"),
        ("[" * 1000, None, "invalid YAML: nesting is too deep"),
    ],
)
def test_broken_files_give_one_clear_problem(text, line, message):
    problem = one_problem(text)
    assert (problem.file, problem.line) == (SRC, line)
    assert message in problem.message


def test_unclosed_flow_names_where_it_started():
    problem = one_problem("name: x\nmessages: [{role: user, content: hi}\n")
    assert "flow" in problem.message and "line 2" in problem.message


def test_duplicate_key_is_a_problem_not_a_crash():
    problem = one_problem("name: a\nmessages: [{role: user, content: hi}]\nname: b\n")
    assert (problem.line, problem.field) == (3, "name")
    assert problem.message == "duplicate key 'name': each key may appear only once"
    nested = one_problem("messages:\n  - role: user\n    role: system\n    content: hi\n")
    assert (nested.line, nested.field) == (3, "role")


def test_yaml_tags_do_not_construct_objects():
    found = problems("messages:\n  - role: user\n    content: !!python/object/apply:os.system [ls]\n")
    assert found[0].field == "messages[0].content"
    p = parse_prompt("x: !custom value\nmessages: [{role: user, content: hi}]\n", SRC)
    assert p.to_plain()["x"] == "value"


def test_validate_works_on_plain_data_without_positions():
    assert validate({"messages": [{"role": "user", "content": "hi"}]}, SRC) == []
    [problem] = validate({"messages": [{"role": "robot", "content": "hi"}]}, SRC)
    assert (problem.line, problem.field) == (None, "messages[0].role")


# -- bytes and files ---------------------------------------------------------------
def test_bytes_size_limit():
    raw = b"name: x\n" + b"#" * (10 * 1024 * 1024)
    problem = PromptFileErrorOf(raw)
    assert problem.message == "file is 10.0 MiB; prompt files are limited to 1 MiB"
    assert problem.file == SRC
    assert MAX_PROMPT_BYTES == 1024 * 1024


@pytest.mark.parametrize("raw", [b"name: x\x00\n", b"name: \xff\xfe\n", bytes(range(256))])
def test_binary_or_non_utf8_is_refused(raw):
    assert PromptFileErrorOf(raw).message == "not a UTF-8 text file"


def PromptFileErrorOf(raw: bytes) -> Problem:
    with pytest.raises(PromptFileError) as info:
        parse_prompt_bytes(raw, SRC)
    [problem] = info.value.problems
    return problem


def test_load_prompt_uses_file_name_as_source(tmp_path):
    path = tmp_path / "greet.prompt.yml"
    path.write_bytes(GOOD.encode())
    assert load_prompt(path).source == "greet.prompt.yml"
    assert load_prompt(path, "prompts/greet.prompt.yml").source == "prompts/greet.prompt.yml"
    path.write_text("messages: hello\n")
    with pytest.raises(PromptFileError, match=r"^greet\.prompt\.yml:1: messages: expected a list"):
        load_prompt(path)
    with pytest.raises(PromptFileError, match="cannot read the file"):
        load_prompt(tmp_path / "missing.prompt.yml")


def test_utf8_bom_and_unicode_round_trip():
    text = "\ufeffname: Grüße 👋\nmessages:\n  - role: user\n    content: '¿{{x}}?'\n"
    p = parse_prompt_bytes(text.encode(), SRC)
    assert p.name == "Grüße 👋" and p.dumps() == text
    p.set_field("description", "ünïcode")
    assert p.dumps() == "\ufeffname: Grüße 👋\ndescription: ünïcode\nmessages:\n  - role: user\n    content: '¿{{x}}?'\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list("ab:-[]{}'\"|>#&*!?~ \n\t0.,") + ["role: ", "messages:", "content: ", "user", "\n  - ", "{{x}}"]), max_size=40))
def test_any_text_parses_or_raises_prompt_file_error(tokens):
    text = "".join(tokens)
    try:
        prompt = parse_prompt(text, SRC)
    except PromptFileError as exc:
        assert exc.problems and all(p.file == SRC and "\n" not in str(p) for p in exc.problems)
    else:
        assert prompt.dumps() == text


# -- variables and rendering -------------------------------------------------------
def test_find_variables():
    # As GitHub fills them: {{key}} written exactly; spaces inside the braces make it text.
    text = "{{a}} {{ b }} {{\tc\t}} {{a}} {{ d.e-f_1 }} {{}} {{ ''.__class__ }} {{1x}} {{ a b }} {{a b}} {x} {{{g}}} {{d.e-f_1}}"
    assert find_variables(text) == ["a", "1x", "a b", "g", "d.e-f_1"]
    assert find_variables("{{\na\n}}") == []


def rendered(text_messages: str, **kwargs) -> Rendered:
    return render(parse_prompt(text_messages, SRC), **kwargs)


TWO_VARS = d("""
    messages:
      - role: system
        content: "Hi {{name}}, {{ name }}: {{ ''.__class__ }} {{}} {{place}}"
    testData:
      - name: Ada
        place: Paris
        extra: 1
        expected: Hello
      - name: 7
        place: null
        flag: true
    evaluators:
      - name: judge
        llm:
          modelId: m
          prompt: "{{completion}} vs {{reference}}"
          choices: [{choice: ok, score: 1}]
""")


def test_render_test_case_by_index():
    r = rendered(TWO_VARS, test_case=0)
    assert r.messages == [{"role": "system", "content": "Hi Ada, {{ name }}: {{ ''.__class__ }} {{}} Paris"}]
    assert r.missing == [] and r.values == {"name": "Ada", "place": "Paris"}
    assert r.unused == ["extra"]  # expected is reserved for evaluators


def test_render_non_strings_and_none():
    r = rendered(TWO_VARS, test_case=1)
    # Go's %v: null is <nil> (and a warning says so); {{ name }} stays as written.
    assert r.messages[0]["content"] == "Hi 7, {{ name }}: {{ ''.__class__ }} {{}} <nil>"
    assert r.values == {"name": "7", "place": "<nil>"}
    assert r.unused == ["flag"]
    assert [w.message for w in r.warnings] == ["{{place}} is null: GitHub sends null as <nil>"]


def test_render_values_override_and_missing():
    r = rendered(TWO_VARS, test_case=0, values={"place": "Rome", "reference": "x"})
    assert r.messages[0]["content"].endswith("Rome") and r.unused == ["extra"]
    r = rendered(TWO_VARS, values={"name": "Bo"})
    assert r.missing == ["place"] and r.messages[0]["content"].endswith("{{place}}")
    r = rendered(TWO_VARS, test_case={"name": "Cy", "place": "Oslo"})
    assert r.missing == [] and "Cy" in r.messages[0]["content"]


def test_render_values_are_verbatim_and_never_rescanned():
    r = rendered(TWO_VARS, values={"name": "{{place}} \\1 $0 {{ ''.__class__ }}", "place": "{{name}}"})
    assert r.messages[0]["content"] == (
        "Hi {{place}} \\1 $0 {{ ''.__class__ }}, {{ name }}: {{ ''.__class__ }} {{}} {{name}}"
    )


def test_render_bad_index_names_the_file_and_count():
    for bad in (2, -1, 99):
        with pytest.raises(PromptFileError, match=r"^t\.prompt\.yml: testData: no test case .*: the file has 2 test cases$"):
            rendered(TWO_VARS, test_case=bad)
    with pytest.raises(PromptFileError, match="the file has 0 test cases"):
        rendered("messages: [{role: user, content: hi}]\n", test_case=0)


def test_require_complete():
    require_complete(rendered(TWO_VARS, test_case=0), SRC)
    with pytest.raises(PromptFileError) as info:
        require_complete(rendered(TWO_VARS, values={}), SRC)
    [problem] = info.value.problems
    assert problem.file == SRC and "{{name}}, {{place}}" in problem.message


# -- round trip --------------------------------------------------------------------
SHAPES = {
    "comments everywhere": d("""
        # header comment

        name: x   # trailing
        # before messages
        messages:
          # inside the list
          - role: system  # a role
            content: hi
          # between items

          - role: user
            content: there
        # at the end
    """),
    "block scalars": d("""
        messages:
          - role: system
            content: |
              line one
                indented line

              after a blank line
          - role: user
            content: >-
              folded text
              over two lines
          - role: assistant
            content: |+
              keep trailing

        description: |-
          no final newline
    """),
    "quoted strings": d("""
        name: 'single ''quoted'''
        description: "double \\"quoted\\" \\u00e9 \\t tab"
        model: "openai/gpt-4o-mini"
        messages:
          - role: 'user'
            content: "{{x}}: yes"
    """),
    "flow maps and lists": d("""
        modelParameters: {temperature: 0.2, maxTokens: 64, stop: ["###", "\\n"]}
        messages: [{role: system, content: be brief}, {role: user, content: "{{q}}"}]
        testData: [{q: a}, {q: b}]
    """),
    "unknown fields": d("""
        name: x
        x-owner: {team: search, oncall: [ann, bo]}
        messages:
          - role: user
            content: hi
            x-note: kept
        tags:
          - a
          - b
    """),
    "indentless sequences": d("""
        messages:
        - role: system
          content: hi
        testData:
        - a: 1
    """),
    "four-space indent": d("""
        modelParameters:
            temperature: 0.5
        messages:
            -   role: user
                content: |
                    Hello
                    {{x}}
    """),
    "numbers in many spellings": d("""
        modelParameters:
          temperature: 1.0
          topP: .5
          maxTokens: 0x40
          seed: 1_000
          frequencyPenalty: -0.50
        messages: [{role: user, content: hi}]
    """),
    "nulls, booleans, dates": d("""
        messages: [{role: user, content: hi}]
        testData:
          - a: ~
            b: null
            c: True
            d: yes
            e: 2024-05-01
    """),
    "anchors and aliases": d("""
        x-defaults: &defaults
          temperature: 0.2
        modelParameters: *defaults
        messages: [{role: user, content: hi}]
    """),
    "multi-line plain scalar": d("""
        description: this description is long
          and continues on a second line
        messages: [{role: user, content: hi}]
    """),
    "document markers": "---\nmessages: [{role: user, content: hi}]\n...\n",
    "no final newline": "messages:\n  - role: user\n    content: hi",
    "windows line endings": "name: x\r\nmessages:\r\n  - role: user\r\n    content: |\r\n      hi\r\n      there\r\n",
    "trailing whitespace and blank lines": "name: x   \n\n\nmessages:\n  - role: user\n    content: hi\n\n\n",
    "long lines": "description: " + "word " * 200 + "end\nmessages: [{role: user, content: hi}]\n",
}


@pytest.mark.parametrize("name", SHAPES)
def test_unchanged_file_dumps_byte_identical(name):
    text = SHAPES[name]
    prompt = parse_prompt(text, SRC)
    assert prompt.dumps() == text
    assert not prompt.modified


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


@pytest.mark.parametrize("name", SHAPES)
def test_an_edit_changes_only_its_own_lines(name):
    text = SHAPES[name]
    prompt = parse_prompt(text, SRC)
    prompt.set_field("name", "Edited")
    out = prompt.dumps()
    assert prompt.modified
    diff = changed_lines(text, out)
    removed = [line for line in diff if line.startswith("-")]
    added = [line.rstrip("\r") for line in diff if line.startswith("+")]
    assert len(added) == 1 and added[0].startswith(("+name: Edited", "+name: 'Edited'")), diff
    assert removed == [] or (len(removed) == 1 and removed[0].startswith("-name:")), diff
    reparsed = parse_prompt(out, SRC)
    assert reparsed.name == "Edited"
    assert parse_prompt(out, SRC).dumps() == out
    assert {k: v for k, v in reparsed.to_plain().items() if k != "name"} == {
        k: v for k, v in parse_prompt(text, SRC).to_plain().items() if k != "name"
    }
    if "\r\n" in text:
        assert out.count("\r\n") == out.count("\n")
    assert out.endswith("\n") == text.endswith("\n")


def test_setting_the_same_value_is_not_a_change():
    prompt = parse_prompt(SHAPES["quoted strings"], SRC)
    prompt.set_field("model", "openai/gpt-4o-mini")
    assert prompt.dumps() == SHAPES["quoted strings"] and not prompt.modified


def test_direct_edits_of_data_are_saved_too():
    prompt = parse_prompt(GOOD, SRC)
    prompt.data["modelParameters"]["temperature"] = 0.9
    assert changed_lines(GOOD, prompt.dumps()) == ["-  temperature: 0.2", "+  temperature: 0.9"]


# -- mutation ----------------------------------------------------------------------
def test_mutations_keep_comments_and_style():
    prompt = parse_prompt(GOOD, SRC)
    prompt.set_model_parameter("temperature", 0.7)
    prompt.set_model_parameter("seed", None)
    prompt.set_message(1, content="Greet {{name}}.")
    prompt.set_message(0, role="developer")
    prompt.set_field("name", "Hello")
    out = prompt.dumps()
    # ruamel keeps a trailing comment in its column
    assert out.startswith("# A hand-written prompt\nname: Hello    # shown in the sidebar\n")
    assert sorted(changed_lines(GOOD, out)) == sorted([
        "-name: Greeter  # shown in the sidebar",
        "+name: Hello    # shown in the sidebar",
        "-  temperature: 0.2",
        "+  temperature: 0.7",
        "-  seed: 7",
        "-  - role: system",
        "+  - role: developer",
        "-    content: 'Say hello to {{name}} from {{ place }}.'",
        "+    content: 'Greet {{name}}.'",
    ])
    assert parse_prompt(out, SRC).variables == ["name"]


def test_add_and_remove_messages_and_test_cases():
    prompt = parse_prompt(GOOD, SRC)
    prompt.add_message("assistant", "Hello!\nHow are you?", index=2)
    prompt.add_message("user", "Fine")
    prompt.remove_message(0)
    prompt.add_test_case({"name": "Grace", "place": "NYC"})
    prompt.set_test_case(0, {"name": "Ada", "place": "Paris"})
    prompt.remove_test_case(1)
    out = prompt.dumps()
    reparsed = parse_prompt(out, SRC)
    assert [m.role for m in reparsed.messages] == ["user", "assistant", "user"]
    assert reparsed.messages[1].content == "Hello!\nHow are you?"
    assert "    content: |-\n      Hello!\n      How are you?\n" in out
    assert reparsed.test_data == [{"name": "Ada", "place": "Paris"}, {"name": "Grace", "place": "NYC"}]
    assert "# A hand-written prompt\n" in out and "# shown in the sidebar" in out


def test_replacing_block_scalar_content_keeps_block_style():
    prompt = parse_prompt(SHAPES["block scalars"], SRC)
    prompt.set_message(0, content="new first\nnew second\n")
    out = prompt.dumps()
    assert "    content: |\n      new first\n      new second\n" in out
    assert changed_lines(SHAPES["block scalars"], out)[:2] == ["-      line one", "-        indented line"]


def test_new_known_fields_go_in_canonical_order():
    prompt = parse_prompt("# c\nname: x\nmessages:\n  - role: user\n    content: hi\n", SRC)
    prompt.set_model_parameter("temperature", 0.3)
    prompt.set_field("model", "openai/gpt-4o")
    prompt.add_test_case({"q": "a"})
    prompt.set_field("x-extra", 1)
    assert prompt.dumps() == (
        "# c\nname: x\nmodel: openai/gpt-4o\nmodelParameters:\n  temperature: 0.3\n"
        "messages:\n  - role: user\n    content: hi\ntestData:\n  - q: a\nx-extra: 1\n"
    )


def test_generic_set_and_delete_paths():
    prompt = parse_prompt(GOOD, SRC)
    prompt.set(["evaluators", 0, "string", "contains"], "Linus")
    prompt.delete(["testData", 0, "expected"])
    prompt.set(["x-meta", "owner"], "me")
    prompt.set(["evaluators"], prompt.to_plain()["evaluators"] + [
        {"name": "judge", "llm": {"modelId": "m", "prompt": "Is it\npolite?", "choices": [{"choice": "yes", "score": 1}]}},
    ])
    assert "      prompt: |-\n        Is it\n        polite?\n" in prompt.dumps()
    plain = prompt.to_plain()
    assert plain["evaluators"][0]["string"] == {"contains": "Linus"}
    assert "expected" not in plain["testData"][0]
    assert plain["x-meta"] == {"owner": "me"}
    assert prompt.problems() == []
    prompt.set(["messages", 0, "role"], "bot")
    assert [p.field for p in prompt.problems()] == ["messages[0].role"]


def test_mutation_helpers_refuse_bad_input():
    prompt = parse_prompt(GOOD, SRC)
    with pytest.raises(PromptFileError, match="unknown role 'bot'"):
        prompt.add_message("bot", "x")
    with pytest.raises(PromptFileError, match=r"no message 5: the file has 2 message\(s\)"):
        prompt.set_message(5, content="x")
    with pytest.raises(PromptFileError, match=r"no test case 2: the file has 2 test case\(s\)"):
        prompt.remove_test_case(2)
    with pytest.raises(PromptFileError, match=r"^t\.prompt\.yml: testData\[-1\]: no test case -1"):
        prompt.set_test_case(-1, {})
    assert not prompt.modified


def test_from_plain_builds_a_new_prompt():
    prompt = PromptFile.from_plain({"name": "New", "messages": [{"role": "user", "content": "line\n{{x}}\n"}]}, "new.prompt.yml")
    assert prompt.dumps() == "name: New\nmessages:\n  - role: user\n    content: |\n      line\n      {{x}}\n"
    with pytest.raises(PromptFileError):
        PromptFile.from_plain({"name": "Bad role", "messages": [{"role": "bot", "content": "x"}]}, "new.prompt.yml")


COMMENTED_LIST = "messages:\n  - role: user\n    content: hi\n  # note\n\n  - role: user\n    content: x\n"


@pytest.mark.parametrize("content", ["a\nb\n", "a\nb\n\n", "a\nb", "  lead\n", "trail  \nx\n", "tab\tx\ny\n", "\n"])
def test_multi_line_edits_next_to_comments_keep_the_exact_text(content):
    prompt = parse_prompt(COMMENTED_LIST, SRC)
    prompt.set_message(0, content=content)
    out = prompt.dumps()
    assert parse_prompt(out, SRC).messages[0].content == content
    assert "  # note\n" in out


def test_a_save_that_ruamel_would_corrupt_drops_comments_instead():
    from ruamel.yaml.scalarstring import LiteralScalarString

    prompt = parse_prompt(COMMENTED_LIST, SRC)
    # A "|+" block before a comment makes ruamel emit the blank line into the content.
    prompt.data["messages"][0]["content"] = LiteralScalarString("a\nb\n\n")
    out = prompt.dumps()
    assert parse_prompt(out, SRC).messages[0].content == "a\nb\n\n"


EDIT_BASE = d("""
    name: 'q'
    description: "d"  # c
    messages:
      - role: system  # r
        content: hi
      # note

      - role: user
        content: >-
          a
          {{b}}
    testData:
      - b: 1
        c: 'x'
    # end
""")
TRICKY = st.sampled_from(list("\n \t#:-|>'\"{}a\\%@`*&!?,[]~") + ["\u2028", "\x85", "\x7f", "é", "😀", "\r", "\ufeff"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TRICKY, max_size=25).map("".join), st.sampled_from(["m0", "m1", "name", "description", "case"]))
def test_any_edited_string_is_saved_exactly(value, where):
    prompt = parse_prompt(EDIT_BASE, SRC)
    if where in ("m0", "m1"):
        prompt.set_message(int(where[1]), content=value)
    elif where == "case":
        prompt.set_test_case(0, {"b": 1, "c": value})
    else:
        prompt.set_field(where, value)
    out = prompt.dumps()
    assert parse_prompt(out, SRC).to_plain() == prompt.to_plain()
    if where != "m0" or "#" not in value:
        assert "  # note\n" in out and "# end\n" in out


def test_json_error_inside_a_block_points_at_the_file_line():
    text = d("""
        messages: [{role: user, content: hi}]
        responseFormat: json_schema
        jsonSchema: |
          {
            "name": "x",
            "schema": {,}
          }
    """)
    problem = one_problem(text)
    assert (problem.line, problem.field) == (6, "jsonSchema")
    assert "line 3, column 14 of the JSON" in problem.message


def test_control_characters_are_reported_on_one_line():
    problem = one_problem("name: x\ndescription: bell \x07\nmessages: [{role: user, content: hi}]\n")
    assert problem.line == 2
    assert problem.message == "invalid YAML: character U+0007 is not allowed in YAML text (write it as an escape in a double-quoted string)"
    assert "\n" not in str(problem)
