"""Evaluators give the verdicts ``gh models eval`` gives (github/gh-models).

Each test replays a test case of gh-models' own tests (cmd/eval/eval_test.go), marked
``gh_case("file:line")`` at the line where the case starts, or checks a rule of its code
(cmd/eval/eval.go, cmd/eval/builtins.go, pkg/prompt/prompt.go), marked ``gh_rule``; both
are lines of github/gh-models at f38cd97d. Judges are models on the loopback
OpenAI-compatible server, asked over real HTTP, so their replies are fixed.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from promptbench.core.eval.evaluators import EvalContext, build_evaluators, evaluate_all, summarize
from promptbench.core.prompts.judge_prompts import RUBRICS
from promptbench.core.prompts.promptfile import parse_prompt_bytes
from tests.core.test_eval_run import bench, finish, requests_for, verdicts  # noqa: F401 (bench: a fixture)

SRC = "gh.prompt.yml"


def http_judge(server):
    """A judge that asks the loopback server over HTTP, as a provider is asked."""
    calls = []

    async def judge(model: str, messages: list[dict]) -> str:
        calls.append((model, messages))
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            reply = await client.post(f"{server.base_url}/chat/completions",
                                      json={"model": model, "messages": messages, "stream": False})
        reply.raise_for_status()
        return reply.json()["choices"][0]["message"]["content"]

    judge.calls = calls
    return judge


def verdict(spec: dict, output: str, case: dict | None = None, **kw):
    [evaluator] = build_evaluators([{"name": "e", **spec}], source=SRC, **kw)
    return evaluator.evaluate(EvalContext(output=output, test_case=case or {}))


# -- string evaluators ------------------------------------------------------------------------------
def eval_case(line: int, *values):
    """A parameter set replaying the eval_test.go table entry that starts at ``line``."""
    return pytest.param(*values, marks=pytest.mark.gh_case(f"cmd/eval/eval_test.go:{line}"))


@pytest.mark.parametrize("criterion,output,variables,passed", [
    eval_case(94, {"contains": "world"}, "hello world", None, True),           # contains match
    eval_case(100, {"contains": "world"}, "hello there", None, False),         # contains no match
    eval_case(106, {"equals": "exact"}, "exact", None, True),                  # equals match
    eval_case(112, {"equals": "exact"}, "not exact", None, False),             # equals no match
    eval_case(118, {"startsWith": "hello"}, "hello world", None, True),        # starts with match
    eval_case(124, {"endsWith": "world"}, "hello world", None, True),          # ends with match
    eval_case(130, {"contains": "{{expected}}"}, "hello world", {"expected": "world"}, True),     # contains with variable
    eval_case(137, {"contains": "{{expected}}"}, "hello world", {"expected": "goodbye"}, False),  # fails with variable not match
])
def test_string_evaluator_cases(criterion, output, variables, passed):
    # asserted at eval_test.go:148-154: no error, passed as expected, score 1 or 0
    result = verdict({"string": criterion}, output, variables)
    assert result.error is None and result.passed is passed and result.score == (1.0 if passed else 0.0)


@pytest.mark.gh_rule("cmd/eval/eval.go:468", "cmd/eval/eval.go:475", "cmd/eval/eval.go:482", "cmd/eval/eval.go:489")
def test_string_case_rules():
    # eval.go:468 equals is exact; :475, :482, :489 the others compare lower-cased
    assert verdict({"string": {"equals": "Exact"}}, "exact").passed is False
    assert verdict({"string": {"contains": "WORLD"}}, "Hello World").passed is True
    assert verdict({"string": {"startsWith": "HELLO"}}, "hello world").passed is True
    assert verdict({"string": {"endsWith": "World"}}, "HELLO WORLD").passed is True
    # eval.go:475 strings.ToLower is per character: a final Σ stays σ (Python's lower gives ς)
    assert verdict({"string": {"contains": "σ"}}, "ΟΔΟΣ").passed is True


@pytest.mark.gh_rule("cmd/eval/eval.go:419")
def test_the_reply_is_trimmed_before_any_evaluator_sees_it():
    # strings.TrimSpace of the model's reply, before eval.go:468
    assert verdict({"string": {"equals": "Yes"}}, "  Yes \n").passed is True
    assert verdict({"string": {"endsWith": "yes."}}, "Yes.\n\n").passed is True
    assert verdict({"string": {"startsWith": "yes"}}, "\u3000yes").passed is True  # Unicode white space too


@pytest.mark.gh_rule("cmd/eval/eval.go:462-490")
def test_only_the_first_non_empty_criterion_is_used():
    # equals, then contains, then startsWith, then endsWith
    both = {"equals": "nope", "contains": "hello"}
    assert verdict({"string": both}, "hello world").passed is False  # equals decides; contains is ignored
    assert verdict({"string": {"contains": "hello", "endsWith": "nope"}}, "hello world").passed is True
    assert verdict({"string": {"equals": "", "startsWith": "hel"}}, "hello").passed is True  # empty equals is skipped


@pytest.mark.gh_rule("cmd/eval/eval.go:491-492")
@pytest.mark.parametrize("criterion", [{"contains": ""}, {"isJSON": True}, {}, {"equals": None}])
def test_an_empty_or_unknown_criterion_is_an_error(criterion):
    # errors.New("no string evaluation criteria specified")
    result = verdict({"string": criterion}, "anything")
    assert result.passed is None and result.error == "no string evaluation criteria specified"


@pytest.mark.gh_rule("pkg/prompt/prompt.go:112")
def test_a_prompt_file_with_such_criteria_still_loads():
    # yaml.Unmarshal ignores unknown fields; the error comes at eval time
    prompt = parse_prompt_bytes(b"""\
name: loose
model: openai/gpt-4o
messages: [{role: user, content: hi}]
evaluators:
  - {name: empty, string: {contains: ''}}
  - {name: unknown, string: {isJSON: true}}
  - {name: several, string: {contains: a, endsWith: b}}
  - {name: plugin, uses: github/toxicity}
""", SRC)
    assert len(build_evaluators(prompt.evaluators, source=SRC, prompt=prompt)) == 4


@pytest.mark.gh_rule("pkg/prompt/prompt.go:188-195", "cmd/eval/eval.go:464")
def test_expected_text_is_templated_like_go():
    # exact {{key}} replaced, non-text values as Go's %v
    case = {"expected": 42, "ratio": 1.0, "flag": True, "big": 1e6}
    assert verdict({"string": {"equals": "{{expected}}"}}, "42", case).passed is True
    assert verdict({"string": {"equals": "{{ratio}} {{flag}} {{big}}"}}, "1 true 1e+06", case).passed is True
    # a placeholder with spaces, or with no key, stays as written (prompt.go:189 builds "{{" + key + "}}")
    spaced = verdict({"string": {"contains": "{{ expected }}"}}, "I wrote {{ expected }}", case)
    assert spaced.passed is True
    assert verdict({"string": {"contains": "{{missing}}"}}, "a {{missing}} b", case).passed is True


# -- llm evaluators ------------------------------------------------------------------------------------
LLM = {"modelId": "grader", "systemPrompt": "Grade {{expected}} strictly.",
       "prompt": "Reference: {{expected}}\nAnswer: {{completion}}",
       "choices": [{"choice": "Good", "score": 1}, {"choice": "bad", "score": 0}]}


@pytest.mark.gh_rule("cmd/eval/eval.go:509-515", "cmd/eval/eval.go:521-526")
def test_llm_prompt_is_templated_and_system_prompt_sent_as_written(openai_server):
    # eval.go:509-515 the prompt gets the test case plus completion;
    # :521-526 the system prompt is sent as written; :513 completion is the trimmed reply
    openai_server.set_scenario("grader", chunks=["GOOD"])
    judge = http_judge(openai_server)
    result = verdict({"llm": LLM}, "  Paris\n", {"expected": "Paris", "completion": "not this"}, judge=judge)
    assert result.passed is True and result.score == 1.0 and result.details["choice"] == "Good"
    [(model, messages)] = judge.calls
    assert model == "grader"
    assert messages == [{"role": "system", "content": "Grade {{expected}} strictly."},
                        {"role": "user", "content": "Reference: Paris\nAnswer: Paris"}]
    [request] = requests_for(openai_server, "grader")
    assert request["body"]["messages"] == messages


@pytest.mark.parametrize("reply,choice,score,passed", [
    ("5 (certainly not 1)", "1", 0.0, False),   # "1" is tried first and is in the reply
    ("  Score: 4  ", "4", 0.75, True),
    ("2", "2", 0.25, True),                      # passes: its score is > 0
    ("1", "1", 0.0, False),
])
@pytest.mark.gh_rule("cmd/eval/eval.go:544-552")
def test_llm_choice_is_the_first_listed_that_the_reply_contains(openai_server, reply, choice, score, passed):
    # reply trimmed and lower-cased, choices in list order,
    # strings.Contains with the lower-cased choice; passed iff choice.Score > 0
    openai_server.set_scenario("grader", chunks=[reply])
    spec = {**LLM, "choices": [{"choice": str(n), "score": (n - 1) / 4} for n in range(1, 6)]}
    result = verdict({"llm": spec}, "x", {"expected": "y"}, judge=http_judge(openai_server))
    assert (result.details["choice"], result.score, result.passed, result.error) == (choice, score, passed, None)
    if reply.startswith("5 ("):   # promptbench says where GitHub's rule may surprise a reader
        assert result.details["also_named"] == ["5"] and "also names '5'" in result.reason
    else:
        assert "also_named" not in result.details and "also names" not in result.reason


@pytest.mark.gh_rule("cmd/eval/eval.go:556-562")
def test_llm_reply_naming_no_choice_fails_with_score_zero(openai_server):
    # score 0, passed false, and no error
    openai_server.set_scenario("grader", chunks=["maybe"])
    result = verdict({"llm": LLM}, "x", {"expected": "y"}, judge=http_judge(openai_server))
    assert result.passed is False and result.score == 0.0 and result.error is None
    assert "names none of" in result.reason


# -- built-ins ---------------------------------------------------------------------------------------------
@pytest.mark.gh_case("cmd/eval/eval_test.go:159")
@pytest.mark.gh_rule("cmd/eval/builtins.go:8")
def test_plugin_github_similarity_scores_a_4(openai_server):
    # asserted at eval_test.go:189-193: reply "4" -> name kept, score 0.75, passed
    openai_server.set_scenario("openai/gpt-4o", chunks=["4"])
    judge = http_judge(openai_server)
    [e] = build_evaluators([{"name": "similarity", "uses": "github/similarity"}], source=SRC, judge=judge)
    result = e.evaluate(EvalContext("test response", {"input": "test question", "expected": "test answer"}))
    assert result.name == "similarity" and result.score == 0.75 and result.passed is True
    # builtins.go:8 the built-ins judge on openai/gpt-4o, with its rubric
    [(model, messages)] = judge.calls
    assert model == "openai/gpt-4o" and messages[0]["content"] == RUBRICS["github/similarity"].system_prompt
    assert messages[1]["content"].endswith("question: test question\ncorrect answer: test answer\n"
                                           "predicted answer: test response\nstars:")


@pytest.mark.parametrize("uses,reply,score,passed", [
    ("github/coherence", "1", 0.0, False),
    ("github/fluency", "2", 0.25, True),     # eval.go:550 passes at score > 0
    ("github/relevance", "3", 0.5, True),
    ("github/groundedness", "5", 1.0, True),
])
@pytest.mark.gh_rule("cmd/eval/builtins.go:50-56", "cmd/eval/eval.go:550")
def test_builtins_score_1_to_5_as_0_to_1(openai_server, uses, reply, score, passed):
    # builtins.go:50-56 (and each built-in's Choices): "1".."5" -> 0, .25, .5, .75, 1
    openai_server.set_scenario("openai/gpt-4o", chunks=[f"Let's think step by step: fine.\n{reply}"])
    [e] = build_evaluators([{"name": "b", "uses": uses}], source=SRC, judge=http_judge(openai_server))
    result = e.evaluate(EvalContext("An answer.", {"input": "A question?", "expected": "The source."}))
    assert (result.score, result.passed, result.error) == (score, passed, None)


@pytest.mark.gh_rule("cmd/eval/builtins.go:366", "cmd/eval/builtins.go:121")
def test_builtin_variables(openai_server):
    # builtins.go:366 groundedness: CONTEXT is {{expected}}; :121 coherence and
    # relevance QUERY/RESPONSE; fluency only RESPONSE: {{completion}}
    openai_server.set_scenario("openai/gpt-4o", chunks=["5"])
    case = {"input": "When?", "expected": "Open at 9.", "context": "not used"}
    sent = {}
    for uses in RUBRICS:
        judge = http_judge(openai_server)
        [e] = build_evaluators([{"name": "b", "uses": uses}], source=SRC, judge=judge)
        e.evaluate(EvalContext(" At 9. ", case))
        sent[uses] = judge.calls[0][1][1]["content"]
    assert "CONTEXT: Open at 9.\nQUERY: When?\nRESPONSE: At 9.\n" in sent["github/groundedness"]
    assert "QUERY: When?\nRESPONSE: At 9.\n" in sent["github/coherence"]
    assert "QUERY: When?\nRESPONSE: At 9.\n" in sent["github/relevance"]
    assert "RESPONSE: At 9.\n" in sent["github/fluency"] and "When?" not in sent["github/fluency"].split("# Data")[1]
    assert all("not used" not in text and "{{" not in text for text in sent.values())


@pytest.mark.gh_rule("cmd/eval/eval.go:567-579")
@pytest.mark.parametrize("uses", ["github/toxicity", "similarity"])
def test_unknown_plugin_is_a_failed_result(uses):
    # only "github/" + a built-in's name; otherwise
    # score 0, passed false, "Plugin evaluator '...' not found" (no error)
    result = verdict({"uses": uses}, "x")
    assert result.passed is False and result.score == 0.0 and result.error is None
    assert result.reason.startswith(f"Plugin evaluator '{uses}' not found")


# -- test cases and pass rate -------------------------------------------------------------------------------
FILE = b"""\
name: JSON Test Evaluation
model: openai/gpt-4o
testData:
  - {input: hello, expected: hello world}
  - {input: test, expected: test response}
messages: [{role: user, content: 'Respond to: {{input}}'}]
evaluators:
  - {name: contains-hello, string: {contains: hello}}
  - {name: exact-match, string: {equals: hello world}}
"""


@pytest.mark.gh_case("cmd/eval/eval_test.go:319")
@pytest.mark.gh_rule("cmd/eval/eval.go:190-210")
def test_a_test_case_passes_when_all_its_evaluators_pass():
    # asserted at eval_test.go:396-417 (two test cases, replies "hello world" and "test output");
    # through the CLI in test_gh_compat_eval_output.py
    prompt = parse_prompt_bytes(FILE, SRC)
    evaluators = build_evaluators(prompt.evaluators, source=SRC, prompt=prompt)
    cells = [asyncio.run(evaluate_all(evaluators, EvalContext(reply, case)))
             for reply, case in zip(["hello world", "test output"], prompt.test_data)]
    assert [(r.passed, r.score) for r in cells[0]] == [(True, 1.0), (True, 1.0)]    # eval_test.go:405-408
    assert [(r.passed, r.score) for r in cells[1]] == [(False, 0.0), (False, 0.0)]  # eval_test.go:414-417
    # eval.go:190-210: a test passes iff every evaluator passed; rate = passed/total x 100
    cell_summary = summarize(cells)["cells"]
    assert (cell_summary["n"], cell_summary["passed"], cell_summary["failed"]) == (2, 1, 1)  # eval_test.go:396-398
    assert cell_summary["pass_rate"] * 100 == 50.0                                            # eval_test.go:399


@pytest.mark.parametrize("criterion,reply,passed", [
    eval_case(206, "test", "test response", True),                                      # asserted at :259
    eval_case(262, "nonexistent text", "actual model response", False),                # asserted at :314
    eval_case(426, "hello", "hello world", True),                                       # asserted at :476
    eval_case(508, "impossible_string_that_wont_match", "hello world", False),          # asserted at :554
    eval_case(567, "message", '{"message": "hello world", "confidence": 0.95}', True),  # asserted at :631
])
def test_command_level_verdicts(criterion, reply, passed):
    # the verdicts of gh's command-level cases; the whole commands run in test_gh_compat_eval_output.py
    assert verdict({"string": {"contains": criterion}}, reply).passed is passed


@pytest.mark.gh_case("cmd/eval/eval_test.go:19")
def test_a_file_with_a_string_and_a_builtin_loads_both():
    # asserted at eval_test.go:59 (two evaluators: contains-world and github/similarity)
    prompt = parse_prompt_bytes(b"""\
name: Test Evaluation
model: openai/gpt-4o
testData: [{input: hello, expected: hello world}]
messages: [{role: user, content: 'Please respond to: {{input}}'}]
evaluators:
  - {name: contains-world, string: {contains: world}}
  - {name: similarity-check, uses: github/similarity}
""", SRC)
    assert [e.kind for e in build_evaluators(prompt.evaluators, source=SRC, prompt=prompt)] == ["string", "github/similarity"]


# -- through promptbench eval (engine, SQLite, loopback server) -------------------------------------------------
E2E = """\
name: Compat
model: openai/gpt-4o-mini
messages: [{role: user, content: 'Tell me about {{topic}}'}]
testData:
  - {topic: cats, expected: Cats}
evaluators:
  - {name: equals-expected, string: {equals: '{{expected}}'}}
  - {name: judged, uses: github/relevance}
"""


@pytest.mark.gh_rule("cmd/eval/eval.go:419", "cmd/eval/eval.go:464", "cmd/eval/eval.go:532-536",
                     "cmd/eval/eval.go:550")
def test_eval_run_trims_templates_and_judges_as_gh(bench, openai_server, workspace):
    # eval.go:419 (reply trimmed), :464 ({{expected}} templated), :532-536 (the
    # judge is sent model and messages only), builtins.go "1".."5" with "2" passing (eval.go:550)
    workspace.create("compat.prompt.yml", E2E)
    openai_server.set_scenario("judge", chunks=["Let's think step by step: on topic.\n", "2"])
    runner = bench.runner()
    eval_id = runner.start("compat.prompt.yml", models=bench.models("good", chunks=["\n  Cats ", "\n"]),
                           judge_model="judge")
    report = finish(runner, eval_id)
    assert verdicts(report) == {(0, "good", 0, "equals-expected"): True, (0, "good", 0, "judged"): True}
    judged = next(r for r in report["cells"][0]["evaluators"] if r["name"] == "judged")
    assert judged["score"] == 0.25 and judged["judge_model"] == "judge"
    [request] = requests_for(openai_server, "judge")
    assert "temperature" not in request["body"] and "max_tokens" not in request["body"]
    assert "QUERY: {{input}}\nRESPONSE: Cats\n" in request["body"]["messages"][-1]["content"]  # no input key: as written
