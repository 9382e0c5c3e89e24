"""``[eval] judging``: GitHub's reading of a judge's reply (the default) and the strict one.

Both readings are computed from the one reply and stored with the verdict; the configured
one decides; reports say which was used and show both where they disagree. The eval runs
through the real CLI against the loopback OpenAI server (models and judges alike)."""

from __future__ import annotations

import json

import pytest

from promptbench import cli
from promptbench.core.settings.config import ConfigError, parse_settings
from promptbench.core.eval.evaluators import EvalContext, build_evaluators
from promptbench.core.eval.evaluators.judge import LAST, OPENS, WHOLE, match_choice, strict_choice
from promptbench.core.eval.judging import judging_of
from promptbench.core.settings.write import set_general

SCALE = ["1", "2", "3", "4", "5"]


# -- the two readings of one reply -------------------------------------------------------------------

@pytest.mark.parametrize("reply,github,strict,rule", [
    ("5 (certainly not 1)", "1", "5", OPENS),     # GitHub: "1" is listed first and is in the reply
    ("10", "1", None, None),                       # "1" is no whole word of "10"
    ("1.5", "1", None, None),                      # nor of a decimal
    ("4", "4", "4", WHOLE),
    ("**4.**", "4", "4", WHOLE),                   # emphasis and a final period around a bare answer
    ("Score: 4/5", "4", "4", LAST),                # the 5 after "/" is the scale
    ("I'd give it 4 out of 5", "4", "4", LAST),
    ("The reply is fluent, but 1 sentence is off.\nScore: 3", "1", "3", LAST),
    ("1. It is coherent.\n2. It is fluent.\nScore: 4", "1", "4", LAST),  # "1." numbers a list
    ("Score: 3 (a 4 would need more detail)", "3", "3", LAST),           # an aside in parentheses
    ("maybe", None, None, None),
])
def test_both_readings_of_a_reply_on_a_1_to_5_scale(reply, github, strict, rule):
    assert match_choice(reply, SCALE) == github
    assert strict_choice(reply, SCALE) == (strict, rule)


def test_words_are_matched_whole_and_the_stated_answer_wins():
    assert match_choice("Yes, no doubt", ["no", "yes"]) == "no"          # "no" is listed first and is in the reply
    assert strict_choice("Yes, no doubt", ["no", "yes"]) == ("yes", OPENS)
    assert strict_choice("Goodness knows", ["good", "bad"]) == (None, None)
    assert strict_choice("Very good.", ["good", "very good"]) == ("very good", WHOLE)  # the longest at one place
    assert strict_choice("It is GOOD", ["Good", "bad"]) == ("Good", LAST)  # case ignored, the choice as written


def judged(reply: str, *, judging: str = "github", pass_threshold: float = 0.5, threshold: float | None = None):
    spec = {"modelId": "grader", "prompt": "Grade: {{completion}}",
            "choices": [{"choice": c, "score": (int(c) - 1) / 4} for c in SCALE]}
    if threshold is not None:
        spec["threshold"] = threshold

    async def judge(model, messages):  # the judge seam evaluators are given (core/eval_judge.py in an eval)
        return reply

    [evaluator] = build_evaluators([{"name": "Category matches", "llm": spec}], source="t.prompt.yml", judge=judge)
    evaluator.read_as(judging, pass_threshold)
    return evaluator.evaluate(EvalContext(output="x"))


def test_the_configured_reading_decides_and_the_result_keeps_both():
    github = judged("5 (certainly not 1)")
    assert (github.passed, github.score, github.details["choice"]) == (False, 0.0, "1")
    assert github.details["judging"] == "github"
    assert github.details["github"] == {"choice": "1", "score": 0.0, "passed": False}
    assert github.details["strict"] == {"choice": "5", "score": 1.0, "passed": True, "rule": OPENS}
    assert github.reason == ("judge chose '1' (score 0, passes when > 0) (the reply also names '5': GitHub takes the "
                             "first listed choice the reply contains); strict reading: pass ('5', score 1)")

    strict = judged("5 (certainly not 1)", judging="strict")
    assert (strict.passed, strict.score, strict.details["choice"]) == (True, 1.0, "5")
    assert strict.details["github"] == github.details["github"] and strict.details["also_named"] == ["5"]
    assert strict.reason == ("judge stated '5' (strict reading: the answer the reply opens with; score 1, passes when "
                             ">= 0.5); GitHub's reading: fail ('1', score 0)")


def test_the_strict_reading_passes_at_the_threshold_and_says_when_a_reply_states_nothing():
    assert judged("2", judging="strict").passed is False            # 0.25 < 0.5; GitHub passes it (> 0)
    assert judged("2").passed is True
    assert judged("3", judging="strict").passed is True             # 0.5 >= 0.5
    assert judged("4", judging="strict", pass_threshold=0.8).passed is False
    assert judged("4", judging="strict", pass_threshold=0.8, threshold=0.75).passed is True  # the evaluator's own wins
    none = judged("10", judging="strict")
    assert (none.passed, none.score, none.details["choice"]) == (False, 0.0, None)
    assert none.reason == ("judge answered '10', which states none of '1', '2', '3', '4', '5' as a whole word (strict "
                           "reading): score 0")  # GitHub also fails it ('1', score 0): the readings agree, no suffix
    same = judged("Yes")   # names no choice in either reading: the same verdict, so one reading is shown
    assert same.reason == "judge answered 'yes', which names none of '1', '2', '3', '4', '5': score 0"


# -- promptbench.toml ---------------------------------------------------------------------------------

def test_judging_and_pass_threshold_are_read_from_the_eval_table():
    default = parse_settings("")
    assert (default.eval_judging, default.eval_pass_threshold) == ("github", 0.5)
    strict = parse_settings('[eval]\njudging = "strict"\npass_threshold = 0.75\n')
    assert (strict.eval_judging, strict.eval_pass_threshold) == ("strict", 0.75)
    assert parse_settings("[eval]\npass_threshold = 1\n").eval_pass_threshold == 1.0


@pytest.mark.parametrize("toml,message", [
    ('[eval]\njudging = "lenient"\n', "promptbench.toml:2: eval.judging: expected \"github\" or \"strict\", got 'lenient'"),
    ("[eval]\njudging = 1\n", "promptbench.toml:2: eval.judging: expected str, got int"),
    ('[eval]\n\npass_threshold = "high"\n', "promptbench.toml:3: eval.pass_threshold: expected a number, got str"),
    ("[eval]\npass_threshold = true\n", "promptbench.toml:2: eval.pass_threshold: expected a number, got bool"),
    ("[eval]\npass_threshold = nan\n", "promptbench.toml:2: eval.pass_threshold: must be a finite number"),
    ("[eval]\njudgeing = \"strict\"\n", "eval.judgeing: unknown field; known: concurrency, embedding_model, judge_model, "
                                        "judging, pass_threshold"),
])
def test_a_bad_judging_setting_names_the_line_the_key_and_what_is_allowed(toml, message):
    with pytest.raises(ConfigError) as raised:
        parse_settings(toml)
    assert message in str(raised.value)


def test_settings_write_changes_only_the_judging_lines(tmp_path):
    path = tmp_path / "promptbench.toml"
    path.write_text('[eval]\njudge_model = "local/x"  # offline\n\n[retries]\nmax = 1\n')
    set_general(tmp_path, judging="github", pass_threshold=0.5)   # the defaults: nothing to write
    assert path.read_text() == '[eval]\njudge_model = "local/x"  # offline\n\n[retries]\nmax = 1\n'
    set_general(tmp_path, judging="strict", pass_threshold=0.75)
    assert path.read_text() == ('[eval]\njudge_model = "local/x"  # offline\njudging = "strict"\npass_threshold = 0.75\n'
                                '\n[retries]\nmax = 1\n')
    with pytest.raises(ConfigError, match='eval.judging: expected "github" or "strict"'):
        set_general(tmp_path, judging="loose")


def test_an_eval_stored_before_the_choice_existed_was_read_as_github_reads():
    assert judging_of({"evaluators": []}) == {"mode": "github", "pass_threshold": None}
    assert judging_of({"judging": {"mode": "strict", "pass_threshold": 0.6}}) == {"mode": "strict", "pass_threshold": 0.6}


# -- promptbench eval ---------------------------------------------------------------------------------

PROMPT = """\
name: Sorter
model: gw-good
messages:
  - role: user
    content: 'Sort {{item}}'
testData:
  - {item: apples}
  - {item: pears}
evaluators:
  - name: Category matches
    llm:
      modelId: gw-judge
      prompt: 'Rate 1-5: {{completion}}'
      choices: [{choice: '1', score: 0}, {choice: '2', score: 0.25}, {choice: '3', score: 0.5},
                {choice: '4', score: 0.75}, {choice: '5', score: 1}]
  - name: Sure of it
    llm:
      modelId: gw-vague
      prompt: 'Sure? {{completion}}'
      choices: [{choice: 'yes', score: 1}, {choice: 'no', score: 0}]
"""


def workspace_with(workspace, server, monkeypatch, eval_table: str = ""):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    catalog = "".join(f'\n[models.{name}]\nmodel = "openai/{name}"\napi_base = "{server.base_url}"\n'
                      f'api_key_env = "PB_TEST_KEY"\n' for name in ("gw-good", "gw-judge", "gw-vague"))
    (workspace.root / "promptbench.toml").write_text(
        f'[compare]\ndefault_models = ["gw-good"]\n\n[retries]\nmax = 0\n\n[eval]\nconcurrency = 2\n{eval_table}{catalog}')
    workspace.create("sorter.prompt.yml", PROMPT)
    server.set_scenario("gw-good", chunks=["fruit"])
    server.set_scenario("gw-judge", chunks=["5 (certainly not 1)"])
    server.set_scenario("gw-vague", chunks=["Perhaps"])
    return workspace


def run(capsys, ws, *args):
    code = cli.main(["--workspace", str(ws.root), "eval", "sorter.prompt.yml", *args])
    out, err = capsys.readouterr()
    return code, out, err


WARN_SEVERAL = "judge 'Category matches': 2 replies named several choices (GitHub took the first listed: '1')"
WARN_NONE = "judge 'Sure of it': 2 replies named none (scored 0)"


def test_a_github_eval_says_so_and_shows_the_strict_reading_where_it_disagrees(capsys, workspace, openai_server,
                                                                               monkeypatch):
    ws = workspace_with(workspace, openai_server, monkeypatch)
    code, out, err = run(capsys, ws)
    assert code == 1, err
    lines = out.splitlines()
    verdicts = next(i for i, line in enumerate(lines) if line.startswith("0 passed, 4 failed"))
    assert lines[verdicts + 2] == ("judged with GitHub's reading, as gh models eval: the first listed choice the reply "
                                   "contains; pass at score > 0")   # under the counts (and the judges' calls)
    row = next(line for line in lines if line.startswith("Test case 1  Category matches"))
    assert row.endswith("0.00 ✗ (strict: 1.00 ✓)")
    assert "  Test case 2 · gw-good · Category matches: GitHub's reading: fail ('1', score 0); strict reading: " \
           "pass ('5', score 1)" in lines
    assert "where the two readings of a judge's reply disagree:" in lines
    sure = next(line for line in lines if line.startswith(" " * 13 + "Sure of it"))
    assert "strict" not in sure                 # "Perhaps": no choice in either reading, one verdict
    assert f"note: {WARN_SEVERAL}" in lines and f"note: {WARN_NONE}" in lines

    code, out, err = run(capsys, ws, "--json")
    report = json.loads(out)
    assert report["judging"] == {"mode": "github", "pass_threshold": 0.5}
    [category, sure] = report["cells"][0]["evaluators"]
    assert (category["passed"], category["choice"], category["also_named"]) == (False, "1", ["5"])
    assert category["other_reading"] == {"mode": "strict", "choice": "5", "score": 1.0, "passed": True,
                                         "rule": "the answer the reply opens with"}
    assert "other_reading" not in sure and sure["choice"] is None
    assert [w["text"] for w in report["judge_warnings"]] == [WARN_SEVERAL, WARN_NONE]
    assert report["judge_warnings"][0]["github_took"] == {"1": 2}
    assert f"note: {WARN_SEVERAL}" in err       # on stderr too: stdout is only the JSON


def test_a_strict_eval_is_judged_by_the_stated_choice_and_keeps_its_reading(capsys, workspace, openai_server,
                                                                            monkeypatch):
    ws = workspace_with(workspace, openai_server, monkeypatch, 'judging = "strict"\npass_threshold = 0.75\n')
    code, out, err = run(capsys, ws, "--json")
    report = json.loads(out)
    assert code == 1, err                       # "Sure of it" still fails: "Perhaps" states no choice
    assert report["judging"] == {"mode": "strict", "pass_threshold": 0.75}
    category = report["cells"][0]["evaluators"][0]
    assert (category["passed"], category["score"], category["choice"]) == (True, 1.0, "5")
    assert category["other_reading"] == {"mode": "github", "choice": "1", "score": 0.0, "passed": False}
    assert category["reason"] == ("judge stated '5' (strict reading: the answer the reply opens with; score 1, passes "
                                  "when >= 0.75); GitHub's reading: fail ('1', score 0)")
    assert report["judge_warnings"][0]["text"] == (
        "judge 'Category matches': 2 replies named several choices (GitHub would take the first listed: '1'; the "
        "strict reading took the one each states)")
    assert report["judge_warnings"][1]["text"] == "judge 'Sure of it': 2 replies stated none as a whole word (scored 0)"

    # the reading is stored with the eval: its report says strict after the setting went back to github
    (ws.root / "promptbench.toml").write_text((ws.root / "promptbench.toml").read_text().replace(
        'judging = "strict"', 'judging = "github"'))
    from promptbench.commands.eval import format_report
    from promptbench.core.workbench import Workbench

    with Workbench(ws) as workbench:
        assert workbench.settings().eval_judging == "github"
        again = workbench.eval_runner().report(report["eval_id"])
    assert again["judging"] == {"mode": "strict", "pass_threshold": 0.75}
    text = format_report(again).splitlines()
    assert ('judged with the strict reading ([eval] judging = "strict"): whole-word choices, the one the '
                       "reply opens with or else the last one it states; pass at score >= 0.75. gh models eval reads "
                       "replies differently (the first listed choice the reply contains)") in text
    row = next(line for line in text if line.startswith("Test case 1  Category matches"))
    assert row.endswith("1.00 ✓ (GitHub: 0.00 ✗)")
