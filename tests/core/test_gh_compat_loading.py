"""Loading a prompt file and sending it, as gh-models' tests assert it (github/gh-models at
f38cd97): pkg/prompt/prompt_test.go, the ``--file`` cases of cmd/run/run_test.go (replayed with
``promptbench compare FILE``, whose requests the loopback OpenAI server logs) and the template
case of cmd/generate/generate_test.go (replayed with ``promptbench render --var``).

Each test is marked ``gh_case`` with the line where gh's case starts; comments name the lines
that assert. Loading cases that need no command are in test_gh_compat_templating.py.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from promptbench.core.errors import PromptFileError
from promptbench.core.prompts.params import request_params
from promptbench.core.prompts.promptfile import load_prompt, parse_prompt
from tests.core.test_eval_cli import eval_registered  # noqa: F401  (the eval command on the CLI parser)
from tests.core.test_gh_compat_eval_output import cli_run, gh_ws, sent_to  # noqa: F401  (gh_ws: a fixture)

P = "pkg/prompt/prompt_test.go"
RUN = "cmd/run/run_test.go"


def compare(capsys, ws, name: str, text: str, *args) -> tuple[int, dict, str]:
    """Write ``text`` to ``name`` and send it with ``promptbench compare --json``."""
    (ws.root / name).write_text(text)
    code, out, err = cli_run(capsys, ws, "compare", name, "--json", *args)
    return code, json.loads(out) if out else {}, err


@pytest.mark.gh_case(f"{P}:82")
def test_a_file_that_is_not_there_is_an_error(capsys, workspace, tmp_path):
    # asserted at prompt_test.go:84 (LoadFromFile("/nonexistent/file.yml") is an error)
    with pytest.raises(PromptFileError, match="cannot read the file"):
        load_prompt(tmp_path / "nonexistent" / "file.yml")
    for command in ("eval", "render"):
        code, out, err = cli_run(capsys, workspace, command, "/nonexistent/file.yml")
        assert (code, out) == (2, ""), err   # could not run (gh exits 1 for every error)
        assert err.startswith("promptbench: error:") and "file.yml" in err and len(err.splitlines()) == 1


@pytest.mark.gh_case(f"{P}:251")
def test_the_request_carries_the_response_format_and_the_parsed_schema():
    # asserted at prompt_test.go:286-298: type json_schema; the schema's name, strict, and its schema
    schema_text = textwrap.dedent("""\
        {
            "name": "test_schema",
            "strict": true,
            "schema": {
                "type": "object",
                "properties": {"name": {"type": "string", "description": "The name"}},
                "required": ["name"]
            }
        }""")
    p = parse_prompt(f"model: openai/gpt-4o\nresponseFormat: json_schema\njsonSchema: {json.dumps(schema_text)}\n"
                     "messages:\n  - role: user\n    content: Hello\n", "t.prompt.yml")
    sent = request_params(p.model_parameters, p.response_format, p.json_schema)["response_format"]
    assert sent["type"] == "json_schema"
    schema = sent["json_schema"]
    assert schema["name"] == "test_schema" and schema["strict"] is True
    assert schema["schema"]["type"] == "object" and "properties" in schema["schema"]


SUMMARIZER = """
name: Text Summarizer
description: Summarizes input text concisely
model: openai/test-model
modelParameters:
  temperature: 0.5
messages:
  - role: system
    content: You are a text summarizer.
  - role: user
    content: Hello there!
"""


@pytest.mark.gh_case(f"{RUN}:85")
def test_a_file_is_sent_with_its_messages_and_temperature(capsys, gh_ws, openai_server):
    # asserted at run_test.go:143-150: two messages as written, temperature 0.5, the reply shown
    openai_server.set_scenario("test-model", chunks=["Summary - foo"])
    code, result, err = compare(capsys, gh_ws, "summarizer.prompt.yml", SUMMARIZER, "-m", "openai/test-model")
    assert code == 0, err
    [body] = sent_to(openai_server, "test-model")
    assert [m["content"] for m in body["messages"]] == ["You are a text summarizer.", "Hello there!"]
    assert body["temperature"] == 0.5
    assert [r["output"] for r in result["runs"]] == ["Summary - foo"]


INPUT_SUMMARIZER = """
name: Summarizer
description: Summarizes input text
model: openai/test-model
messages:
  - role: system
    content: You are a text summarizer.
  - role: user
    content: "{{input}}"
"""


@pytest.mark.gh_case(f"{RUN}:153")
def test_input_is_filled_in_the_request(capsys, gh_ws, openai_server):
    # asserted at run_test.go:225-229: {{input}} -> the initial prompt, a newline and the piped text
    # (gh run joins them; with promptbench the value is given as --var input=...)
    openai_server.set_scenario("test-model", chunks=["Summary - bar"])
    code, result, err = compare(capsys, gh_ws, "summarizer.prompt.yml", INPUT_SUMMARIZER, "-m", "openai/test-model",
                                "--var", "input=Please summarize the provided text.\nHello there!")
    assert code == 0, err
    [body] = sent_to(openai_server, "test-model")
    assert [m["content"] for m in body["messages"]] == [
        "You are a text summarizer.", "Please summarize the provided text.\nHello there!"]
    assert result["runs"][0]["output"] == "Summary - bar"


# indented as a whole, as gh's test writes it (and a last line of spaces)
EXAMPLE = """
    name: Example Prompt
    description: Example description
    model: openai/example-model
    modelParameters:
      maxTokens: 300
      temperature: 0.8
      topP: 0.9
    messages:
      - role: system
        content: System message
      - role: user
        content: User message
    """


@pytest.mark.gh_case(f"{RUN}:232")
@pytest.mark.gh_difference("promptbench compare runs -m (else [compare] default_models) and takes parameters from the "
                           "file only; gh run takes the file's model and its --max-tokens/--temperature/--top-p flags "
                           "override the file")
def test_the_files_parameters_are_sent(capsys, gh_ws, openai_server):
    # asserted at run_test.go:307-313 (the file's model, maxTokens 300, temperature 0.8, topP 0.9, messages);
    # its second half (:316-335, flags override the file) has no promptbench counterpart
    openai_server.set_scenario("example-model", chunks=["hello"])
    code, _, err = compare(capsys, gh_ws, "example.prompt.yaml", EXAMPLE, "-m", "openai/example-model")
    assert code == 0, err
    [body] = sent_to(openai_server, "example-model")
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (300, 0.8, 0.9)
    assert [m["content"] for m in body["messages"]] == ["System message", "User message"]


PERSON = """
name: JSON Schema Test
description: Test responseFormat and jsonSchema
model: openai/test-model
responseFormat: json_schema
jsonSchema: '{"name": "person_schema", "strict": true, "schema": {"type": "object", "properties": {"name": {"type": "string", "description": "The name"}, "age": {"type": "integer", "description": "The age"}}, "required": ["name", "age"], "additionalProperties": false}}'
messages:
  - role: system
    content: You are a helpful assistant.
  - role: user
    content: "Generate a person"
"""


@pytest.mark.gh_case(f"{RUN}:338")
def test_the_files_json_schema_is_sent(capsys, gh_ws, openai_server):
    # asserted at run_test.go:396-417: response format json_schema, with the schema as written
    openai_server.set_scenario("test-model", chunks=["hello this is a test response"])
    code, _, err = compare(capsys, gh_ws, "person.prompt.yml", PERSON, "-m", "openai/test-model")
    assert code == 0, err
    [body] = sent_to(openai_server, "test-model")
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "person_schema"
    assert schema["schema"]["type"] == "object"
    assert set(schema["schema"]["properties"]) == {"name", "age"} and set(schema["schema"]["required"]) == {"name", "age"}


TEMPLATED = """
name: Template Variable Test
description: Test prompt with template variables
model: openai/gpt-4o-mini
messages:
  - role: system
    content: "You are a helpful assistant for {{name}}."
  - role: user
    content: "Tell me about {{topic}} in {{style}} style."
"""


@pytest.mark.gh_case("cmd/generate/generate_test.go:423")
def test_var_values_fill_every_message(capsys, workspace):
    # asserted at generate_test.go:493-507: the system and user messages carry the --var values
    (workspace.root / "templated.prompt.yml").write_text(TEMPLATED)
    code, out, err = cli_run(capsys, workspace, "render", "templated.prompt.yml", "--json", "--var", "name=Alice",
                             "--var", "topic=machine learning", "--var", "style=academic")
    assert code == 0, err
    messages = json.loads(out)["messages"]
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "helpful assistant for Alice" in messages[0]["content"]
    assert "about machine learning" in messages[1]["content"] and "academic style" in messages[1]["content"]
