"""``promptbench eval`` end to end: a real workspace whose catalog points at the loopback
OpenAI server (models under test and judges alike), exit codes as a CI gate would see
them, Ctrl+C and --resume; plus one run on the real embedded SmolLM2, fully offline."""

from __future__ import annotations

import _thread
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from promptbench import cli
from promptbench.commands import eval as eval_cmd
from promptbench.core.eval.runner import EvalProgress
from promptbench.testing.fakeclient import free_port

PROMPT = """\
name: Gate
model: gw-good   # a catalog name: the file's model is what eval runs without -m
modelParameters:
  maxTokens: 16
messages:
  - role: user
    content: 'Tell me about {{topic}}'
testData:
  - {topic: cats}
  - {topic: dogs}
evaluators:
  - name: says hello
    string: {contains: hello}
  - name: is an answer
    jsonSchema:
      schema: {type: object, required: [answer]}
  - name: judged
    llm:
      modelId: gw-judge
      prompt: 'Verdict on: {{completion}}'
      choices: [{choice: good, score: 1}, {choice: bad, score: 0}]
"""
GOOD = ['{"answer": ', '"hello"}']


@pytest.fixture(autouse=True)
def eval_registered(monkeypatch):
    """``eval`` on the real CLI parser, whether or not cli.py lists it yet."""
    build = cli.build_parser

    def build_parser():
        parser = build()
        sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
        if "eval" not in sub.choices:
            eval_cmd.register(sub)
            cli._accept_workspace_anywhere(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_parser)


@pytest.fixture
def ws(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    base = openai_server.base_url
    catalog = "".join(f"""
[models.{name}]
model = "openai/{name.removeprefix('gw-')}"
api_base = "{base}"
api_key_env = "PB_TEST_KEY"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 2.0
""" for name in ("gw-good", "gw-bad", "gw-slow", "gw-judge", "gw-maybe", "gw-down"))
    (workspace.root / "promptbench.toml").write_text(f"""
[compare]
default_models = ["gw-good"]

[timeouts]
connect_s = 2
first_token_s = 5
idle_s = 2

[retries]
max = 0

[eval]
concurrency = 2
{catalog}
[models.gw-gone]
model = "openai/gone"
api_base = "http://127.0.0.1:{free_port()}/v1"
""")
    workspace.create("gate.prompt.yml", PROMPT)
    for name in ("good", "slow", "judge"):
        openai_server.set_scenario(name, chunks=["good"] if name == "judge" else GOOD)
    openai_server.set_scenario("slow", chunks=GOOD, first_token_delay_s=0.3)
    openai_server.set_scenario("bad", chunks=[" nope"])
    openai_server.set_scenario("maybe", chunks=["maybe"])
    openai_server.set_scenario("down", fault="status", status_code=500)
    return workspace


def run(capsys, ws, *args):
    code = cli.main(["--workspace", str(ws.root), "eval", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_all_passed_exits_0_with_a_table_and_the_estimate_first(capsys, ws, openai_server):
    code, out, err = run(capsys, ws, "gate")
    assert code == 0, err
    assert err.splitlines()[0].startswith("gate.prompt.yml: 2 cells (1 version(s) x 2 test case(s) x 1 model(s)")
    assert "input tokens" in err and "at most $" in err and "judges: gw-judge" in err
    assert "eval " in err and "2/2 cells run" in err and "2/2 evaluated" in err  # the last progress line
    lines = out.splitlines()
    assert "gw-good" in lines[2]
    assert any(line.startswith("Test case 1  says hello") and line.rstrip().endswith("✓") for line in lines)
    assert any(line.startswith(" " * 13 + "judged") and "1.00 ✓" in line for line in lines)
    assert any(line.startswith("pass rate") and "100% (6/6)" in line for line in lines)
    assert "6 passed, 0 failed, 0 could not be decided (100% passed)" in out
    assert len([r for r in openai_server.log() if r["model"] == "judge"]) == 2


def test_a_failing_evaluator_exits_1_and_says_why(capsys, ws):
    code, out, err = run(capsys, ws, "gate", "-m", "gw-good", "-m", "gw-bad", "--test", "1")
    assert code == 1, err
    assert "failures and errors:" in out
    assert "Test case 2 · gw-bad · says hello (failed): output does not contain (ignoring case) 'hello'" in out
    assert "gw-good · says hello" not in out


def test_judge_errors_and_run_errors_exit_2_and_the_other_evaluators_are_still_reported(capsys, ws):
    # changed with gh-models compatibility: a judge reply naming no choice is a failure (exit 1), not an error
    code, out, err = run(capsys, ws, "gate", "--test", "0", "--judge", "gw-maybe", "--json")
    assert code == 1, err
    judged = {r["name"]: r for r in json.loads(out)["cells"][0]["evaluators"]}["judged"]
    assert judged["passed"] is False and judged["error"] is None and judged["judge_model"] == "gw-maybe"
    assert "judge answered 'maybe', which names none of 'good', 'bad'" in judged["reason"]
    for judge, needle in (("gw-down", "(server)"), ("gw-gone", "(connection)")):
        code, out, err = run(capsys, ws, "gate", "--test", "0", "--judge", judge, "--json")
        assert code == 2, err
        report = json.loads(out)
        by_name = {r["name"]: r for r in report["cells"][0]["evaluators"]}
        assert by_name["says hello"]["passed"] is True and by_name["is an answer"]["passed"] is True
        assert by_name["judged"]["passed"] is None and needle in by_name["judged"]["error"]
        assert by_name["judged"]["judge_model"] == judge
    code, out, err = run(capsys, ws, "gate", "--test", "0", "-m", "gw-down", "--json")
    assert code == 2
    report = json.loads(out)
    assert report["cells"][0]["status"] == "error" and report["summary"]["run_errors"] == 1
    assert all("the run failed (server)" in r["error"] for r in report["cells"][0]["evaluators"])


@pytest.mark.parametrize("args, needle", [
    (["nope"], "nope"),
    (["gate", "--test", "7"], "no test case 7"),
    (["gate", "--repeat", "0"], "--repeat must be a whole number >= 1"),
    (["gate", "--baseline", "missing0"], "no eval 'missing0'"),
    (["--resume", "missing0"], "no eval 'missing0'"),
    (["--resume", "x", "-m", "gw-good"], "drop -m"),
    ([], "give a PROMPT file"),
])
def test_bad_input_exits_2_with_one_line(capsys, ws, openai_server, args, needle):
    code, out, err = run(capsys, ws, *args)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1 and out == ""
    assert openai_server.log() == []


def test_a_prompt_without_evaluators_exits_2(capsys, ws, openai_server):
    ws.create("plain.prompt.yml", PROMPT.split("evaluators:")[0])
    code, out, err = run(capsys, ws, "plain")
    assert code == 2 and "plain.prompt.yml: no evaluators to run" in err and openai_server.log() == []


def test_json_report_and_baseline(capsys, ws):
    code, out, _ = run(capsys, ws, "gate", "--json")
    first = json.loads(out)
    assert code == 0 and first["summary"]["passed"] == 6 and first["baseline"] is None
    ws.save("gate.prompt.yml", PROMPT.replace("contains: hello", "contains: HOWDY"))
    code, out, _ = run(capsys, ws, "gate", "--baseline", first["eval_id"])
    assert code == 1
    assert f"against eval {first['eval_id']}: 2 regression(s), 0 improvement(s)" in out
    assert "  - Test case 1 · gw-good · says hello: 100% -> 0% passed" in out
    assert len({c["version"] for c in json.loads(run(capsys, ws, "gate", "--json")[1])["cells"]}) == 1


def test_ctrl_c_cancels_cleanly_and_resume_runs_only_what_did_not_finish(capsys, ws, openai_server):
    def interrupt_once_a_cell_finished():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            log = openai_server.log()
            if sum(r["model"] == "slow" for r in log) >= 2 and any(r["model"] == "judge" for r in log):
                time.sleep(0.05)
                _thread.interrupt_main()
                return
            time.sleep(0.01)

    threading.Thread(target=interrupt_once_a_cell_finished, daemon=True).start()
    code, out, err = run(capsys, ws, "gate", "-m", "gw-slow", "--repeat", "2", "--concurrency", "1")
    assert code == 130, err
    eval_id = err.strip().splitlines()[-1].rsplit(" ", 1)[1]
    assert f"Resume it with: promptbench eval --resume {eval_id}" in err and out == ""
    ran = sum(r["model"] == "slow" and r["outcome"] == "complete" for r in openai_server.log())
    before = openai_server.log()[-1]["id"]

    code, out, err = run(capsys, ws, "--resume", eval_id, "--json")
    assert code == 0, err
    assert "resuming eval" in err and "already finished (they are not run again)" in err
    report = json.loads(out)
    assert report["eval_id"] == eval_id and report["summary"]["passed"] == 12
    again = [r for r in openai_server.log(before) if r["model"] == "slow"]
    assert 1 <= ran and len(again) == 4 - ran
    assert len([r for r in openai_server.log() if r["model"] == "judge" and r["outcome"] == "complete"]) >= 4


def test_progress_redraws_in_place_on_a_terminal_and_prints_lines_otherwise():
    class Sink:
        def __init__(self):
            self.text = ""

        def write(self, s):
            self.text += s

        def flush(self):
            pass

        def isatty(self):
            return False

    def p(done, final=False):
        return EvalProgress("e1", done, 4, 1, 0.5, 1.0, 3.0, done, 0, final)

    tty, plain = Sink(), Sink()
    live, lines = eval_cmd.ProgressLine(tty, tty=True), eval_cmd.ProgressLine(plain, interval_s=3600)
    for progress in (p(1), p(2), p(4, final=True)):
        live(progress)
        lines(progress)
    live.close()
    assert tty.text.count("\r\x1b[2K") == 3 and tty.text.endswith("\n") and tty.text.count("\n") == 1
    assert "eval e1: 4/4 cells run, 1 error, 4/4 evaluated, $0.5000" in tty.text and "ETA 3s" in tty.text
    assert plain.text.splitlines() == [eval_cmd.progress_text(p(1)), eval_cmd.progress_text(p(4, final=True))]


@pytest.mark.local_model
def test_a_sample_prompt_evaluates_offline_on_the_local_model_with_the_default_local_judge(capsys, tmp_path,
                                                                                           monkeypatch):
    from promptbench.core.store.workspace import init_workspace, sample_prompts_dir

    for var in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # anything that tried the network would fail
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    store = init_workspace(tmp_path / "ws")  # the default settings: [eval] judge_model = local SmolLM2
    shutil.copyfile(Path(sample_prompts_dir()) / "summarize.prompt.yml", store.root / "summarize.prompt.yml")
    store.close()
    code = cli.main(["--workspace", str(store.root), "eval", "summarize", "-m", "local/smollm2-135m-instruct",
                     "--test", "0", "--json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    report = json.loads(out)
    (cell,) = report["cells"]
    assert cell["status"] == "finished" and cell["model"] == "local/smollm2-135m-instruct"
    assert [r["name"] for r in cell["evaluators"]] == ['Starts with "Summary:"', "Close to the expected summary"]
    assert all(r["passed"] is not None and r["error"] is None for r in cell["evaluators"])
    judged = cell["evaluators"][1]
    assert judged["judge_model"] == "local/smollm2-135m-instruct" and judged["kind"] == "github/similarity"
    assert report["judge_model"] == "local/smollm2-135m-instruct" and report["summary"]["errors"] == 0


def test_a_small_local_judge_is_called_a_smoke_test_in_the_report(capsys, ws, openai_server):
    from promptbench.commands.eval import format_report

    code, out, _err = run(capsys, ws, "gate", "--json")
    report = json.loads(out)
    assert "note:" not in format_report(report)  # gw-judge: no size known, no note
    report["judge_model"] = "local/smollm2-135m-instruct"
    text = format_report(report)
    assert "note: The judge, local/smollm2-135m-instruct, has about 135M parameters: its verdicts are a smoke test" in text
