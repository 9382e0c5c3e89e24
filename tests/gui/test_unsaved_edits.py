"""Journey: nothing a person types is lost. The real main window on a real workspace, driven
by keys and clicks: unsaved state shown everywhere, quitting and switching wait for the
save's result, drafts written while typing and offered after a crash, and a first save on
a machine without a git identity that asks for one."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QLineEdit

from promptbench.core.store.drafts import DraftStore, blob_sha
from promptbench.gui.workspace.prompt_tree import PATH_ROLE, UNCOMMITTED_MARK, UNSAVED_MARK
from tests.conftest import SIMPLE_PROMPT
from tests.gui.unsaved_helpers import answer_dialog, close_window, open_window, type_into
from tests.process_helpers import dead_owner, live_process

A, B = "alpha.prompt.yml", "beta.prompt.yml"
INVALID = "name: [unclosed\n"

pytestmark = pytest.mark.journey


@pytest.fixture
def ws(workspace):
    workspace.save(A, SIMPLE_PROMPT, "alpha v1")
    workspace.save(B, SIMPLE_PROMPT.replace("Greeter", "Other"), "beta v1")
    return workspace


@pytest.fixture
def window(qtbot, ws, tmp_path):
    win = open_window(qtbot, ws, tmp_path / "q.ini", select=A)
    yield win
    close_window(win)


def drafts_on_disk(ws) -> dict[str, str]:
    found = {}
    for path in (ws.root / ".promptbench" / "drafts").rglob("*.json"):
        data = json.loads(path.read_text())
        found[data["rel"]] = data["text"]
    return found


def commits(ws) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=ws.root, capture_output=True, text=True).stdout)


# -- unsaved state where a person looks for it ----------------------------------------------------
def test_unsaved_edits_show_in_title_tree_and_save_action(qtbot, window, ws):
    assert window.editor.current_rel() == A
    assert "[*]" in window.windowTitle() and not window.isWindowModified()
    assert not window.save_action.isEnabled()
    assert window.tree.marks_of(A) == ""
    type_into(qtbot, window.editor.structured.description, " and waves")
    qtbot.waitUntil(window.isWindowModified, timeout=5000)
    assert window.save_action.isEnabled()
    assert window.tree.marks_of(A) == UNSAVED_MARK
    # A file changed on disk but not committed has the other mark.
    (ws.root / B).write_text(SIMPLE_PROMPT.replace("Greeter", "Changed outside"))
    window.refresh_prompts()
    qtbot.waitUntil(lambda: window.tree.marks_of(B) == UNCOMMITTED_MARK, timeout=5000)
    qtbot.keyClick(window.editor.structured.description, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=10000)
    assert not window.save_action.isEnabled() and window.tree.marks_of(A) == ""
    assert "Says hello and waves" in (ws.root / A).read_text()


# -- quitting and switching wait for the save ------------------------------------------------------
def test_quit_with_an_invalid_edit_and_save_keeps_the_window_and_the_edit(qtbot, window, ws):
    raw = window.editor.raw.editor
    window.editor.tabs.setCurrentWidget(window.editor.raw)
    raw.selectAll()
    type_into(qtbot, raw, INVALID)
    answer_dialog("Save")
    qtbot.keyClick(raw, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.editor.banner_reason() == "save-error", timeout=10000)
    assert window.isVisible()
    assert window.editor.raw.text() == INVALID and window.editor.is_dirty()
    assert window.tree.current() == A and window.editor.current_rel() == A
    assert "Not saved" in window.editor.banner.label.text() and "problem" in window.editor.banner.label.text()
    assert (ws.root / A).read_text() == SIMPLE_PROMPT
    # The draft holds the edit meanwhile.
    qtbot.waitUntil(lambda: drafts_on_disk(ws).get(A) == INVALID, timeout=5000)


def click_prompt(qtbot, window, rel: str) -> None:
    """Click *rel* in the prompt list, as a person does."""
    tree = window.tree
    index = tree.proxy.match(tree.proxy.index(0, 0), PATH_ROLE, rel, 1, Qt.MatchFlag.MatchRecursive)[0]
    qtbot.mouseClick(tree.view.viewport(), Qt.MouseButton.LeftButton, pos=tree.view.visualRect(index).center())


def selected_prompts(window) -> list[str]:
    return [i.data(PATH_ROLE) for i in window.tree.view.selectionModel().selectedIndexes()]


def test_switching_prompts_with_an_invalid_edit_and_save_stays(qtbot, window, ws):
    window.editor.raw.editor.setPlainText(INVALID)
    answer_dialog("Save")
    click_prompt(qtbot, window, B)
    qtbot.waitUntil(lambda: window.editor.banner_reason() == "save-error", timeout=10000)
    assert window.editor.current_rel() == A and window.tree.current() == A
    assert selected_prompts(window) == [A]  # the list shows what the editor holds
    assert window.editor.raw.text() == INVALID
    # Cancel leaves everything as it is; Discard then switches.
    answer_dialog("Cancel")
    click_prompt(qtbot, window, B)
    qtbot.waitUntil(lambda: selected_prompts(window) == [A], timeout=5000)
    qtbot.wait(200)
    assert window.editor.current_rel() == A and window.editor.raw.text() == INVALID
    answer_dialog("Discard")
    click_prompt(qtbot, window, B)
    qtbot.waitUntil(lambda: window.editor.current_rel() == B and not window.editor._loading, timeout=10000)
    assert (ws.root / A).read_text() == SIMPLE_PROMPT
    qtbot.waitUntil(lambda: A not in drafts_on_disk(ws), timeout=5000)


def test_quit_then_save_commits_before_the_window_closes(qtbot, window, ws):
    before = commits(ws)
    window.editor.structured.name.setFocus()
    type_into(qtbot, window.editor.structured.name, "!")
    answer_dialog("Save")
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10000)
    assert commits(ws) == before + 1
    assert "name: Greeter!" in (ws.root / A).read_text()
    assert A not in drafts_on_disk(ws)


def test_switching_then_save_commits_and_opens_the_other_prompt(qtbot, window, ws):
    type_into(qtbot, window.editor.structured.name, "?")
    answer_dialog("Save")
    window.tree.select(B)
    qtbot.waitUntil(lambda: window.editor.current_rel() == B and not window.editor._loading, timeout=10000)
    assert "name: Greeter?" in (ws.root / A).read_text()
    assert window.tree.current() == B


# -- drafts ------------------------------------------------------------------------------------
def test_typing_writes_a_draft_within_half_a_second_and_saving_removes_it(qtbot, window, ws):
    type_into(qtbot, window.editor.structured.description, " ok")
    typed_at = time.monotonic()
    qtbot.waitUntil(lambda: "Says hello ok" in drafts_on_disk(ws).get(A, ""), timeout=5000)
    assert time.monotonic() - typed_at < 2.0  # throttled at 0.3 s; generous for a loaded machine
    draft = next((ws.root / ".promptbench" / "drafts").rglob("*.json"))
    data = json.loads(draft.read_text())
    assert data["base_blob"] == blob_sha(SIMPLE_PROMPT.encode()) and data["text"] == window.editor.current_text()
    assert subprocess.run(["git", "status", "--porcelain"], cwd=ws.root, capture_output=True, text=True).stdout == ""
    with qtbot.waitSignal(window.editor.prompt_saved, timeout=10000):
        window.save()
    qtbot.waitUntil(lambda: drafts_on_disk(ws) == {}, timeout=5000)


def write_orphan_draft(ws, rel: str, text: str, base: str | None) -> None:
    """A draft left by an app run that was killed."""
    store = DraftStore(ws.private_dir(), dead_owner())
    store.write(rel, text, None if base is None else blob_sha(base.encode()), base)


def test_a_recovered_draft_opens_with_its_bar_and_keep_keeps_it(qtbot, ws, tmp_path):
    mine = SIMPLE_PROMPT.replace("You are friendly.", "You are friendly and brief.")
    write_orphan_draft(ws, B, mine, SIMPLE_PROMPT.replace("Greeter", "Other"))  # older: the newer one wins
    time.sleep(0.01)
    write_orphan_draft(ws, B, SIMPLE_PROMPT.replace("Greeter", "Other").replace("friendly", "kind"),
                       SIMPLE_PROMPT.replace("Greeter", "Other"))
    win = open_window(qtbot, ws, tmp_path / "q.ini", select=A)
    try:
        # The prompt with recovered edits is opened first, with them in the editor.
        assert win.editor.current_rel() == B
        assert win.editor.banner_reason() == "recovered"
        assert win.editor.banner.label.text().startswith("Unsaved edits from ")
        assert win.editor.banner.button_texts() == ["Keep", "Discard", "Show diff"]
        recovered = SIMPLE_PROMPT.replace("Greeter", "Other").replace("friendly", "kind")
        assert win.editor.current_text() == recovered and win.editor.is_dirty() and win.isWindowModified()
        assert win.tree.marks_of(B) == UNSAVED_MARK
        answer_dialog("Close")
        win.editor.banner.click("Show diff")
        win.editor.banner.click("Keep")
        assert win.editor.banner_reason() is None and win.editor.current_text() == recovered
        with qtbot.waitSignal(win.editor.prompt_saved, timeout=10000):
            win.save()
        assert (ws.root / B).read_text() == recovered
        qtbot.waitUntil(lambda: drafts_on_disk(ws) == {}, timeout=5000)
    finally:
        close_window(win)


def test_discarding_a_recovered_draft_restores_the_file(qtbot, ws, tmp_path):
    write_orphan_draft(ws, A, SIMPLE_PROMPT + "# more\n", SIMPLE_PROMPT)
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        assert win.editor.current_rel() == A and win.editor.banner_reason() == "recovered"
        win.editor.banner.click("Discard")
        assert win.editor.current_text() == SIMPLE_PROMPT and not win.editor.is_dirty()
        qtbot.waitUntil(lambda: drafts_on_disk(ws) == {}, timeout=5000)
        assert win.tree.marks_of(A) == ""
    finally:
        close_window(win)


def test_a_draft_whose_file_changed_since_offers_a_merge_at_save(qtbot, ws, tmp_path, monkeypatch):
    write_orphan_draft(ws, A, SIMPLE_PROMPT.replace("Says hello", "Mine"), SIMPLE_PROMPT)
    ws.save(A, SIMPLE_PROMPT.replace("friendly", "theirs"), "changed meanwhile")
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        assert "changed since" in win.editor.banner.label.text()
        asked = []
        monkeypatch.setattr(win.editor, "_ask_external_change", lambda: asked.append(1) or "merge")
        win.save()
        qtbot.waitUntil(lambda: "theirs" in win.editor.raw.text(), timeout=10000)
        assert asked == [1]
        merged = win.editor.raw.text()
        assert "description: Mine" in merged and "You are theirs." in merged and win.editor.is_dirty()
    finally:
        close_window(win)


def test_the_draft_of_a_prompt_deleted_outside_is_listed_and_saves_it_again(qtbot, ws, tmp_path):
    text = SIMPLE_PROMPT.replace("Greeter", "Lost")
    write_orphan_draft(ws, B, text, SIMPLE_PROMPT)
    (ws.root / B).unlink()
    subprocess.run(["git", "commit", "-qam", "deleted outside"], cwd=ws.root, check=True)
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        assert B in win.tree.paths() and win.editor.current_rel() == B
        assert "no longer exists" in win.editor.banner.label.text()
        assert win.editor.current_text() == text and win.editor.is_dirty()
        with qtbot.waitSignal(win.editor.prompt_saved, timeout=10000):
            win.save()
        assert (ws.root / B).read_text() == text
    finally:
        close_window(win)


def test_a_damaged_draft_is_ignored_with_a_message_and_kept(qtbot, ws, tmp_path):
    folder = ws.private_dir() / "drafts" / "elsewhere"
    folder.mkdir(parents=True)
    (folder / "owner").write_text(dead_owner())
    (folder / "0123.json").write_text("{not json")
    win = open_window(qtbot, ws, tmp_path / "q.ini", select=A)
    try:
        qtbot.waitUntil(lambda: "damaged draft" in win.status.text(), timeout=5000)
        assert win.editor.current_text() == SIMPLE_PROMPT and not win.editor.is_dirty()
        kept = list((ws.root / ".promptbench" / "drafts").rglob("*.damaged"))
        assert len(kept) == 1 and kept[0].read_text() == "{not json"
    finally:
        close_window(win)


def test_a_draft_that_cannot_be_written_is_reported_and_the_text_stays(qtbot, window, ws):
    drafts = ws.root / ".promptbench" / "drafts"
    drafts.mkdir(parents=True, exist_ok=True)
    os.chmod(drafts, 0o500)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(drafts)], capture_output=True).returncode == 0
    try:
        type_into(qtbot, window.editor.structured.name, "X")
        qtbot.waitUntil(lambda: window.editor.banner_reason() == "draft-error", timeout=5000)
        assert "could not be kept as a draft" in window.editor.banner.label.text()
        assert "name: GreeterX" in window.editor.current_text()
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(drafts)], check=True)
        os.chmod(drafts, 0o700)
    type_into(qtbot, window.editor.structured.name, "Y")  # the condition is gone: so is the banner
    qtbot.waitUntil(lambda: window.editor.banner_reason() is None, timeout=5000)
    qtbot.waitUntil(lambda: "name: GreeterXY" in drafts_on_disk(ws).get(A, ""), timeout=5000)


def test_two_instances_keep_their_own_drafts(qtbot, ws, tmp_path):
    other, tag = live_process()
    try:
        first = open_window(qtbot, ws, tmp_path / "q1.ini", select=A)
        second = open_window(qtbot, ws, tmp_path / "q2.ini", instance=tag, select=A)
        try:
            type_into(qtbot, first.editor.structured.name, "1")
            type_into(qtbot, second.editor.structured.name, "2")
            qtbot.waitUntil(lambda: len(list((ws.root / ".promptbench" / "drafts").rglob("*.json"))) == 2, timeout=5000)
            texts = sorted(json.loads(p.read_text())["text"] for p in (ws.root / ".promptbench" / "drafts").rglob("*.json"))
            assert ["name: Greeter1" in texts[0], "name: Greeter2" in texts[1]] == [True, True]
        finally:
            close_window(second)
            close_window(first)
    finally:
        other.kill()
        other.wait()


# -- the first save on a machine without a git identity --------------------------------------------
def test_first_save_without_identity_asks_for_one_and_commits_with_it(qtbot, window, ws, tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    subprocess.run(["git", "config", "--unset", "user.name"], cwd=ws.root)
    subprocess.run(["git", "config", "--unset", "user.email"], cwd=ws.root)
    type_into(qtbot, window.editor.structured.name, " Jr")
    seen = []

    def fill(dialog):
        dialog.findChildren(QLineEdit)[0].setText("Ada Lovelace")
        dialog.findChildren(QLineEdit)[1].setText("ada@example.com")
    answer_dialog("Save and commit", fill, seen)
    with qtbot.waitSignal(window.editor.prompt_saved, timeout=15000):
        qtbot.keyClick(window.editor.structured.name, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "git records who made it" in seen[0]
    author = subprocess.run(["git", "log", "-1", "--format=%an <%ae>"], cwd=ws.root, capture_output=True, text=True).stdout
    assert author.strip() == "Ada Lovelace <ada@example.com>"
    local = subprocess.run(["git", "config", "--local", "user.email"], cwd=ws.root, capture_output=True, text=True).stdout
    assert local.strip() == "ada@example.com" and not (home / ".gitconfig").exists()
    assert window.editor.banner_reason() is None and "name: Greeter Jr" in (ws.root / A).read_text()
    # The next session starts with the earlier answer filled in.
    assert window.qsettings.value("identity/email") == "ada@example.com"


def test_identity_can_go_to_the_global_config_and_cancel_keeps_the_edit(qtbot, window, ws, tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    type_into(qtbot, window.editor.structured.name, "!")
    answer_dialog("Cancel")
    window.save()
    qtbot.waitUntil(lambda: window.editor.banner_reason() == "identity", timeout=10000)
    assert "git does not know who you are" in window.editor.banner.label.text() and window.editor.is_dirty()

    def fill(dialog):
        dialog.findChildren(QLineEdit)[0].setText("Grace Hopper")
        dialog.findChildren(QLineEdit)[1].setText("grace@example.com")
        dialog.findChildren(QCheckBox)[0].setChecked(True)
    answer_dialog("Save and commit", fill)
    with qtbot.waitSignal(window.editor.prompt_saved, timeout=15000):
        window.save()
    assert "grace@example.com" in (home / ".gitconfig").read_text()
    assert window.editor.banner_reason() is None


def test_an_error_banner_goes_once_its_cause_is_fixed(qtbot, window, ws, tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    window.editor.ask_identity = None  # as the command line does: no dialog, the one-line hint
    type_into(qtbot, window.editor.structured.name, "!")
    window.save()
    qtbot.waitUntil(lambda: window.editor.banner_reason() == "identity", timeout=10000)
    subprocess.run(["git", "config", "--global", "user.name", "Fixed In Terminal"], check=True)
    subprocess.run(["git", "config", "--global", "user.email", "t@example.com"], check=True)
    with qtbot.waitSignal(window.editor.prompt_saved, timeout=10000):
        window.save()
    assert window.editor.banner_reason() is None and not window.editor.banner.isVisible()
    assert window.status.text().startswith("Saved ")


# -- a crash while typing ------------------------------------------------------------------------
def test_sigkill_two_seconds_after_typing_then_restart_offers_the_draft_and_keep_restores_it(qtbot, ws, tmp_path):
    import signal
    import sys
    from pathlib import Path

    child = Path(__file__).with_name("typing_child.py")
    repo = Path(__file__).resolve().parents[2]
    qsettings = tmp_path / "q.ini"
    env = {**os.environ, "PYTHONPATH": str(repo)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    typed = " Keep it under twenty words,\nand never use jargon."
    proc = subprocess.Popen([sys.executable, str(child), str(ws.root), str(qsettings), typed], env=env,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 90
        while not (lines and lines[-1].startswith("TYPED ")):
            line = proc.stdout.readline()
            assert line and time.monotonic() < deadline, f"the child ended or stalled: {lines}"
            lines.append(line.strip())
        time.sleep(2.0)  # the person stops typing; two seconds later the app is killed
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    expected = json.loads(lines[-1][len("TYPED "):])
    rel = lines[0].split(" ", 1)[1]
    from promptbench.core.prompts.promptfile import parse_prompt

    assert parse_prompt(expected, rel).messages[0].content == "You are friendly." + typed
    assert (ws.root / rel).read_text() == SIMPLE_PROMPT  # never saved: only the draft has it

    win = open_window(qtbot, ws, qsettings)
    try:
        assert win.editor.current_rel() == rel
        assert win.editor.banner_reason() == "recovered"
        assert win.editor.tabs.currentWidget() is win.editor.structured  # it parses: the forms show it
        win.editor.banner.click("Keep")
        assert win.editor.current_text() == expected  # exactly what was typed, nothing lost
        assert win.isWindowModified() and win.tree.marks_of(rel) == UNSAVED_MARK
    finally:
        close_window(win)


def test_a_recovered_draft_that_does_not_parse_opens_in_the_yaml_view(qtbot, ws, tmp_path):
    write_orphan_draft(ws, A, INVALID, SIMPLE_PROMPT)
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        assert win.editor.banner_reason() == "recovered" and win.editor.raw.text() == INVALID
        assert win.editor.tabs.currentWidget() is win.editor.raw
    finally:
        close_window(win)


def test_a_full_disk_while_writing_a_draft_is_reported_and_the_text_stays(qtbot, window, ws):
    drafts = ws.root / ".promptbench" / "drafts"
    drafts.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(drafts)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={drafts / 'filler'}", "bs=1k", "count=64"], capture_output=True)
        type_into(qtbot, window.editor.structured.description, " and more")
        qtbot.waitUntil(lambda: window.editor.banner_reason() == "draft-error", timeout=5000)
        assert "No space left on device" in window.editor.banner.label.text()
        assert "Says hello and more" in window.editor.current_text() and window.editor.is_dirty()
    finally:
        subprocess.run(["umount", str(drafts)], check=True)
    type_into(qtbot, window.editor.structured.description, "!")
    qtbot.waitUntil(lambda: window.editor.banner_reason() is None, timeout=5000)
    qtbot.waitUntil(lambda: "Says hello and more!" in drafts_on_disk(ws).get(A, ""), timeout=5000)


def test_discarding_the_draft_of_a_deleted_prompt_removes_it_from_the_list(qtbot, ws, tmp_path):
    write_orphan_draft(ws, B, SIMPLE_PROMPT.replace("Greeter", "Lost"), SIMPLE_PROMPT)
    (ws.root / B).unlink()
    subprocess.run(["git", "commit", "-qam", "deleted outside"], cwd=ws.root, check=True)
    win = open_window(qtbot, ws, tmp_path / "q.ini")
    try:
        assert win.editor.current_rel() == B and B in win.tree.paths()
        win.editor.banner.click("Discard")
        qtbot.waitUntil(lambda: B not in win.tree.paths() and win.editor.current_rel() == A, timeout=10000)
        qtbot.waitUntil(lambda: drafts_on_disk(ws) == {}, timeout=5000)
        assert not (ws.root / B).exists()
    finally:
        close_window(win)


def test_opening_another_workspace_with_unsaved_edits_asks_first(qtbot, ws, tmp_path):
    from PySide6.QtCore import QSettings

    from promptbench.core.store.workspace import init_workspace
    from promptbench.gui.app import AppWindows

    other = init_workspace(tmp_path / "other")
    other.save("gamma.prompt.yml", SIMPLE_PROMPT, "gamma")
    other.close()
    windows = AppWindows(QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat), warm_up=False)
    assert windows.open(ws.root)
    first = windows.window
    try:
        qtbot.waitUntil(lambda: first.editor.current_rel() == A and not first.editor._loading, timeout=15000)
        type_into(qtbot, first.editor.structured.name, "!")
        answer_dialog("Cancel")
        first.workspace_requested.emit(str(other.root))
        qtbot.wait(200)
        assert windows.window is first and first.isVisible() and first.editor.is_dirty()
        answer_dialog("Save")
        first.workspace_requested.emit(str(other.root))
        qtbot.waitUntil(lambda: windows.window is not first and not first.isVisible(), timeout=15000)
        assert windows.window.store.root == other.root
        assert "name: Greeter!" in (ws.root / A).read_text()
    finally:
        for window in {first, windows.window}:
            if window is not None:
                window.editor.discard_edits()
                window.close()
