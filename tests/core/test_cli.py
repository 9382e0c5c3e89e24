"""The headless CLI over a real workspace: JSON shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from promptbench.cli import main
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"


@pytest.fixture
def ws(workspace):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.save(P, SIMPLE_PROMPT.replace("temperature: 0.2", "temperature: 0.8"), "v2")
    return workspace


def run(capsys, ws, *args):
    code = main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_history_json(capsys, ws):
    code, out, _ = run(capsys, ws, "history", P, "--json")
    data = json.loads(out)
    assert code == 0 and [v["message"] for v in data] == ["v2", "v1"]
    assert set(data[0]) >= {"sha", "author", "date", "message", "labels", "path"}


def test_history_accepts_bare_name(capsys, ws):
    code, out, _ = run(capsys, ws, "history", "greeter")
    assert code == 0 and "v2" in out and "v1" in out


def test_diff_text_and_json(capsys, ws):
    code, out, _ = run(capsys, ws, "diff", P, "~1", "~0")
    assert code == 0 and "+  temperature: 0.8" in out
    code, out, _ = run(capsys, ws, "diff", P, "~1", "HEAD", "--json")
    data = json.loads(out)
    assert data["structured"]["modelParameters"][0]["new"] == 0.8


def test_rollback_and_label(capsys, ws):
    code, out, _ = run(capsys, ws, "label", P, "production", "~1")
    assert code == 0 and "production" in out
    code, out, _ = run(capsys, ws, "rollback", P, "production", "--json")
    data = json.loads(out)
    assert code == 0 and data["version"]["message"].startswith("Roll back")
    assert (ws.root / P).read_text() == SIMPLE_PROMPT
    code, out, _ = run(capsys, ws, "label", P, "--json")
    assert set(json.loads(out)) == {"production"}


def test_render_with_test_case_and_vars(capsys, ws):
    code, out, _ = run(capsys, ws, "render", P, "--test", "1", "--json")
    data = json.loads(out)
    assert code == 0 and data["messages"][1]["content"] == "Say hello to Linus."
    code, out, _ = run(capsys, ws, "render", P, "--var", "name=Grace", "--var", "extra=1", "--json")
    data = json.loads(out)
    assert data["messages"][1]["content"] == "Say hello to Grace." and data["unused"] == ["extra"]


def test_render_leaves_a_missing_variable_as_written_and_warns(capsys, ws):
    # gh-models pkg/prompt/prompt.go TemplateString: a key without a value stays "{{name}}"
    code, out, err = run(capsys, ws, "render", P)
    assert code == 0 and "{{name}}" in out
    assert "# warning:" in err and "{{name}}" in err and "GitHub sends it as written" in err
    code, out, _ = run(capsys, ws, "render", P, "--json")
    data = json.loads(out)
    assert code == 0 and data["missing"] == ["name"] and any("{{name}}" in w for w in data["warnings"])


def test_list(capsys, ws):
    code, out, _ = run(capsys, ws, "list", "--json")
    assert json.loads(out) == [{"path": P, "modified": False}]


@pytest.mark.parametrize("args, needle", [
    (["history", "nope.prompt.yml"], "nope.prompt.yml"),
    (["diff", P, "deadbeef"], "unknown version"),
    (["rollback", P, "~9"], "goes back too far"),
    (["label", P, "bad name"], "label"),
    (["render", P, "--test", "7"], "test case"),
    (["render", "summarize"], "summarize: no prompt of that name in"),   # a bare name that is not there
    (["compare", "summarize", "-m", "local/smollm2-135m-instruct"], "'promptbench list' shows them"),
])
def test_errors_are_one_line(capsys, ws, args, needle):
    code, out, err = run(capsys, ws, *args)
    assert code == 2
    assert needle in err and err.startswith("promptbench: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_not_a_workspace_subprocess(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "promptbench", "--workspace", str(tmp_path), "history", P],
                          capture_output=True, text=True, env=dict(os.environ))
    assert proc.returncode == 2
    assert "not a git repository" in proc.stderr and "Traceback" not in proc.stderr


def test_init_with_samples(capsys, tmp_path):
    code = main(["init", str(tmp_path / "new"), "--samples"])
    out, _ = capsys.readouterr()
    assert code == 0 and "workspace ready" in out
    assert (tmp_path / "new" / ".gitignore").read_text().splitlines() == [".promptbench/"]


def test_any_yaml_file_named_explicitly_is_a_prompt_but_only_prompt_yml_is_listed(capsys, ws):
    (ws.root / "greeter_prompt.yml").write_text(SIMPLE_PROMPT)   # gh-models' own examples are named like this
    code, out, err = run(capsys, ws, "render", "greeter_prompt.yml", "--test", "0")
    assert code == 0, err
    assert "Ada" in out
    code, out, _ = run(capsys, ws, "list")
    assert code == 0 and "greeter_prompt.yml" not in out and P in out
    code, _, err = run(capsys, ws, "render", "missing_prompt.yml")   # a name that is no file stays refused
    assert code == 2 and "missing_prompt.yml: no prompt of that name" in err


def test_compare_says_done_like_the_app_and_its_json_keeps_the_stored_status(capsys, ws, openai_server):
    """A run that finished reads "done", as on the app's compare pane and in the CLI's own
    live table. (Issue 14: the CLI's summary lines said "finished" while both of those said
    "done"; the app's word was kept.) --json and the database keep the stored "finished"."""
    with open(ws.root / "promptbench.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[models.loop]\nmodel = "openai/loop"\napi_base = "{openai_server.base_url}"\n')
    openai_server.set_scenario("loop", chunks=["Hello", " Ada"])
    code, out, err = run(capsys, ws, "compare", P, "--test", "0", "-m", "loop")
    assert code == 0, err
    assert "=== loop (done)\nHello Ada" in out
    summary = [line for line in err.splitlines() if line.startswith("loop ")]
    assert len(summary) == 1 and summary[0].split()[1] == "done" and "finished" not in summary[0], err
    code, out, err = run(capsys, ws, "compare", P, "--test", "0", "-m", "loop", "--json")
    assert code == 0, err
    assert json.loads(out)["runs"][0]["status"] == "finished"
