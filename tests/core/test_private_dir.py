"""The private folder (.promptbench/: database, logs, drafts) is never offered to git, in
any repository, whoever made it and whatever made the folder."""

from __future__ import annotations

import json
import subprocess

from promptbench.cli import main
from tests.conftest import SIMPLE_PROMPT


def git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def plain_repo(tmp_path, server_url: str):
    """A repository a person made with plain git, with a prompt and a catalog, committed."""
    root = tmp_path / "plain"
    root.mkdir()
    git(root, "init", "-q")
    (root / "hello.prompt.yml").write_text(SIMPLE_PROMPT)
    (root / "promptbench.toml").write_text(
        f'[models.loop]\nmodel = "openai/loop"\napi_base = "{server_url}"\n'
        "input_cost_per_mtok = 1.0\noutput_cost_per_mtok = 2.0\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "mine")
    return root


def test_compare_in_a_plain_git_repository_leaves_git_status_clean(tmp_path, openai_server, capsys):
    openai_server.set_scenario("loop", chunks=["Hello", " Ada"])
    root = plain_repo(tmp_path, openai_server.base_url)
    code = main(["--workspace", str(root), "compare", "hello", "--test", "0", "-m", "loop", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert json.loads(out)["runs"][0]["output"] == "Hello Ada"
    assert (root / ".promptbench" / "promptbench.db").exists()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(root, "check-ignore", ".promptbench/promptbench.db").strip() == ".promptbench/promptbench.db"
    assert not (root / ".gitignore").exists()  # the person's files are not touched


def test_a_private_folder_made_by_an_earlier_version_is_ignored_once_opened(tmp_path, capsys):
    root = tmp_path / "old"
    root.mkdir()
    git(root, "init", "-q")
    (root / "hello.prompt.yml").write_text(SIMPLE_PROMPT)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "mine")
    (root / ".promptbench" / "logs").mkdir(parents=True)
    (root / ".promptbench" / "promptbench.db").write_bytes(b"")
    assert git(root, "status", "--porcelain") != ""
    assert main(["--workspace", str(root), "list"]) == 0
    capsys.readouterr()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert (root / ".promptbench" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_git_add_all_never_stages_the_private_folder(workspace):
    workspace.private_dir()
    (workspace.data_dir / "drafts").mkdir()
    (workspace.data_dir / "drafts" / "x.json").write_text("{}")
    git(workspace.root, "add", "-A")
    assert ".promptbench" not in git(workspace.root, "diff", "--cached", "--name-only")
