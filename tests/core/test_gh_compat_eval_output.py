"""gh-models' command-level eval cases (cmd/eval/eval_test.go at f38cd97), replayed through
``promptbench eval FILE`` end to end: each file as gh's test writes it, the model's replies from
the loopback OpenAI server (gh's tests use a mock client), the exit code, and the JSON of
``--format gh-json`` where gh's test reads ``gh models eval --json``.

The catalog names the models the files name (``openai/gpt-4o``, ``openai/test-model``) and
points them at the loopback server, so ``-m`` gives the file's own model, and without ``-m``
``promptbench eval`` runs the file's model, as gh does (the workspace's default models are
another one, which must not run).
"""

from __future__ import annotations

import json

import pytest

from promptbench import cli
from tests.core.test_eval_cli import eval_registered  # noqa: F401  (the eval command on the CLI parser)

E = "cmd/eval/eval_test.go"
CATALOG = ("openai/gpt-4o", "openai/test-model", "openai/example-model", "elsewhere")
HUMAN_TEXT = ("Running evaluation:", "Running test case", "✓ PASSED", "✗ FAILED", "Evaluation Summary:", "🎉")
TEXT_REPORT = ("promptbench's text report is its own table (the file, a ✓/✗ per evaluator, 'N passed, M failed'), "
               "not gh's 'Running test case'/'✓ PASSED' lines; tools read --format gh-json")


@pytest.fixture
def gh_ws(workspace, openai_server, monkeypatch):
    """A workspace whose catalog names gh's models and points them at the loopback server; the
    default models are another one ("elsewhere"), so nothing starts a local model."""
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    catalog = "".join(f'\n[models."{name}"]\nmodel = "openai/{name.split("/")[-1]}"\n'
                      f'api_base = "{openai_server.base_url}"\napi_key_env = "PB_TEST_KEY"\n'
                      f"input_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n" for name in CATALOG)
    (workspace.root / "promptbench.toml").write_text(f'[compare]\ndefault_models = ["elsewhere"]\n\n[retries]\nmax = 0\n'
                                                     f"{catalog}")
    openai_server.set_scenario("elsewhere", chunks=["not the file's model"])
    return workspace


def cli_run(capsys, ws, *args) -> tuple[int, str, str]:
    code = cli.main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def gh_eval(capsys, ws, text: str, *args, name: str = "test.prompt.yml") -> tuple[int, str, str]:
    """Write ``text`` as gh's test does (test.prompt.yml) and run ``promptbench eval`` on it."""
    (ws.root / name).write_text(text)
    return cli_run(capsys, ws, "eval", name, *args)


def sent_to(server, model: str) -> list[dict]:
    return [r["body"] for r in server.log() if r["model"] == model]


# -- "integration test with mock client" ----------------------------------------------------------------
MOCK_TEST = """
name: Mock Test
description: Test with mock client
model: openai/test-model
testData:
  - input: "test input"
    expected: "test response"
messages:
  - role: user
    content: "{{input}}"
evaluators:
  - name: contains-test
    string:
      contains: "test"
"""


@pytest.mark.gh_case(f"{E}:206")
@pytest.mark.gh_difference(TEXT_REPORT)
def test_a_passing_eval_exits_0_and_says_passed(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:253-259: no error; the output names "Mock Test" and says PASSED
    openai_server.set_scenario("test-model", chunks=["test response"])
    code, out, err = gh_eval(capsys, gh_ws, MOCK_TEST, "-m", "openai/test-model")
    assert code == 0, err
    assert [b["messages"] for b in sent_to(openai_server, "test-model")] == [[{"role": "user", "content": "test input"}]]
    assert any(line.startswith("Test case 1  contains-test") and line.rstrip().endswith("✓") for line in out.splitlines())
    assert "1 passed, 0 failed" in out and "test.prompt.yml" in out   # the file, where gh prints the name


# -- "logs model response when test fails" ------------------------------------------------------------------
FAILING_TEST = """
name: Failing Test
description: Test that fails to check model response logging
model: openai/test-model
testData:
  - input: "test input"
    expected: "expected but not returned"
messages:
  - role: user
    content: "{{input}}"
evaluators:
  - name: contains-nonexistent
    string:
      contains: "nonexistent text"
"""


@pytest.mark.gh_case(f"{E}:262")
@pytest.mark.gh_difference("the text report says which evaluator failed and why, not the model's reply (gh prints "
                           "'Model Response'); the reply is modelResponse in --format gh-json")
def test_a_failing_eval_exits_1_and_the_reply_is_in_the_json(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:308-316: FailedTests (exit 1), FAILED, and the model's reply shown
    openai_server.set_scenario("test-model", chunks=["actual model response"])
    code, out, err = gh_eval(capsys, gh_ws, FAILING_TEST, "-m", "openai/test-model")
    assert code == 1, err
    assert "contains-nonexistent (failed): output does not contain (ignoring case) 'nonexistent text'" in out
    assert "0 passed, 1 failed" in out
    code, out, _ = gh_eval(capsys, gh_ws, FAILING_TEST, "-m", "openai/test-model", "--format", "gh-json")
    [result] = json.loads(out)["testResults"]
    assert code == 1 and result["modelResponse"] == "actual model response"
    assert [e["passed"] for e in result["evaluationResults"]] == [False]


# -- "json output format" -------------------------------------------------------------------------------------
# gh's mock answers "hello world" to the first call and "test output" to the second; the loopback
# server echoes the last user message instead (promptbench runs cells concurrently, so call order
# means nothing), so each test case carries the reply gh's mock gave it.
JSON_TEST = """
name: JSON Test Evaluation
description: Testing JSON output format
model: openai/gpt-4o
testData:
  - input: "hello"
    expected: "hello world"
    reply: "hello world"
  - input: "test"
    expected: "test response"
    reply: "test output"
messages:
  - role: user
    content: "{{reply}}"
evaluators:
  - name: contains-hello
    string:
      contains: "hello"
  - name: exact-match
    string:
      equals: "hello world"
"""


@pytest.mark.gh_case(f"{E}:319")
def test_json_output_format(capsys, gh_ws, openai_server):
    openai_server.set_scenario("gpt-4o", echo=True)
    code, out, err = gh_eval(capsys, gh_ws, JSON_TEST, "-m", "openai/gpt-4o", "--format", "gh-json")
    assert code == 1, err                                                   # eval_test.go:380 FailedTests
    result = json.loads(out)                                                # :385-387 all of stdout is the JSON
    assert (result["name"], result["description"], result["model"]) == (  # :390-392
        "JSON Test Evaluation", "Testing JSON output format", "openai/gpt-4o")
    assert len(result["testResults"]) == 2                                  # :393
    assert result["summary"] == {"totalTests": 2, "passedTests": 1, "failedTests": 1, "passRate": 50}  # :396-399
    first, second = result["testResults"]
    assert first["modelResponse"] == "hello world"                          # :403-408
    assert [(e["passed"], e["score"]) for e in first["evaluationResults"]] == [(True, 1), (True, 1)]
    assert second["modelResponse"] == "test output"                         # :412-417
    assert [(e["passed"], e["score"]) for e in second["evaluationResults"]] == [(False, 0), (False, 0)]
    assert not any(text in out for text in HUMAN_TEXT)                      # :420-423
    assert list(result) == ["name", "description", "model", "testResults", "summary"]
    assert list(first) == ["testCase", "modelResponse", "evaluationResults"]
    assert first["testCase"] == {"expected": "hello world", "input": "hello", "reply": "hello world"}


@pytest.mark.gh_case(f"{E}:319")
def test_without_m_the_files_model_runs(capsys, gh_ws, openai_server):
    openai_server.set_scenario("gpt-4o", echo=True)
    code, out, err = gh_eval(capsys, gh_ws, JSON_TEST, "--format", "gh-json")
    assert out, err
    result = json.loads(out)
    assert result["model"] == "openai/gpt-4o" and len(sent_to(openai_server, "gpt-4o")) == 2
    assert sent_to(openai_server, "elsewhere") == []
    assert result["summary"]["passedTests"] == 1 and code == 1


# -- "json output vs human-readable output" ---------------------------------------------------------------------
COMPARISON_TEST = """
name: Output Comparison Test
description: Compare JSON vs human-readable output
model: openai/gpt-4o
testData:
  - input: "hello"
messages:
  - role: user
    content: "Say: {{input}}"
evaluators:
  - name: simple-check
    string:
      contains: "hello"
"""


@pytest.mark.gh_case(f"{E}:426")
@pytest.mark.gh_difference(TEXT_REPORT)
def test_the_text_report_of_a_passing_eval(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:470-478: no error; "Running evaluation:", the name, "✓ PASSED", a summary, "🎉"
    openai_server.set_scenario("gpt-4o", chunks=["hello world"])
    code, out, err = gh_eval(capsys, gh_ws, COMPARISON_TEST, "-m", "openai/gpt-4o")
    assert code == 0, err
    assert any(line.startswith("Test case 1  simple-check") and line.rstrip().endswith("✓") for line in out.splitlines())
    assert "1 passed, 0 failed, 0 could not be decided (100% passed)" in out


@pytest.mark.gh_case(f"{E}:426")
def test_the_json_of_a_passing_eval_has_no_human_text(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:486-505: no error, valid JSON without the human lines, name and counts
    openai_server.set_scenario("gpt-4o", chunks=["hello world"])
    code, out, err = gh_eval(capsys, gh_ws, COMPARISON_TEST, "-m", "openai/gpt-4o", "--format", "gh-json")
    assert code == 0, err
    result = json.loads(out)
    assert not any(text in out for text in HUMAN_TEXT)
    assert result["name"] == "Output Comparison Test"
    assert (result["summary"]["totalTests"], result["summary"]["passedTests"]) == (1, 1)
    assert "Say: hello" == sent_to(openai_server, "gpt-4o")[0]["messages"][0]["content"]


# -- "json flag works with failing tests" ------------------------------------------------------------------------
JSON_FAILING_TEST = """
name: JSON Failing Test
description: Testing JSON with failing evaluators
model: openai/gpt-4o
testData:
  - input: "hello"
    expected: "hello world"
messages:
  - role: user
    content: "{{input}}"
evaluators:
  - name: impossible-check
    string:
      contains: "impossible_string_that_wont_match"
"""


@pytest.mark.gh_case(f"{E}:508")
def test_the_json_of_a_failing_eval(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:553-564: FailedTests (exit 1), valid JSON, no human text
    openai_server.set_scenario("gpt-4o", chunks=["hello world"])
    code, out, err = gh_eval(capsys, gh_ws, JSON_FAILING_TEST, "-m", "openai/gpt-4o", "--format", "gh-json")
    assert code == 1, err
    result = json.loads(out)
    assert "Running evaluation:" not in out
    assert result["summary"] == {"totalTests": 1, "passedTests": 0, "failedTests": 1, "passRate": 0}


# -- "eval with responseFormat and jsonSchema" --------------------------------------------------------------------
SCHEMA_TEST = """
name: JSON Schema Evaluation
description: Testing responseFormat and jsonSchema in eval
model: openai/gpt-4o
responseFormat: json_schema
jsonSchema: '{"name": "response_schema", "strict": true, "schema": {"type": "object", "properties": {"message": {"type": "string", "description": "The response message"}, "confidence": {"type": "number", "description": "Confidence score"}}, "required": ["message"], "additionalProperties": false}}'
testData:
  - input: "hello"
    expected: "hello world"
messages:
  - role: user
    content: "Respond to: {{input}}"
evaluators:
  - name: contains-message
    string:
      contains: "message"
"""


@pytest.mark.gh_case(f"{E}:567")
def test_eval_sends_the_files_json_schema(capsys, gh_ws, openai_server):
    # asserted at eval_test.go:617-632: no error; the request's response format is json_schema with
    # the schema's name, strict and schema; the test passed
    openai_server.set_scenario("gpt-4o", chunks=['{"message": "hello world", "confidence": 0.95}'])
    code, out, err = gh_eval(capsys, gh_ws, SCHEMA_TEST, "-m", "openai/gpt-4o")
    assert code == 0, err
    [body] = sent_to(openai_server, "gpt-4o")
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "response_schema" and schema["strict"] is True and "schema" in schema
    assert "1 passed, 0 failed" in out
