"""``promptbench render|eval|compare FILE`` for a file outside the workspace, and with no
workspace at all (``gh models eval FILE`` works on any file anywhere): the file is read,
never written - nothing appears in its folder - and its runs are stored with its absolute
path and a ``draft:`` version, in the workspace or else in the per-user workspace
($XDG_DATA_HOME/promptbench)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from promptbench import cli
from tests.conftest import SIMPLE_PROMPT
from tests.core.test_eval_cli import eval_registered  # noqa: F401  (the eval command on the CLI parser)

FILE = "sample_prompt.yml"   # not *.prompt.yml: any name works when given explicitly
PROMPT = """\
name: Outside
description: A prompt file kept elsewhere
model: openai/gpt-4o
testData:
  - input: hello world
    word: hello
messages:
  - role: user
    content: 'Answer this: {{input}}'
evaluators:
  - name: mentions the word
    string:
      contains: '{{word}}'
"""


def catalog(base_url: str) -> str:
    return (f'[retries]\nmax = 0\n\n[models.replier]\nmodel = "openai/replier"\napi_base = "{base_url}"\n'
            f'api_key_env = "PB_TEST_KEY"\ninput_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n')


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: name -> (kind, mtime_ns, bytes)."""
    seen = {}
    for path in sorted(folder.rglob("*")):
        stat = path.lstat()
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        seen[path.relative_to(folder).as_posix()] = ("dir" if path.is_dir() else "file", stat.st_mtime_ns, data)
    return {".": ("dir", folder.stat().st_mtime_ns, None), **seen}


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def stored_runs(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT prompt_path, prompt_version FROM runs WHERE prompt_path NOT LIKE 'judge:%'").fetchall()


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / FILE).write_text(PROMPT)
    (folder / "notes.txt").write_text("not a prompt\n")
    return folder


@pytest.fixture
def server(openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    openai_server.set_scenario("replier", chunks=["  Hello", " back!\n"])
    return openai_server


@pytest.fixture
def user_ws(tmp_path, monkeypatch) -> Path:
    """The per-user workspace as $XDG_DATA_HOME/promptbench, and a current directory that is no workspace."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    return tmp_path / "data" / "promptbench"


def test_render_a_file_outside_the_workspace_by_absolute_and_relative_path(capsys, workspace, elsewhere, monkeypatch):
    before = snapshot(elsewhere)
    code, out, err = run(capsys, "--workspace", str(workspace.root), "render", str(elsewhere / FILE), "--test", "0")
    assert code == 0, err
    assert "Answer this: hello world" in out
    assert f"note: {elsewhere / FILE} is outside the workspace: read-only" in err
    monkeypatch.chdir(workspace.root)
    code, out, err = run(capsys, "render", f"../elsewhere/{FILE}", "--test", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["path"] == (elsewhere / FILE).resolve().as_posix()
    assert snapshot(elsewhere) == before


def test_eval_an_outside_file_stores_its_runs_in_the_workspace_by_absolute_path(capsys, workspace, elsewhere, server):
    (workspace.root / "promptbench.toml").write_text(catalog(server.base_url))
    before = snapshot(elsewhere)
    code, out, err = run(capsys, "--workspace", str(workspace.root), "eval", str(elsewhere / FILE), "-m", "replier",
                         "--format", "gh-json")
    assert code == 0, err
    report = json.loads(out)
    assert report["name"] == "Outside" and report["summary"]["passedTests"] == 1
    path = (elsewhere / FILE).resolve().as_posix()
    assert f"is outside the workspace: read-only, runs stored as {path} in {workspace.root}" in err
    runs = stored_runs(workspace.data_dir / "promptbench.db")
    assert len(runs) == 1 and runs[0][0] == path and runs[0][1].startswith("draft:")
    assert snapshot(elsewhere) == before
    assert workspace.list_prompts() == []   # the outside file did not become one of the workspace's prompts


def test_eval_and_render_work_where_there_is_no_workspace(capsys, elsewhere, server, user_ws):
    user_ws.mkdir(parents=True)
    (user_ws / "promptbench.toml").write_text(catalog(server.base_url))   # the per-user workspace's own settings
    plain = Path.cwd()
    before, before_plain = snapshot(elsewhere), snapshot(plain)
    code, out, err = run(capsys, "render", f"../elsewhere/{FILE}", "--test", "0")
    assert code == 0 and "Answer this: hello world" in out, err
    assert "is outside any workspace: read-only" in err
    code, out, err = run(capsys, "eval", f"../elsewhere/{FILE}", "-m", "replier")
    assert code == 0, err
    path = (elsewhere / FILE).resolve().as_posix()
    assert f"runs stored as {path} in the per-user workspace {user_ws}" in err
    assert path in out and "1 passed, 0 failed" in out
    runs = stored_runs(user_ws / ".promptbench" / "promptbench.db")
    assert [p for p, _ in runs] == [path] and runs[0][1].startswith("draft:")
    code, out, err = run(capsys, "compare", str(elsewhere / FILE), "--test", "0", "-m", "replier", "--json")
    assert code == 0, err
    assert json.loads(out)["prompt"] == path and json.loads(out)["prompt_version"].startswith("draft:")
    assert snapshot(elsewhere) == before and snapshot(plain) == before_plain   # no .promptbench/, no .git, nothing
    assert len(stored_runs(user_ws / ".promptbench" / "promptbench.db")) == 2
    code, out, err = run(capsys, "-w", str(user_ws), "export", "runs", "--format", "jsonl", "--prompt", path)
    assert code == 0 and len(out.splitlines()) == 2 and all(json.loads(line)["prompt_path"] == path
                                                            for line in out.splitlines()), err


def test_an_edited_outside_file_is_a_new_draft_version(capsys, workspace, elsewhere, server):
    (workspace.root / "promptbench.toml").write_text(catalog(server.base_url))
    for content in (PROMPT, PROMPT.replace("Answer this", "Reply to this")):
        (elsewhere / FILE).write_text(content)
        code, _, err = run(capsys, "-w", str(workspace.root), "eval", str(elsewhere / FILE), "-m", "replier")
        assert code == 0, err
    versions = {v for _, v in stored_runs(workspace.data_dir / "promptbench.db")}
    assert len(versions) == 2 and all(v.startswith("draft:") for v in versions)


@pytest.mark.parametrize("where", ["workspace", "nowhere"])
def test_bad_files_get_one_clear_line(capsys, workspace, elsewhere, user_ws, where):
    (elsewhere / "broken_prompt.yml").write_text("name: x\nmessages:\n  - role: user\n    content: [1, 2\n")
    (elsewhere / "wrong_prompt.yml").write_text("name: x\nmessages:\n  - role: wizard\n    content: hi\n")
    ws = ["--workspace", str(workspace.root)] if where == "workspace" else []
    cases = [
        (str(elsewhere / "nope.yml"), f"{elsewhere / 'nope.yml'}: no such file"),
        ("../elsewhere/nope_prompt.yml", "../elsewhere/nope_prompt.yml: no such file"),
        (str(elsewhere), f"{elsewhere}: is a folder, not a prompt file"),
        (str(elsewhere / "broken_prompt.yml"), f"{(elsewhere / 'broken_prompt.yml').resolve()}:5: invalid YAML"),
        (str(elsewhere / "wrong_prompt.yml"), f"{(elsewhere / 'wrong_prompt.yml').resolve()}:3: messages[0].role"),
    ]
    before = snapshot(elsewhere)
    for command in ("render", "eval"):
        for name, needle in cases:
            code, out, err = run(capsys, *ws, command, name, "-m" if command == "eval" else "--var",
                                 "replier" if command == "eval" else "x=1")
            assert code == 2 and needle in err, (command, name, err)
            assert err.splitlines()[-1].startswith("promptbench: error:") and "Traceback" not in err
    assert snapshot(elsewhere) == before


def test_no_workspace_and_a_bare_name_says_how_to_find_prompts(capsys, user_ws):
    code, _, err = run(capsys, "render", "summarize")
    assert code == 2 and "summarize: no such file (" in err and "is no workspace" in err and "--workspace DIR" in err


def test_a_missing_explicit_workspace_is_still_an_error(capsys, tmp_path, elsewhere):
    code, _, err = run(capsys, "--workspace", str(tmp_path / "plain-folder-that-is-no-repo"), "render",
                       str(elsewhere / FILE))
    assert code == 2 and "workspace folder does not exist" in err
    (tmp_path / "norepo").mkdir()
    code, _, err = run(capsys, "--workspace", str(tmp_path / "norepo"), "render", str(elsewhere / FILE))
    assert code == 2 and "not a git repository" in err   # a workspace asked for by name is never replaced


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_outside_file(capsys, workspace, elsewhere):
    (elsewhere / FILE).chmod(0)
    try:
        code, _, err = run(capsys, "-w", str(workspace.root), "render", str(elsewhere / FILE))
    finally:
        (elsewhere / FILE).chmod(0o644)
    assert code == 2 and f"{elsewhere / FILE}: permission denied reading the file" in err


def test_outside_files_have_no_versions_and_are_never_written(capsys, workspace, elsewhere):
    path = str(elsewhere / FILE)
    code, _, err = run(capsys, "-w", str(workspace.root), "render", path, "--rev", "HEAD")
    assert code == 2 and "outside the workspace (read-only, not in its git): it has no version 'HEAD'" in err
    code, _, err = run(capsys, "-w", str(workspace.root), "eval", path, "--version", "~1", "-m", "replier")
    assert code == 2 and "it has no version '~1'" in err
    rel = workspace.outside.open(path)
    assert workspace.resolve(path) == rel and workspace.read(rel).name == "Outside"
    with pytest.raises(Exception, match="outside the workspace"):
        workspace.save(rel, SIMPLE_PROMPT)
    assert (elsewhere / FILE).read_text() == PROMPT


def test_a_file_inside_the_workspace_named_by_absolute_path_is_the_workspaces(capsys, workspace):
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT)
    code, out, err = run(capsys, "-w", str(workspace.root), "render", str(workspace.root / "greeter.prompt.yml"),
                         "--test", "0", "--json")
    assert code == 0 and json.loads(out)["path"] == "greeter.prompt.yml" and "outside" not in err
