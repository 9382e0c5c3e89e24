"""PromptStore on real git repositories: every operation and every bad input."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from promptbench.core.errors import PromptFileError, StoreError, WorkspaceError
from promptbench.core.store.promptstore import ExternalChangeError, PromptStore
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"


def edited(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def commit_count(store: PromptStore) -> int:
    return int(store.repo.git("rev-list", "--count", "HEAD").stdout)


def test_save_commits_only_that_file(workspace, git):
    (workspace.root / "other.txt").write_text("staged but not mine\n")
    git(workspace.root, "add", "other.txt")
    version = workspace.save(P, SIMPLE_PROMPT, "Add greeter")
    assert version.subject == "Add greeter"
    files = git(workspace.root, "show", "--name-only", "--format=", version.sha).split()
    assert files == [P]
    assert "other.txt" in git(workspace.root, "diff", "--cached", "--name-only")
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT


def test_save_unchanged_makes_no_commit(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    before = commit_count(workspace)
    assert workspace.save(P, SIMPLE_PROMPT) is None
    assert commit_count(workspace) == before


def test_generated_message_says_what_changed(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    version = workspace.save(P, edited(SIMPLE_PROMPT, "temperature: 0.2", "temperature: 0.7"))
    assert "temperature" in version.message


def test_save_leaves_no_temp_files(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "terse"))
    assert sorted(p.name for p in workspace.root.iterdir() if p.is_file()) == [".gitignore", P, "promptbench.toml"]


def test_list_skips_private_and_finds_nested(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    workspace.save("team/deep/ask.prompt.yaml", SIMPLE_PROMPT)
    (workspace.root / ".promptbench").mkdir()
    (workspace.root / ".promptbench" / "x.prompt.yml").write_text(SIMPLE_PROMPT)
    (workspace.root / "notes.yml").write_text("a: 1\n")
    assert workspace.list_prompts() == [P, "team/deep/ask.prompt.yaml"]


def test_create_refuses_existing(workspace):
    workspace.create(P, SIMPLE_PROMPT)
    with pytest.raises(StoreError, match="already exists"):
        workspace.create(P, SIMPLE_PROMPT)


def test_history_fields_and_order(workspace):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "terse"), "v2")
    history = workspace.history(P)
    assert [v.subject for v in history] == ["v2", "v1"]
    assert history[0].author == "Test Person" and history[0].email == "test@example.com"
    assert history[0].date and history[0].timestamp > 0 and len(history[0].sha) == 40


def test_rename_history_follows_and_labels_move(workspace):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.set_label(P, "production")
    workspace.rename(P, "hello.prompt.yml")
    workspace.save("hello.prompt.yml", edited(SIMPLE_PROMPT, "friendly", "terse"), "v3")
    history = workspace.history("hello.prompt.yml")
    assert [v.subject for v in history][-1] == "v1"
    assert history[-1].path == P
    assert history[-1].labels == ("production",)
    assert workspace.labels(P) == {}
    assert workspace.read_at("hello.prompt.yml", "production").decode() == SIMPLE_PROMPT


def test_delete_is_recoverable(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    workspace.delete(P)
    assert not (workspace.root / P).exists()
    assert [d.path for d in workspace.deleted_prompts()] == [P]
    workspace.restore(P)
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT
    assert workspace.deleted_prompts() == []


def test_read_at_and_diff(workspace):
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    v2 = workspace.save(P, edited(SIMPLE_PROMPT, "temperature: 0.2", "temperature: 0.9"), "v2")
    assert workspace.read_at(P, v1.sha).decode() == SIMPLE_PROMPT
    assert workspace.read_at(P, "~1").decode() == SIMPLE_PROMPT
    diff = workspace.diff(P, v1.sha, v2.short)
    assert "-  temperature: 0.2" in diff.unified and "+  temperature: 0.9" in diff.unified
    params = diff.structured["modelParameters"]
    assert params[0]["key"] == "temperature" and params[0]["old"] == 0.2 and params[0]["new"] == 0.9


def test_diff_of_the_first_version_is_against_nothing_and_carries_both_texts(workspace):
    """The history panel's first-version diff (it had its own copy of this; issue 14)."""
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    first = workspace.diff(P, None, v1.sha)
    assert first.rev_a is None and first.old == b"" and first.new.decode() == SIMPLE_PROMPT
    assert first.unified.startswith(f"--- /dev/null\n+++ {P}@{v1.sha}\n")
    assert all(line.startswith(("---", "+++", "@@", "+")) for line in first.unified.splitlines())
    assert first.structured["summary"] and "error" not in first.structured
    (workspace.root / P).write_text(edited(SIMPLE_PROMPT, "temperature: 0.2", "temperature: 0.9"))
    now = workspace.diff(P, v1.sha)   # against the file on disk (WORKTREE)
    assert now.old.decode() == SIMPLE_PROMPT and b"temperature: 0.9" in now.new
    assert now.structured["modelParameters"][0]["new"] == 0.9


def test_rollback_is_a_new_commit_and_can_be_undone(workspace, git):
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    v2_text = edited(SIMPLE_PROMPT, "friendly", "rude")
    workspace.save(P, v2_text, "v2")
    count = commit_count(workspace)
    result = workspace.rollback(P, v1.sha)
    assert result.snapshot is None and result.version is not None
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT
    assert commit_count(workspace) == count + 1
    assert v1.sha[:8] in result.version.subject
    undo = workspace.rollback(P, "~1")
    assert (workspace.root / P).read_text() == v2_text
    assert undo.version is not None
    assert git(workspace.root, "status", "--porcelain") == ""


def test_rollback_commits_uncommitted_edits_first(workspace):
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "rude"), "v2")
    draft = edited(SIMPLE_PROMPT, "friendly", "unsaved draft text")
    (workspace.root / P).write_text(draft)
    result = workspace.rollback(P, v1.sha)
    assert result.snapshot is not None
    assert workspace.read_at(P, result.snapshot.sha).decode() == draft
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT


def test_rollback_to_same_content_is_a_noop(workspace):
    v1 = workspace.save(P, SIMPLE_PROMPT)
    assert workspace.rollback(P, v1.sha).version is None


def test_labels_promote_move_delete_and_log(workspace):
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    v2 = workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "rude"), "v2")
    assert workspace.set_label(P, "production", v1.sha) == v1.sha
    workspace.set_label(P, "staging")
    assert workspace.labels(P) == {"production": v1.sha, "staging": v2.sha}
    labelled = {v.subject: v.labels for v in workspace.history(P)}
    assert labelled == {"v2": ("staging",), "v1": ("production",)}
    workspace.promote(P, "production", "staging")
    assert workspace.labels(P)["production"] == v2.sha
    moves = workspace.label_log(P, "production")
    assert [m.new_sha for m in moves] == [v2.sha, v1.sha]
    assert workspace.remove_label(P, "staging") and "staging" not in workspace.labels(P)
    with pytest.raises(StoreError, match="label"):
        workspace.set_label(P, "bad name!")


def test_label_of_unrelated_commit_points_to_last_version(workspace):
    v1 = workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.save("other.prompt.yml", SIMPLE_PROMPT)
    assert workspace.set_label(P, "production", "HEAD") == v1.sha


def test_external_change_detection_and_conflict(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    before = workspace.snapshot()
    loaded = workspace.fingerprint(P)
    outside = edited(SIMPLE_PROMPT, "friendly", "edited in vim")
    (workspace.root / P).write_text(outside)
    (workspace.root / "new.prompt.yml").write_text(SIMPLE_PROMPT)
    changes = workspace.changes_since(before)
    assert changes.modified == [P] and changes.added == ["new.prompt.yml"]
    mine = edited(SIMPLE_PROMPT, "friendly", "edited in app")
    with pytest.raises(ExternalChangeError, match="changed on disk"):
        workspace.save(P, mine, base=loaded)
    assert (workspace.root / P).read_text() == outside
    version = workspace.save(P, mine, base=loaded, force=True)
    assert workspace.read_at(P, "~1").decode() == outside
    assert workspace.read_at(P, version.sha).decode() == mine


# -- bad input: a clear error naming the file, and nothing lost ------------------------------

def _assert_untouched(store, before_text, count):
    assert (store.root / P).read_text() == before_text
    assert commit_count(store) == count


@pytest.mark.parametrize("bad, expect", [
    ("name: [unclosed\n", "invalid YAML"),
    (SIMPLE_PROMPT.replace("temperature: 0.2", "temperature: hot"), "temperature"),
    ("name: x\nmessages: hello\n", "messages"),  # a file with no messages loads, as in gh-models
    (SIMPLE_PROMPT.replace("role: system", "role: bot"), "role"),
])
def test_invalid_prompt_is_refused_and_nothing_written(workspace, bad, expect):
    workspace.save(P, SIMPLE_PROMPT)
    count = commit_count(workspace)
    with pytest.raises(PromptFileError) as info:
        workspace.save(P, bad)
    assert P in str(info.value) and expect in str(info.value)
    _assert_untouched(workspace, SIMPLE_PROMPT, count)


def test_error_names_line(workspace):
    with pytest.raises(PromptFileError) as info:
        workspace.save(P, SIMPLE_PROMPT.replace("role: system", "role: bot"))
    problem = next(p for p in info.value.problems if "role" in p.field)
    assert problem.file == P and problem.line == 9


def test_huge_binary_and_non_utf8_files(workspace):
    big = workspace.root / "big.prompt.yml"
    big.write_bytes(b"name: x\n" + b"#" * (10 * 1024 * 1024))
    with pytest.raises(PromptFileError, match="big.prompt.yml.*MiB"):
        workspace.read("big.prompt.yml")
    (workspace.root / "bin.prompt.yml").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(PromptFileError, match="bin.prompt.yml"):
        workspace.read("bin.prompt.yml")
    (workspace.root / "latin.prompt.yml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(PromptFileError, match="latin.prompt.yml.*UTF-8"):
        workspace.read("latin.prompt.yml")


@pytest.mark.parametrize("path", ["../escape.prompt.yml", "/etc/passwd.prompt.yml", "a/../../x.prompt.yml",
                                  "con.prompt.yml", "what?.prompt.yml", "trailing.prompt.yml ", "notes.txt",
                                  ".git/evil.prompt.yml", ".promptbench/x.prompt.yml", "a\\b.prompt.yml"])
def test_bad_paths_are_refused(workspace, path):
    with pytest.raises(StoreError):
        workspace.save(path, SIMPLE_PROMPT)
    assert commit_count(workspace) == 1


def test_symlink_out_of_workspace_is_refused(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (workspace.root / "link").symlink_to(outside)
    with pytest.raises(StoreError, match="symlink"):
        workspace.save("link/x.prompt.yml", SIMPLE_PROMPT)
    assert list(outside.iterdir()) == []


def test_detached_head_refuses_writes(workspace, git):
    v1 = workspace.save(P, SIMPLE_PROMPT)
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "rude"))
    git(workspace.root, "checkout", "--quiet", v1.sha)
    count = commit_count(workspace)
    with pytest.raises(WorkspaceError, match="detached HEAD"):
        workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "x"))
    _assert_untouched(workspace, SIMPLE_PROMPT, count)
    assert workspace.history(P)  # reading still works


def test_mid_merge_refuses_writes(workspace, git):
    workspace.save(P, SIMPLE_PROMPT)
    git(workspace.root, "checkout", "--quiet", "-b", "other")
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "other branch"))
    git(workspace.root, "checkout", "--quiet", "main")
    workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "main branch"))
    subprocess.run(["git", "merge", "other"], cwd=workspace.root, capture_output=True)
    conflicted = (workspace.root / P).read_text()
    with pytest.raises(WorkspaceError, match="middle of a merge"):
        workspace.save(P, SIMPLE_PROMPT)
    assert (workspace.root / P).read_text() == conflicted


def test_file_deleted_outside_app(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    (workspace.root / P).unlink()
    with pytest.raises(StoreError, match="deleted outside promptbench"):
        workspace.read(P)
    assert workspace.history(P)
    assert workspace.read_at(P, "HEAD").decode() == SIMPLE_PROMPT


def test_missing_identity_is_a_clear_error(workspace, monkeypatch, _isolated_git):
    workspace.save(P, SIMPLE_PROMPT)
    (_isolated_git / ".gitconfig").write_text("")
    count = commit_count(workspace)
    with pytest.raises(WorkspaceError, match="identity is not configured"):
        workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "x"))
    _assert_untouched(workspace, SIMPLE_PROMPT, count)


def test_not_a_repository(tmp_path):
    with pytest.raises(WorkspaceError, match="not a git repository"):
        PromptStore(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        PromptStore(tmp_path / "missing")


def test_unknown_version_lists_options(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    with pytest.raises(StoreError, match="unknown version"):
        workspace.read_at(P, "nope")
    with pytest.raises(StoreError, match="goes back too far"):
        workspace.read_at(P, "~5")


def test_workspace_in_subfolder_of_repo(tmp_path, git):
    from promptbench.core.store.workspace import init_workspace

    top = tmp_path / "mono"
    top.mkdir()
    git(top, "init", "--quiet")
    store = init_workspace(top / "prompts")
    version = store.save(P, SIMPLE_PROMPT, "sub")
    assert git(top, "show", "--name-only", "--format=", version.sha).split() == [f"prompts/{P}"]
    assert [v.subject for v in store.history(P)] == ["sub"]
    assert store.read_at(P, "HEAD").decode() == SIMPLE_PROMPT


@contextlib.contextmanager
def read_only(folder: Path):
    """A folder this process cannot write: chmod for a normal user; root ignores modes, so chattr +i."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        try:
            yield
        finally:
            os.chmod(folder, 0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("running as root without chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_read_only_workspace(workspace):
    workspace.save(P, SIMPLE_PROMPT)
    count = commit_count(workspace)
    with read_only(workspace.root):
        with pytest.raises(WorkspaceError, match="not writable"):
            workspace.save(P, edited(SIMPLE_PROMPT, "friendly", "x"))
    _assert_untouched(workspace, SIMPLE_PROMPT, count)


def test_settings_changes_are_committed(workspace, git):
    toml = workspace.root / "promptbench.toml"
    assert workspace.commit_settings() is None  # unchanged
    toml.write_text(toml.read_text() + '\n[models.x]\nmodel = "openai/gpt-4o-mini"\n')
    version = workspace.commit_settings("Add model x")
    assert version is not None and version.subject == "Add model x"
    assert git(workspace.root, "status", "--porcelain") == ""
