"""promptbench's own evaluator kinds live under ``promptbenchEvaluators``, which ``gh models
eval`` ignores, so a file promptbench writes always runs in GitHub; one written under
``evaluators`` still runs here but gets a problem at its line with a one-click move. Also the
other one-click fixes for what GitHub reads differently, and the warning for a built-in
whose variables the test data lacks."""

from __future__ import annotations

import json
import textwrap

import pytest

from promptbench import cli
from promptbench.core.prompts import yamlio
from promptbench.core.errors import Problem, PromptbenchError, PromptFileError
from promptbench.core.eval.judges import build_eval_evaluators
from promptbench.core.prompts.promptfile import parse_prompt
from promptbench.core.prompts.fixes import apply_fix, fix_label
from promptbench.core.prompts.schema import check
from tests.core.test_eval_cli import eval_registered  # noqa: F401  (the eval command on the CLI parser)

SRC = "t.prompt.yml"


def d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


BASE = d("""
    name: Digits
    messages:
      - role: user
        content: Give a number
    evaluators:
      - name: says a number
        string:
          contains: "1"
    """)


def warnings_of(text: str) -> list[Problem]:
    return check(yamlio.load(text), SRC)[1]


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    import difflib

    return [(tag, line) for line in difflib.ndiff(before.splitlines(), after.splitlines())
            for tag in line[:1] if tag in "+-"]


# -- where promptbench's own kinds belong -----------------------------------------------------
def test_own_kinds_under_promptbench_evaluators_load_without_a_word_and_run_after_ghs():
    text = BASE + d("""
        promptbenchEvaluators:
          - name: has digits
            regex:
              pattern: '[0-9]+'
          - name: valid json
            json: true
        """)
    prompt = parse_prompt(text, SRC)
    assert prompt.warnings == []
    assert [e["name"] for e in prompt.evaluators] == ["says a number", "has digits", "valid json"]
    assert [f for f, _ in prompt.evaluator_entries] == ["evaluators[0]", "promptbenchEvaluators[0]", "promptbenchEvaluators[1]"]
    built = build_eval_evaluators(prompt, SRC, judge_model=None, embedding_model=None)
    assert [(e.name, e.kind) for e in built] == [("says a number", "string"), ("has digits", "regex"), ("valid json", "json")]


def test_a_fault_in_promptbench_evaluators_is_named_at_its_own_field():
    text = BASE + "promptbenchEvaluators:\n  - name: bad\n    regex:\n      pattern: '[0-9'\n"
    prompt = parse_prompt(text, SRC)
    with pytest.raises(PromptFileError) as info:
        build_eval_evaluators(prompt, SRC, judge_model=None, embedding_model=None)
    assert info.value.problems[0].field == "promptbenchEvaluators[0].regex.pattern"


def test_names_are_unique_across_both_sections():
    text = BASE + "promptbenchEvaluators:\n  - name: says a number\n    json: true\n"
    with pytest.raises(PromptFileError) as info:
        parse_prompt(text, SRC)
    assert info.value.problems[0].field == "promptbenchEvaluators[0].name"
    assert "duplicate evaluator name 'says a number' (first on line 6)" in info.value.problems[0].message


def test_an_own_kind_under_evaluators_runs_but_says_gh_stops_there_with_a_move():
    text = BASE + "  - name: has digits\n    regex:\n      pattern: '[0-9]+'\n"
    prompt = parse_prompt(text, SRC)   # loads: nothing is lost, promptbench still runs it
    [warning] = prompt.warnings
    assert (warning.line, warning.field, warning.fix) == (9, "evaluators[1]", "move-evaluator")
    assert warning.message == ("`gh models eval` will stop at this evaluator: regex is promptbench's own kind; "
                               "move it to promptbenchEvaluators, which GitHub ignores")
    assert fix_label(warning) == "Move to promptbenchEvaluators"
    fixed = apply_fix(text, warning)
    assert changed_lines(text, fixed) == [("+", "+ promptbenchEvaluators:")]   # the block stays, a header comes before
    after = parse_prompt(fixed, SRC)
    assert after.warnings == [] and [f for f, _ in after.evaluator_entries] == ["evaluators[0]", "promptbenchEvaluators[0]"]


def test_moving_the_only_evaluator_removes_the_empty_list_and_appends_to_an_existing_section():
    text = d("""
        messages:
          - role: user
            content: hi
        evaluators:
          - name: digits
            regex:
              pattern: '[0-9]'
        promptbenchEvaluators:
          - name: json
            json: true
        """)
    [warning] = warnings_of(text)
    fixed = apply_fix(text, warning)
    data = yamlio.to_plain(yamlio.load(fixed))
    assert "evaluators" not in data
    assert [e["name"] for e in data["promptbenchEvaluators"]] == ["json", "digits"]


def test_a_fix_whose_problem_is_gone_says_so_and_changes_nothing():
    text = BASE + "  - name: has digits\n    regex:\n      pattern: '[0-9]+'\n"
    [warning] = warnings_of(text)
    with pytest.raises(PromptbenchError, match="no longer there"):
        apply_fix(BASE, warning)
    with pytest.raises(PromptbenchError, match="no automatic fix"):
        apply_fix(text, Problem(SRC, 1, "name", "whatever"))


# -- the other one-click fixes ---------------------------------------------------------------
def test_max_tokens_is_renamed_in_place_keeping_its_comment_and_quotes():
    text = d("""
        modelParameters:
          temperature: 0.2
          max_tokens: 100  # from the Models UI
          'top_p': 0.9
        messages:
          - role: user
            content: hi
        """)
    found = {w.field: w for w in warnings_of(text)}
    assert fix_label(found["modelParameters.max_tokens"]) == "Rename to maxTokens"
    fixed = apply_fix(text, found["modelParameters.max_tokens"])
    assert changed_lines(text, fixed) == [("-", "-   max_tokens: 100  # from the Models UI"),
                                          ("+", "+   maxTokens: 100  # from the Models UI")]
    fixed = apply_fix(fixed, {w.field: w for w in warnings_of(fixed)}["modelParameters.top_p"])
    assert "  'topP': 0.9\n" in fixed and parse_prompt(fixed, SRC).model_parameters == {
        "temperature": 0.2, "maxTokens": 100, "topP": 0.9}
    assert warnings_of(fixed) == []


def test_an_ignored_duplicate_of_a_set_parameter_is_removed():
    text = "modelParameters:\n  maxTokens: 50\n  max_completion_tokens: 80\nmessages:\n  - role: user\n    content: hi\n"
    [warning] = warnings_of(text)
    assert fix_label(warning) == "Rename to maxTokens"
    fixed = apply_fix(text, warning)
    assert changed_lines(text, fixed) == [("-", "-   max_completion_tokens: 80")]


def test_spaces_are_removed_from_placeholders_on_that_line_only():
    text = d("""
        messages:
          - role: system
            content: "Be brief about {{ topic }}."
          - role: user
            content: |
              Tell me about {{ topic }}
              and {{ other }}, and {{ok}}.
        testData:
          - topic: owls
            other: bats
            ok: yes
        """)
    warnings = warnings_of(text)
    assert [(w.line, w.fix) for w in warnings] == [(3, "unspace-placeholder"), (6, "unspace-placeholder"),
                                                   (7, "unspace-placeholder")]
    fixed = apply_fix(text, warnings[1])
    assert changed_lines(text, fixed) == [("-", "-       Tell me about {{ topic }}"), ("+", "+       Tell me about {{topic}}")]
    for _ in range(2):
        fixed = apply_fix(fixed, warnings_of(fixed)[0])
    assert warnings_of(fixed) == []
    assert parse_prompt(fixed, SRC).variables == ["topic", "other", "ok"]


def test_a_yaml_mapping_json_schema_becomes_a_json_string_gh_accepts():
    text = d("""
        responseFormat: json_schema
        jsonSchema:   # the reply's shape
          name: person
          strict: true
          schema:
            type: object
            properties:
              age: {type: integer}
        messages:
          - role: user
            content: hi
        """)
    with pytest.raises(PromptFileError) as info:
        parse_prompt(text, SRC)
    [problem] = info.value.problems
    assert (problem.line, problem.fix, fix_label(problem)) == (2, "jsonschema-to-string", "Write as a JSON string")
    fixed = apply_fix(text, problem)
    prompt = parse_prompt(fixed, SRC)
    assert prompt.json_schema == {"name": "person", "strict": True,
                                  "schema": {"type": "object", "properties": {"age": {"type": "integer"}}}}
    assert isinstance(yamlio.load(fixed)["jsonSchema"], str)
    assert fixed.startswith("responseFormat: json_schema\njsonSchema: |-\n  {\n    \"name\": \"person\",\n")
    assert fixed.endswith("messages:\n  - role: user\n    content: hi\n")


# -- built-ins whose variables the test data lacks ---------------------------------------------
@pytest.mark.parametrize("uses, cases, expected", [
    ("github/similarity", "  - input: a\n    expected: b\n", []),
    ("github/fluency", "", []),
    ("github/coherence", "  - question: a\n", ["github/coherence reads {{input}} from the test data, but no test case "
                                               "gives it: GitHub sends {{input}} as written"]),
    ("github/groundedness", "  - input: a\n    expected: ctx\n  - input: b\n",
     ["github/groundedness reads {{expected}} (its context) from the test data, but test case 2 lacks it: "
      "GitHub sends {{expected}} as written"]),
    ("github/relevance", "", ["github/relevance reads {{input}} from the test data, but no test case gives it: "
                              "GitHub sends {{input}} as written"]),
])
def test_a_builtin_says_which_variables_the_test_data_lacks(uses, cases, expected):
    text = ("messages:\n  - role: user\n    content: hi\n" + (f"testData:\n{cases}" if cases else "")
            + f"evaluators:\n  - name: b\n    uses: {uses}\n")
    warnings = warnings_of(text)
    assert [w.message for w in warnings] == expected
    assert all(w.field == "evaluators[0].uses" and w.line == text.count("\n") for w in warnings)


# -- gh's JSON leaves promptbench's own evaluators out, and says so ----------------------------
@pytest.fixture
def ws(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    (workspace.root / "promptbench.toml").write_text(
        f'[retries]\nmax = 0\n[models.replier]\nmodel = "openai/replier"\napi_base = "{openai_server.base_url}"\n'
        'api_key_env = "PB_TEST_KEY"\ninput_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n')
    text = BASE + "promptbenchEvaluators:\n  - name: is json\n    json: true\n"
    (workspace.root / "digits.prompt.yml").write_text(text)
    openai_server.set_scenario("replier", chunks=["It is 1"])
    return workspace


def test_gh_json_leaves_out_promptbench_evaluators_with_a_note_and_its_exit_code_follows_what_it_prints(capsys, ws):
    code = cli.main(["--workspace", str(ws.root), "eval", "digits.prompt.yml", "-m", "replier", "--format", "gh-json"])
    out, err = capsys.readouterr()
    summary = json.loads(out)
    assert [e["evaluatorName"] for e in summary["testResults"][0]["evaluationResults"]] == ["says a number"]
    assert summary["summary"] == {"totalTests": 1, "passedTests": 1, "failedTests": 0, "passRate": 100}
    assert code == 0, err
    assert ("note: 1 promptbench evaluator (is json) ran but is left out, as gh models eval ignores "
            "promptbenchEvaluators: 1 result of them failed (--format text or json include them)") in err

    code = cli.main(["--workspace", str(ws.root), "eval", "digits.prompt.yml", "-m", "replier", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1   # promptbench's own gate counts its own evaluators
    assert [(r["name"], r["passed"]) for r in report["cells"][0]["evaluators"]] == [("says a number", True), ("is json", False)]


def test_eval_warns_where_github_would_read_the_file_differently(capsys, ws):
    text = BASE + "  - name: has digits\n    regex:\n      pattern: '[0-9]+'\n"
    (ws.root / "misplaced.prompt.yml").write_text(text)
    code = cli.main(["--workspace", str(ws.root), "eval", "misplaced.prompt.yml", "-m", "replier"])
    out, err = capsys.readouterr()
    assert code == 0, err   # promptbench still runs it ...
    assert "has digits" in out
    # ... and says GitHub would not
    assert ("warning: misplaced.prompt.yml:9: evaluators[1]: `gh models eval` will stop at this evaluator: regex is "
            "promptbench's own kind; move it to promptbenchEvaluators, which GitHub ignores") in err


@pytest.mark.parametrize("line, fixed_line", [
    ("    content: 42\n", "    content: '42'\n"),
    ("    content: 1.50   # a price\n", "    content: '1.50'   # a price\n"),
    ("  - {role: user, content: 7}\n", "  - {role: user, content: '7'}\n"),
])
def test_a_number_where_text_belongs_is_quoted_as_written(line, fixed_line):
    text = "name: n\nmessages:\n" + ("  - role: user\n" + line if not line.startswith("  - {") else line)
    with pytest.raises(PromptFileError) as info:
        parse_prompt(text, SRC)
    [problem] = info.value.problems
    assert (problem.fix, fix_label(problem)) == ("quote-value", "Quote it as text")
    fixed = apply_fix(text, problem)
    assert changed_lines(text, fixed) == [("-", "- " + line.rstrip("\n")), ("+", "+ " + fixed_line.rstrip("\n"))]
    assert parse_prompt(fixed, SRC).messages[0].content == fixed_line.split("'")[1]


def test_an_llm_threshold_is_flagged_since_github_passes_any_score_above_zero():
    text = d("""
        messages:
          - role: user
            content: hi
        evaluators:
          - name: judged
            llm:
              modelId: openai/gpt-4o
              prompt: 'Good? {{completion}}'
              threshold: 0.5
              choices: [{choice: good, score: 1}, {choice: meh, score: 0.25}]
        """)
    [warning] = warnings_of(text)
    assert (warning.line, warning.field) == (9, "evaluators[0].llm.threshold")
    assert warning.message == "gh models eval ignores threshold and passes any choice scored above 0: verdicts can differ"
