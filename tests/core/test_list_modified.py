"""``PromptStore.modified`` (one pass for a whole listing) says what ``is_dirty`` says, file by file."""

from __future__ import annotations

import json

import pytest

from promptbench.cli import main
from promptbench.core.store import gitrepo
from promptbench.core.store.promptstore import PromptStore
from tests.conftest import SIMPLE_PROMPT


def one_by_one(store: PromptStore, rels: list[str]) -> set[str]:
    return {rel for rel in rels if store.is_dirty(rel)}


@pytest.fixture
def ws(workspace):
    for name in ("a.prompt.yml", "b.prompt.yml", "team/c.prompt.yml", "team/ünï cödé.prompt.yml", "gone.prompt.yml"):
        workspace.save(name, SIMPLE_PROMPT.replace("Greeter", name), f"add {name}")
    return workspace


def test_every_kind_of_change_agrees_with_is_dirty(ws, git):
    (ws.root / "a.prompt.yml").write_text(SIMPLE_PROMPT + "\n# edited\n")             # edited
    (ws.root / "new.prompt.yml").write_text(SIMPLE_PROMPT)                            # never committed
    (ws.root / "staged.prompt.yml").write_text(SIMPLE_PROMPT)                         # added, not committed
    git(ws.root, "add", "staged.prompt.yml")
    (ws.root / "team" / "ünï cödé.prompt.yml").write_text(SIMPLE_PROMPT + " ")        # edited, non-ASCII name
    (ws.root / "gone.prompt.yml").unlink()                                            # deleted on disk
    (ws.root / "link.prompt.yml").symlink_to("b.prompt.yml")                          # a symlink to a clean file
    rels = [*ws.list_prompts(), "gone.prompt.yml"]
    expected = one_by_one(ws, rels)
    assert ws.modified(rels) == expected
    assert expected == {"a.prompt.yml", "new.prompt.yml", "staged.prompt.yml", "team/ünï cödé.prompt.yml",
                        "gone.prompt.yml", "link.prompt.yml"}


def test_a_workspace_in_a_folder_of_a_bigger_repository(tmp_path, git):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "other.prompt.yml").write_text(SIMPLE_PROMPT)
    sub = tmp_path / "prompts" / "here"
    sub.mkdir(parents=True)
    (sub / "x.prompt.yml").write_text(SIMPLE_PROMPT)
    (sub / "y.prompt.yml").write_text(SIMPLE_PROMPT)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "--quiet", "-m", "all")
    (sub / "y.prompt.yml").write_text(SIMPLE_PROMPT + "# changed\n")
    with PromptStore(sub) as store:
        rels = store.list_prompts()
        assert rels == ["x.prompt.yml", "y.prompt.yml"]
        assert store.modified(rels) == one_by_one(store, rels) == {"y.prompt.yml"}


def test_before_the_first_commit_everything_is_modified(tmp_path, git):
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "x.prompt.yml").write_text(SIMPLE_PROMPT)
    with PromptStore(tmp_path) as store:
        assert store.modified(["x.prompt.yml"]) == one_by_one(store, ["x.prompt.yml"]) == {"x.prompt.yml"}


def test_list_asks_git_once_however_many_prompts(ws, monkeypatch, capsys):
    (ws.root / "b.prompt.yml").write_text(SIMPLE_PROMPT + "# changed\n")
    calls = []
    real = gitrepo.run_git

    def counting(cwd, *args, **kw):
        calls.append(args[0])
        return real(cwd, *args, **kw)

    monkeypatch.setattr(gitrepo, "run_git", counting)
    monkeypatch.setattr(gitrepo.GitRepo, "blob_at", lambda *a: pytest.fail("one blob at a time"))
    assert main(["--workspace", str(ws.root), "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {row["path"] for row in listed if row["modified"]} == {"b.prompt.yml"}
    assert [row["path"] for row in listed] == ws.list_prompts()
    assert calls.count("ls-tree") == 1 and len(calls) <= 3  # rev-parse when the store opens, then ls-tree
