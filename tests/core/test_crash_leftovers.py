"""Debris of a killed process: stale git locks are cleared only when provably stale, temp files of
an interrupted atomic write are swept, and a lock that a live git owns gives a clear error."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from promptbench.core.store.crash_leftovers import clear_stale_git_locks, git_running_in, remove_stale_temp_files
from promptbench.core.errors import WorkspaceError
from promptbench.core.store.promptstore import PromptStore
from tests.conftest import SIMPLE_PROMPT

REL = "greeter.prompt.yml"


def age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.fixture
def saved(workspace):
    workspace.save(REL, SIMPLE_PROMPT)
    return workspace


@pytest.fixture
def live_git(saved):
    """A git process working in the repository (waiting on stdin), as another instance's commit would be."""
    proc = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=saved.root, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    time.sleep(0.05)  # let it exec, so /proc names it git
    yield proc
    proc.communicate(b"")


@pytest.mark.parametrize("lock", ["index.lock", "HEAD.lock", "refs/heads/main.lock"])
def test_a_lock_left_by_a_killed_git_is_cleared_and_the_save_goes_through(saved, lock):
    path = saved.repo.git_dir / lock
    path.write_bytes(b"")
    age(path, 3)
    version = saved.save(REL, SIMPLE_PROMPT.replace("friendly", "kind"))
    assert version is not None and not path.exists()
    assert saved.read_bytes(REL) == SIMPLE_PROMPT.replace("friendly", "kind").encode()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=saved.root, capture_output=True, text=True, check=True)
    assert status.stdout.strip() == ""


@pytest.mark.parametrize("lock", ["index.lock", "HEAD.lock", "refs/heads/main.lock"])
def test_a_lock_a_live_git_holds_is_kept_and_the_save_refused_clearly(saved, live_git, lock):
    path = saved.repo.git_dir / lock
    path.write_bytes(b"")
    age(path, 3600)
    before = saved.read_bytes(REL)
    with pytest.raises(WorkspaceError, match=f"another git process is using .*\\.git/{lock} exists.*nothing was written"):
        saved.save(REL, SIMPLE_PROMPT.replace("friendly", "kind"))
    assert path.exists() and saved.read_bytes(REL) == before


def test_a_lock_newer_than_the_process_scan_is_never_removed(saved):
    # A git that started after the scan could own it: only locks older than the scan are provably stale.
    path = saved.repo.git_dir / "index.lock"
    path.write_bytes(b"")
    then = time.time() + 5
    os.utime(path, (then, then))
    assert clear_stale_git_locks(saved.repo.toplevel, saved.repo.git_dir) == []
    with pytest.raises(WorkspaceError, match=r"\.git/index\.lock exists"):
        saved.save(REL, SIMPLE_PROMPT.replace("friendly", "kind"))
    assert path.exists()


def test_our_own_cat_file_reader_does_not_count_as_a_git_at_work(saved):
    assert saved.repo.blob_at(saved.repo.head_sha(), REL)  # starts the store's cat-file reader
    readers = [p for p in os.listdir("/proc") if p.isdigit() and _argv(p)[:1] == [b"git"] and b"cat-file" in _argv(p)]
    assert readers, "expected the store's git cat-file --batch process to be running"
    assert git_running_in([saved.root]) is False


def test_a_git_working_elsewhere_does_not_block_recovery(saved, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=elsewhere, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.05)
        assert git_running_in([saved.root]) is False
        assert git_running_in([elsewhere]) is True
    finally:
        proc.communicate(b"")


def _argv(pid: str) -> list[bytes]:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        return []


def test_temp_files_of_an_interrupted_save_are_swept_when_the_workspace_opens(saved):
    root = saved.root
    (root / "sub").mkdir()
    old = [root / f".{REL}.k3j4h5.tmp", root / "sub" / ".x.prompt.yaml.abc123.tmp", root / ".promptbench.toml.zz9.tmp"]
    fresh = root / f".{REL}.fresh1.tmp"  # a save in progress in another instance: keep
    unrelated = [root / ".notes.tmp", root / "draft.prompt.yml.tmp", root / ".git" / f".{REL}.q.tmp"]
    for path in [*old, fresh, *unrelated]:
        path.write_text("half a prompt")
    for path in [*old, *unrelated]:
        age(path, 3600)
    saved.close()
    with PromptStore(root) as store:
        assert store.list_prompts() == [REL]
    assert not any(p.exists() for p in old)
    assert fresh.exists() and all(p.exists() for p in unrelated)
    assert remove_stale_temp_files(root, older_than_s=0) == [fresh.name]
