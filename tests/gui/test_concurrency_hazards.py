"""Concurrency hazards: the same workspace in two app instances, a prompt edited in another editor
while it is open, and git commands run in a terminal meanwhile. Nothing anyone wrote is lost, and
the person is asked clearly (reload / merge / keep mine) whenever their edit meets another."""

from __future__ import annotations

import gc
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QSettings

from promptbench.gui.mainwindow import MainWindow
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"
WAIT_MS = 15000


def open_window(qtbot, workspace, tmp_path, name: str) -> MainWindow:
    services = Services(workspace, key_lookup=lambda m: None)
    win = MainWindow(services, QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.editor.current_rel() == P and not win.editor._loading, timeout=WAIT_MS)
    return win


@pytest.fixture
def two(qtbot, workspace, tmp_path):
    """Two app instances on one workspace: separate stores, services and windows."""
    from promptbench.core.store.promptstore import PromptStore

    workspace.save(P, SIMPLE_PROMPT, "v1")
    second = PromptStore(workspace.root)
    a, b = open_window(qtbot, workspace, tmp_path, "a"), open_window(qtbot, second, tmp_path, "b")
    yield a, b
    for win in (a, b):
        win.editor._saved_text = win.editor.raw.text()  # no "discard changes?" question at close
        win.editor._update_dirty()
        win.close()
    second.close()
    gc.collect()


def set_text(win: MainWindow, text: str) -> None:
    win.editor.raw.editor.setPlainText(text)
    assert win.editor.is_dirty()


def save(qtbot, win: MainWindow, message: str) -> None:
    with qtbot.waitSignal(win.editor.prompt_saved, timeout=WAIT_MS):
        win.editor.save(message)


def git(workspace, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=workspace.root, capture_output=True, text=True, check=True).stdout


def contents_in_history(workspace) -> list[str]:
    return [workspace.read_at(P, v.sha).decode() for v in workspace.history(P)]


def test_two_instances_a_clean_one_follows_a_dirty_one_asks_and_no_edit_is_lost(qtbot, two, workspace, monkeypatch):
    a, b = two
    first = SIMPLE_PROMPT.replace("Says hello", "Says hello (from A)")
    set_text(a, first)
    save(qtbot, a, "A's edit")
    # B had no unsaved edits: it follows the file on its own (file watcher), no question asked.
    qtbot.waitUntil(lambda: b.editor.current_text() == first and not b.editor.is_dirty(), timeout=WAIT_MS)

    mine_b = first.replace("Greeter", "Greeter B")
    set_text(b, mine_b)
    second = first.replace("You are friendly.", "You are friendly (A again).")
    set_text(a, second)
    save(qtbot, a, "A's second edit")
    qtbot.waitUntil(lambda: b.editor.banner.isVisibleTo(b.editor), timeout=WAIT_MS)
    assert "changed on disk" in b.editor.banner.label.text()
    assert b.editor.banner.button_texts() == ["Reload", "Merge", "Keep mine"]
    assert b.editor.current_text() == mine_b  # nothing replaced behind the person's back

    # B saves anyway; the store refuses to overwrite A's commit silently and B is asked.
    asked = []
    monkeypatch.setattr(b.editor, "_ask_external_change", lambda: asked.append(1) or "merge")
    with qtbot.waitSignal(b.editor.status_posted, timeout=WAIT_MS, check_params_cb=lambda m: m.startswith("Merged")):
        b.editor.save("B's edit")
    assert asked == [1]
    merged = b.editor.current_text()
    assert "Greeter B" in merged and "(A again)" in merged and "(from A)" in merged
    save(qtbot, b, "B's edit, merged")
    assert (workspace.root / P).read_text() == merged
    history = contents_in_history(workspace)
    assert history[0] == merged and second in history and first in history  # every edit is in history
    qtbot.waitUntil(lambda: a.editor.current_text() == merged and not a.editor.is_dirty(), timeout=WAIT_MS)


def test_an_outside_edit_merges_with_mine_and_a_conflict_must_be_resolved(qtbot, two, workspace):
    a, _ = two
    ed = a.editor
    mine = SIMPLE_PROMPT.replace("Greeter", "Greeter (mine)")
    set_text(a, mine)
    theirs = SIMPLE_PROMPT.replace("Say hello to {{name}}.", "Say hello to {{name}}, warmly.")
    (workspace.root / P).write_text(theirs)  # another editor saves the file
    qtbot.waitUntil(lambda: ed.banner.isVisibleTo(ed), timeout=WAIT_MS)  # noticed by the watcher
    with qtbot.waitSignal(ed.status_posted, timeout=WAIT_MS, check_params_cb=lambda m: m.startswith("Merged")):
        ed.banner.click("Merge")
    assert ed.current_text() == SIMPLE_PROMPT.replace("Greeter", "Greeter (mine)").replace("{{name}}.", "{{name}}, warmly.")
    assert ed.is_dirty()
    save(qtbot, a, "merged")
    assert (workspace.root / P).read_text() == ed.current_text()

    # Both sides change the same line: both are kept between markers; saving is refused until resolved.
    base = ed.current_text()
    set_text(a, base.replace("You are friendly.", "You are terse."))
    (workspace.root / P).write_text(base.replace("You are friendly.", "You are verbose."))
    qtbot.waitUntil(lambda: ed.banner.isVisibleTo(ed), timeout=WAIT_MS)
    with qtbot.waitSignal(ed.status_posted, timeout=WAIT_MS, check_params_cb=lambda m: m.startswith("Merged")):
        ed.banner.click("Merge")
    text = ed.raw.text()
    assert "<<<<<<< yours (promptbench)" in text and ">>>>>>> on disk" in text
    assert "You are terse." in text and "You are verbose." in text
    assert "1 conflict" in ed.banner.label.text() and ed.tabs.currentWidget() is ed.raw
    commits = len(workspace.history(P))
    with qtbot.waitSignal(ed.status_posted, timeout=WAIT_MS) as refused:
        ed.save()
    assert "resolve the merge conflicts first" in refused.args[0]
    assert len(workspace.history(P)) == commits and "You are verbose." in (workspace.root / P).read_text()
    set_text(a, base.replace("You are friendly.", "You are terse, never verbose."))
    save(qtbot, a, "resolved")
    assert "never verbose" in (workspace.root / P).read_text()


def test_terminal_git_commit_checkout_and_branch_switch_while_open(qtbot, two, workspace):
    a, _ = two
    ed = a.editor
    (workspace.root / "other.txt").write_text("notes\n")
    git(workspace, "add", "other.txt")
    git(workspace, "commit", "-q", "-m", "terminal commit")
    set_text(a, SIMPLE_PROMPT.replace("Greeter", "Greeter 2"))
    save(qtbot, a, "app commit after a terminal commit")
    log = git(workspace, "log", "--format=%s").splitlines()
    assert log[:2] == ["app commit after a terminal commit", "terminal commit"]  # both kept, in order

    # git checkout of an old version of the file: a clean editor follows it.
    v1 = workspace.history(P)[-1].sha
    git(workspace, "checkout", v1, "--", P)
    qtbot.waitUntil(lambda: ed.current_text() == SIMPLE_PROMPT and not ed.is_dirty(), timeout=WAIT_MS)

    # ... a dirty one asks, and keeps the person's text until they choose.
    git(workspace, "checkout", "HEAD", "--", P)
    qtbot.waitUntil(lambda: "Greeter 2" in ed.current_text(), timeout=WAIT_MS)
    mine = SIMPLE_PROMPT.replace("Greeter", "Greeter 3")
    set_text(a, mine)
    git(workspace, "checkout", v1, "--", P)
    qtbot.waitUntil(lambda: ed.banner.isVisibleTo(ed), timeout=WAIT_MS)
    assert ed.current_text() == mine
    ed.banner.click("Keep mine")
    save(qtbot, a, "mine over the checkout")
    assert contents_in_history(workspace)[:2] == [mine, SIMPLE_PROMPT]  # the checked-out state was committed first

    # A detached HEAD (git checkout SHA) refuses the save clearly and keeps the edit; after
    # switching back to the branch the same edit saves.
    git(workspace, "checkout", "-q", "--detach")
    later = mine.replace("Greeter 3", "Greeter 4")
    set_text(a, later)
    with qtbot.waitSignal(ed.status_posted, timeout=WAIT_MS, check_params_cb=lambda m: m.startswith("Not saved")) as blocker:
        ed.save("while detached")
    assert "detached HEAD" in blocker.args[0] and "git switch" in blocker.args[0]
    assert ed.current_text() == later and ed.is_dirty()
    git(workspace, "switch", "-q", "main")
    save(qtbot, a, "after switching back")
    assert workspace.history(P)[0].subject == "after switching back" and (workspace.root / P).read_text() == later


def test_a_second_process_running_a_comparison_keeps_its_runs_when_the_app_starts(qtbot, workspace, openai_server, tmp_path):
    """The app's start-up marks runs of *dead* processes interrupted; a CLI compare still
    streaming in another process keeps its run, which then finishes normally."""
    openai_server.set_scenario("slow", chunks=["still", " here"], first_token_delay_s=3.0)
    workspace.save(P, SIMPLE_PROMPT, "v1")
    toml = workspace.root / "promptbench.toml"
    toml.write_text(toml.read_text() + f'\n[models.slow]\nmodel = "openai/slow"\napi_base = "{openai_server.base_url}"\n'
                    'api_key_env = "PB_TEST_KEY"\n')
    env = {**os.environ, "PB_TEST_KEY": "sk-test-0000000000"}
    cli = subprocess.Popen([sys.executable, "-m", "promptbench", "--workspace", str(workspace.root), "compare", P,
                            "--test", "0", "-m", "slow", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    db = workspace.root / ".promptbench" / "promptbench.db"

    def running() -> int:
        if not db.exists():
            return 0
        with sqlite3.connect(db) as raw:
            try:
                return raw.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
            except sqlite3.OperationalError:
                return 0  # tables not created yet

    try:
        deadline = time.monotonic() + 30
        while running() == 0 and cli.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running() == 1, "the CLI's run never started"
        win = open_window(qtbot, workspace, tmp_path, "app")
        assert win.services.runs().mark_interrupted() == 0  # as at start-up: the CLI is alive
        assert running() == 1
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
    assert cli.returncode == 0, err.decode()
    run = json.loads(out)["runs"][0]
    assert run["status"] == "finished" and run["output"] == "still here"
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT status FROM runs WHERE id = ?", [run["run_id"]]).fetchone() == ("finished",)
    win.close()
