"""``promptbench eval FILE --format gh-json``: the JSON ``gh models eval --json`` prints, for a
file shaped like gh-models' own example (a ``contains: '{{word}}'`` check, a name that does
not end in .prompt.yml), with fixed completions from the loopback server.

The expected verdicts follow gh-models' rules (cmd/eval/eval.go): the reply is trimmed;
string checks template the expected text with the test case, ``equals`` is exact, the
others compare lower-cased; a built-in judge's "1".."5" scores 0..1 and passes above 0; a
test passes when all its evaluators pass; passRate = passed / total x 100. gh-models' own
``--json`` test cases run through the CLI in test_gh_compat_eval_output.py.
"""

from __future__ import annotations

import json

import pytest

from promptbench import cli
from promptbench.core.eval.gh_json import GoMap, dumps_like_go
from tests.core.test_eval_cli import eval_registered  # noqa: F401  (the eval command on the CLI parser)

FILE = "greetings_prompt.yml"   # gh's examples are *_prompt.yml: any name works when given explicitly
PROMPT = """\
name: Greetings check
description: Replies to greetings and farewells
model: openai/gpt-4o
modelParameters:
  maxTokens: 40
testData:
  - input: hello world
    word: hello
    expected: a greeting back
  - input: goodbye world
    word: goodbye
    expected: a farewell back
messages:
  - role: system
    content: You answer greetings and farewells.
  - role: user
    content: 'Answer this: {{input}}'
evaluators:
  - name: mentions the word
    string:
      contains: '{{word}}'
  - name: opens politely
    string:
      startsWith: HELLO
  - name: exact reply
    string:
      equals: Hello there, friend!
  - name: close to expected
    uses: github/similarity
"""


@pytest.fixture
def ws(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    catalog = "".join(f'\n[models.{name}]\nmodel = "openai/{name}"\napi_base = "{openai_server.base_url}"\n'
                      f'api_key_env = "PB_TEST_KEY"\ninput_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n'
                      for name in ("replier", "grader"))
    (workspace.root / "promptbench.toml").write_text(f"[retries]\nmax = 0\n{catalog}")
    (workspace.root / FILE).write_text(PROMPT)
    openai_server.set_scenario("replier", chunks=["  Hello", " there, friend!\n"])   # trimmed before checks
    openai_server.set_scenario("grader", chunks=["3"])                                # similarity 3 -> 0.5
    return workspace


@pytest.mark.gh_rule("cmd/eval/eval.go:28-58", "cmd/eval/eval.go:207-211", "cmd/eval/eval.go:419",
                     "cmd/eval/eval.go:462-490")
@pytest.mark.gh_difference("'model' is the model run (-m) and --judge replaced the file's judge: gh models eval "
                           "has neither flag and prints the file's model (issue 13 item 5)")
def test_a_gh_shaped_file_gives_ghs_verdicts_as_ghs_json(capsys, ws):
    code = cli.main(["--workspace", str(ws.root), "eval", FILE, "-m", "replier", "--judge", "grader",
                     "--format", "gh-json"])
    out, err = capsys.readouterr()
    summary = json.loads(out)   # nothing but the JSON on stdout
    assert code == 1, err       # one test failed
    assert list(summary) == ["name", "description", "model", "testResults", "summary"]
    assert (summary["name"], summary["description"], summary["model"]) == (
        "Greetings check", "Replies to greetings and farewells", "replier")
    first, second = summary["testResults"]
    assert first["testCase"] == {"expected": "a greeting back", "input": "hello world", "word": "hello"}
    assert list(first["testCase"]) == ["expected", "input", "word"]    # a Go map: keys sorted
    assert first["modelResponse"] == "Hello there, friend!"
    verdicts = [[(e["evaluatorName"], e["passed"], e["score"]) for e in r["evaluationResults"]]
                for r in (first, second)]
    assert verdicts[0] == [("mentions the word", True, 1), ("opens politely", True, 1), ("exact reply", True, 1),
                           ("close to expected", True, 0.5)]
    assert verdicts[1] == [("mentions the word", False, 0), ("opens politely", True, 1), ("exact reply", True, 1),
                           ("close to expected", True, 0.5)]
    assert summary["summary"] == {"totalTests": 2, "passedTests": 1, "failedTests": 1, "passRate": 50}
    # the file's built-in would run on openai/gpt-4o in GitHub: the report says who judged instead
    assert "note: judged by grader instead of the file's openai/gpt-4o (1 evaluator; gh models eval would use " \
           "the file's)" in err
    assert all(list(e)[:3] == ["evaluatorName", "score", "passed"] for r in (first, second)
               for e in r["evaluationResults"])


@pytest.mark.gh_difference("gh models eval runs one model; promptbench prints a JSON array, one gh object per "
                           "model x version (README)")
def test_several_models_make_an_array_one_object_each(capsys, ws, openai_server):
    openai_server.set_scenario("grader", chunks=["1"])   # similarity 1 -> 0: fails
    code = cli.main(["--workspace", str(ws.root), "eval", FILE, "-m", "replier", "-m", "grader", "--judge", "grader",
                     "--format", "gh-json"])
    out, _ = capsys.readouterr()
    summaries = json.loads(out)
    assert code == 1 and [s["model"] for s in summaries] == ["replier", "grader"]
    assert [s["summary"]["passedTests"] for s in summaries] == [0, 0]
    assert all(s["summary"]["passRate"] == 0 for s in summaries)


def test_json_and_gh_json_cannot_both_be_asked(capsys, ws, openai_server):
    code = cli.main(["--workspace", str(ws.root), "eval", FILE, "--json", "--format", "gh-json"])
    _, err = capsys.readouterr()
    assert code == 2 and "--json and --format gh-json disagree" in err
    assert openai_server.log() == []   # refused before anything ran


@pytest.mark.gh_rule("cmd/eval/eval.go:228", "cmd/eval/eval.go:57")
def test_written_as_go_writes_it():
    # json.MarshalIndent(summary, "", "  "); details is omitempty
    value = {"name": "a<b & c>", "description": "", "model": "m", "testResults": None,
             "summary": {"totalTests": 0, "passedTests": 0, "failedTests": 0, "passRate": 100.0}}
    text = dumps_like_go(value)
    assert text.splitlines()[1] == '  "name": "a\\u003cb \\u0026 c\\u003e",'   # Go's HTML-safe escaping
    assert '"testResults": null' in text and '"passRate": 100\n' in text        # whole floats without ".0"
    case = dumps_like_go({"testCase": GoMap({"zeta": 1.0, "alpha": {"y": 2, "x": 0.5}})})
    assert json.loads(case) == {"testCase": {"alpha": {"x": 0.5, "y": 2}, "zeta": 1}}
    assert case.index('"alpha"') < case.index('"zeta"') and case.index('"x"') < case.index('"y"')


def test_reports_name_a_judge_that_replaced_the_files():
    from promptbench.core.eval.report import judge_overrides, overrides_text
    from promptbench.gui.evalview.texts import report_status

    spec = {"judge_model": "local/smollm2-135m-instruct", "evaluators": [
        {"name": "s", "string": {"contains": "x"}},
        {"name": "sim", "uses": "github/similarity"},
        {"name": "mine", "llm": {"modelId": "openai/gpt-4o-mini", "prompt": "p", "choices": []}},
        {"name": "same", "llm": {"modelId": "local/smollm2-135m-instruct", "prompt": "p", "choices": []}}]}
    overrides = judge_overrides(spec)
    assert [(o["evaluator"], o["file_model"]) for o in overrides] == [("sim", "openai/gpt-4o"),
                                                                     ("mine", "openai/gpt-4o-mini")]
    report = {"judge_model": spec["judge_model"], "judge_overrides": overrides, "status": "finished",
              "summary": {"passed": 1, "failed": 0, "pass_rate": 1.0, "cost_usd": 0.0}}
    text = overrides_text(report)
    assert text == ("judged by local/smollm2-135m-instruct instead of the file's openai/gpt-4o, openai/gpt-4o-mini "
                    "(2 evaluators; gh models eval would use the file's)")
    status = report_status(report)
    assert text in status and "local/smollm2-135m-instruct is a small local model" in status
    assert judge_overrides({**spec, "judge_model": None}) == []
