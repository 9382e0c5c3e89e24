"""The public Python API (issue 14 item 5), used as a script would: only ``import promptbench``.

A real git workspace in tmp_path, real commits checked with ``git show``, and a comparison
streamed from the loopback OpenAI-compatible server through the same engine the app uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import promptbench
from tests.conftest import SIMPLE_PROMPT

GREETER = SIMPLE_PROMPT.replace("temperature: 0.2\n", "temperature: 0.2 # kept cool\n")  # a comment on the line edited


@pytest.fixture
def root(workspace, openai_server, monkeypatch):
    """The workspace folder with a catalog whose model streams from the loopback server.
    (The fixture makes the git repository; everything else goes through the API.)"""
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    catalog = "".join(f"""
[models.gw-{name}]
model = "openai/{name}"
api_base = "{openai_server.base_url}"
api_key_env = "PB_TEST_KEY"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 2.0
""" for name in ("echo", "words"))
    (workspace.root / "promptbench.toml").write_text('[compare]\ndefault_models = ["gw-echo"]\n[retries]\nmax = 0\n' + catalog)
    openai_server.set_scenario("echo", echo=True, prompt_tokens=17, completion_tokens=4)
    openai_server.set_scenario("words", chunks=["Hello", ",", " Ada", "!"], prompt_tokens=17)
    workspace.close()
    return workspace.root


def git(root, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def commits(root) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def test_save_a_one_value_edit_roll_back_and_compare_on_the_loopback_server(root, openai_server):
    with promptbench.Workspace(root) as ws:
        created = ws.prompts.save("greeter.prompt.yml", GREETER, message="Add the greeter")
        assert created.subject == "Add the greeter" and "greeter.prompt.yml" in ws.prompts.list()

        # a one-value edit is a one-line commit; the comment on that line and the rest stay
        p = ws.prompts.read("greeter")
        assert isinstance(p, promptbench.PromptFile) and p.model_parameters["temperature"] == 0.2
        p.set_model_parameter("temperature", 0.7)
        version = ws.prompts.save("greeter", p, message="Warmer")
        assert version.subject == "Warmer"
        assert git(root, "show", "--numstat", "--format=", "HEAD").split() == ["1", "1", "greeter.prompt.yml"]
        assert "+  temperature: 0.7 # kept cool" in git(root, "show", "HEAD").splitlines()

        # saving unchanged content makes no commit
        before = commits(root)
        assert ws.prompts.save("greeter", ws.prompts.read("greeter"), message="nothing") is None
        assert commits(root) == before

        # a test-case value, set as the structured editor sets it: one line too
        p = ws.prompts.read("greeter")
        p.set(["testData", 0, "name"], "Grace")
        ws.prompts.save("greeter", p)
        assert git(root, "show", "--numstat", "--format=", "HEAD").split() == ["1", "1", "greeter.prompt.yml"]
        assert git(root, "show", "HEAD").count("\n+  - name: Grace\n") == 1

        assert [v.subject for v in ws.prompts.history("greeter")][1:] == ["Warmer", "Add the greeter"]

        # roll back the test-case edit, then the temperature: the file is as first written
        result = ws.prompts.rollback("greeter", "~1")
        assert result.version is not None and result.snapshot is None
        assert ws.prompts.read("greeter").test_data[0] == {"name": "Ada"}
        assert ws.prompts.read("greeter").model_parameters["temperature"] == 0.7
        ws.prompts.rollback("greeter", "HEAD~3")
        assert (root / "greeter.prompt.yml").read_text() == GREETER
        assert ws.prompts.read("greeter", rev="HEAD~1").model_parameters["temperature"] == 0.7

        # a comparison on two models, test case 2 (index 1), streamed from the loopback server
        compared = ws.compare("greeter", models=["gw-echo", "gw-words"], test=1)
        assert compared.ok and compared.prompt == "greeter.prompt.yml" and compared.test_case == 1
        assert compared.prompt_version == git(root, "rev-parse", "HEAD").strip()
        echo, words = compared.runs
        assert (echo["model_name"], echo["status"], echo["output"]) == ("gw-echo", "finished", "Say hello to Linus.")
        assert (words["model_name"], words["output"]) == ("gw-words", "Hello, Ada!")
        assert (echo["input_tokens"], echo["output_tokens"], echo["tokens_reported"]) == (17, 4, True)
        assert (words["input_tokens"], words["output_tokens"], words["tokens_reported"]) == (17, 4, True)
        assert echo["cost_usd"] == pytest.approx((17 * 1.0 + 4 * 2.0) / 1e6)
        sent = [r["body"] for r in openai_server.log() if r["path"].endswith("/chat/completions")]
        assert len(sent) == 2 and all(b["messages"][-1] == {"role": "user", "content": "Say hello to Linus."} for b in sent)
        assert all(b["temperature"] == 0.2 and b["max_tokens"] == 64 for b in sent)

    # stored: a new session on the same folder reads the same runs back from the database
    with promptbench.Workspace(root) as again:
        stored = again.comparison(compared.id)
        assert stored["prompt_path"] == "greeter.prompt.yml" and stored["test_case"] == 1
        assert [(r["id"], r["output"], r["output_tokens"]) for r in stored["runs"]] == \
               [(r["id"], r["output"], r["output_tokens"]) for r in compared.runs]
        with pytest.raises(promptbench.PromptbenchError, match="no comparison 'nope'"):
            again.comparison("nope")


def test_errors_are_promptbench_errors_that_say_what_to_do(root, tmp_path):
    (tmp_path / "plain").mkdir()
    with pytest.raises(promptbench.WorkspaceError, match="is not a git repository; initialise one"):
        promptbench.Workspace(tmp_path / "plain")
    with pytest.raises(promptbench.StoreError, match="workspace folder does not exist"):
        promptbench.Workspace(tmp_path / "missing")
    ws = promptbench.Workspace(root)
    ws.prompts.save("greeter.prompt.yml", GREETER)
    with pytest.raises(promptbench.StoreError, match="nope: no prompt of that name"):
        ws.prompts.read("nope")
    with pytest.raises(promptbench.PromptFileError, match="no test case 5: the file has 2 test cases"):
        ws.compare("greeter", models=["gw-echo"], test=5)
    ws.close()
    ws.close()  # closing twice is fine
    with pytest.raises(promptbench.PromptbenchError, match="this workspace was closed"):
        ws.compare("greeter", models=["gw-echo"], test=0)


def test_importing_and_reading_a_prompt_imports_no_litellm_and_starts_no_engine(root):
    with promptbench.Workspace(root) as ws:
        ws.prompts.save("greeter.prompt.yml", GREETER)
    script = f"""
import json, sys, threading
import promptbench
cheap = sorted(m for m in sys.modules if m.startswith(("promptbench.core", "promptbench.api", "git", "PySide6", "litellm")))
ws = promptbench.Workspace({str(root)!r})
p = ws.prompts.read("greeter")
p.set_model_parameter("temperature", 0.5)
ws.prompts.save("greeter", p)
history = [v.subject for v in ws.prompts.history("greeter")]
print(json.dumps({{
    "cheap": cheap, "name": p.name, "history": history,
    "litellm": sorted(m for m in sys.modules if m.split(".")[0] in ("litellm", "openai", "tiktoken", "PySide6")),
    "engine": "promptbench.core.engine.engine" in sys.modules, "has_engine": ws.workbench.has_engine(),
    "threads": sorted(t.name for t in threading.enumerate()),
}}))
ws.close()
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["cheap"] == []  # `import promptbench` loads nothing else
    assert seen["name"] == "Greeter" and len(seen["history"]) == 2
    assert seen["litellm"] == [] and seen["engine"] is False and seen["has_engine"] is False
    assert seen["threads"] == ["MainThread"]
    assert not (root / ".promptbench" / "promptbench.db").exists()  # nor was the database opened
