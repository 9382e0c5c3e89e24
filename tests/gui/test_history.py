"""The History panel on a real git workspace with several saved versions."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import Qt
from promptbench.gui.history import HistoryPanel
from promptbench.gui.history.sidebyside import align_lines, changed_lines
from promptbench.gui.history.version_table import COL_CHANGE, COL_LABELS, LABELS_ROLE, WORKTREE, readable_date
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"
V2 = SIMPLE_PROMPT.replace("temperature: 0.2", "temperature: 0.7")
V3 = V2.replace("content: You are friendly.", "content: You are concise and friendly.")
V4 = V3.replace("  - name: Linus\n", "  - name: Linus\n  - name: Grace\n")


@pytest.fixture
def services(workspace):
    services = Services(workspace)
    yield services
    services.close()
    # Free the Services (and the bridge's running 30 ms timer) here, on the GUI thread: left
    # to the cyclic GC, it may be destroyed from a task's worker thread in a later test,
    # which corrupts Qt's timer list (seen as a segfault in QTimerInfoList::activateTimers).
    del services
    gc.collect()


@pytest.fixture
def shas(workspace):
    """Four saved versions, oldest first; production on v2, staging on v3."""
    versions = [workspace.save(P, text, f"v{i}") for i, text in enumerate((SIMPLE_PROMPT, V2, V3, V4), start=1)]
    workspace.set_label(P, "production", versions[1].sha)
    workspace.set_label(P, "staging", versions[2].sha)
    return [v.sha for v in versions]


@pytest.fixture
def panel(qtbot, services, shas):
    panel = HistoryPanel(services)
    # let every result reach the panel before pytest-qt deletes it
    qtbot.addWidget(panel, before_close_func=lambda w: qtbot.waitUntil(w.is_idle))
    panel.resize(1100, 800)
    with qtbot.waitSignal(panel.history_loaded), qtbot.waitSignal(panel.diff_loaded):
        panel.set_prompt(P)
    return panel


def select(qtbot, panel, revs):
    with qtbot.waitSignal(panel.diff_loaded, timeout=5000) as blocker:
        panel.select_revs(revs)
    return blocker.args


def settle(qtbot, services):
    qtbot.waitUntil(lambda: not services.tasks.is_busy(), timeout=5000)


def test_lists_all_versions_with_labels(panel, shas):
    table = panel.table
    assert table.revs() == list(reversed(shas))
    rows = {table.revs()[i]: table.topLevelItem(i) for i in range(table.topLevelItemCount())}
    assert rows[shas[1]].data(COL_LABELS, LABELS_ROLE) == ["production"]
    assert rows[shas[2]].data(COL_LABELS, LABELS_ROLE) == ["staging"]
    assert rows[shas[3]].data(COL_LABELS, LABELS_ROLE) == []
    assert rows[shas[0]].text(COL_CHANGE) == "created"
    assert rows[shas[3]].text(2) == "v4"
    assert table.selected_revs() == [shas[3]]  # newest selected, compared with the one before
    assert panel.diff_pair() == (shas[2], shas[3])
    assert not panel.rollback_button.isEnabled()  # already the current version


def test_two_selected_versions_show_their_diff(qtbot, panel, shas):
    assert select(qtbot, panel, [shas[0], shas[1]]) == [P, shas[0], shas[1]]
    left, right = panel.side_by_side.changed_lines()
    assert left == ["  temperature: 0.2"] and right == ["  temperature: 0.7"]
    rows = panel.side_by_side.rows()
    assert len(panel.side_by_side.left_pane.numbers()) == len(rows) == len(SIMPLE_PROMPT.splitlines())
    changed = next(r for r in rows if r.kind == "replace")
    assert changed.left_spans and changed.right_spans  # intra-line highlight of 0.2 -> 0.7
    text = panel.structured_view.text()
    assert "temperature" in text and "0.2" in text and "0.7" in text
    assert "Model parameters" in text

    # newest first in the selection order does not matter: old is always on the left
    select(qtbot, panel, [shas[3], shas[1]])
    left, right = panel.side_by_side.changed_lines()
    assert left == ["    content: You are friendly."]
    assert right == ["    content: You are concise and friendly.", "  - name: Grace"]
    text = panel.structured_view.text()
    assert "Message 1  (changed)" in text and "Test case 3  (added)" in text and "Grace" in text
    assert panel.side_by_side.left_pane.toPlainText().count("\n") == panel.side_by_side.right_pane.toPlainText().count("\n")


def test_first_version_compares_with_nothing_and_base_picker(qtbot, panel, shas):
    select(qtbot, panel, [shas[0]])
    left, right = panel.side_by_side.changed_lines()
    assert left == [] and right == SIMPLE_PROMPT.splitlines()
    assert "Prompt created" in panel.structured_view.text()

    with qtbot.waitSignal(panel.diff_loaded) as blocker:
        panel.base_combo.setCurrentIndex(panel.base_combo.findData(shas[3]))
    assert blocker.args == [P, shas[0], shas[3]]  # the older one stays on the left


def test_rollback_restores_content_and_undo_goes_back(qtbot, panel, workspace, shas):
    select(qtbot, panel, [shas[0]])
    assert panel.rollback_button.isEnabled()
    with qtbot.waitSignal(panel.rolled_back) as rolled, qtbot.waitSignal(panel.history_loaded):
        panel.rollback_button.click()
    rel, new_sha = rolled.args
    assert rel == P
    assert (workspace.root / P).read_text() == SIMPLE_PROMPT
    history = workspace.history(P)
    assert len(history) == 5 and history[0].sha == new_sha
    assert f"Promptbench-Rollback-To: {shas[0]}" in history[0].message
    assert panel.table.revs()[0] == new_sha and panel.table.selected_revs() == [new_sha]
    assert panel.table.topLevelItem(0).text(COL_CHANGE) == f"↺ rollback to {shas[0][:8]}"
    assert panel.notice.text() == f"Rolled back to {shas[0][:8]} — undo: roll back to the previous version"
    assert panel.undo_available()

    with qtbot.waitSignal(panel.rolled_back), qtbot.waitSignal(panel.history_loaded):
        panel.undo()
    assert (workspace.root / P).read_text() == V4
    history = workspace.history(P)
    assert len(history) == 6 and f"Promptbench-Rollback-To: {shas[3]}" in history[0].message
    settle(qtbot, panel.services)


def test_undo_after_rollback_over_uncommitted_edits_brings_them_back(qtbot, panel, workspace, shas):
    edited = V4.replace("Says hello", "Says hello warmly")
    (workspace.root / P).write_text(edited)
    with qtbot.waitSignal(panel.history_loaded):
        panel.refresh()
    assert panel.table.revs()[0] == WORKTREE
    assert panel.table.topLevelItem(0).text(0) == "Working copy"
    select(qtbot, panel, [shas[3]])
    assert panel.rollback_button.isEnabled()  # the head, to drop uncommitted edits (undoably)
    select(qtbot, panel, [shas[1]])
    with qtbot.waitSignal(panel.history_loaded):
        panel.rollback_selected()
    assert (workspace.root / P).read_text() == V2
    assert WORKTREE not in panel.table.revs()
    with qtbot.waitSignal(panel.history_loaded):
        panel.undo()
    assert (workspace.root / P).read_text() == edited  # the snapshot of the edits
    settle(qtbot, panel.services)


def test_undo_is_withdrawn_once_a_save_follows_the_rollback(qtbot, panel, workspace, shas):
    select(qtbot, panel, [shas[1]])
    with qtbot.waitSignal(panel.history_loaded):
        panel.rollback_selected()
    assert panel.undo_available()
    workspace.save(P, V2.replace("Says hello", "Greets"), "edit after rollback")
    with qtbot.waitSignal(panel.history_loaded):
        panel.refresh()
    assert not panel.undo_available() and panel.notice.text() == ""
    assert panel.table.selected_revs() == [workspace.history(P)[0].sha]  # the top stays selected


def test_copy_shortcut_copies_the_full_sha(qtbot, panel, shas):
    from PySide6.QtGui import QGuiApplication

    select(qtbot, panel, [shas[2]])
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == shas[2]


def test_promote_moves_labels_and_custom_labels(qtbot, panel, workspace, shas, monkeypatch):
    select(qtbot, panel, [shas[3]])
    assert panel.promote_production_button.isEnabled()
    with qtbot.waitSignal(panel.labels_changed) as changed, qtbot.waitSignal(panel.history_loaded):
        panel.promote_production_button.click()
    assert changed.args == [P]
    assert workspace.labels(P)["production"] == shas[3]
    assert panel.labels_of(shas[3]) == ["production"] and panel.labels_of(shas[1]) == []
    assert not panel.promote_production_button.isEnabled()

    monkeypatch.setattr(panel, "ask_label_name", lambda: "canary")
    with qtbot.waitSignal(panel.history_loaded):
        panel.label_selected_as()
    assert workspace.labels(P)["canary"] == shas[3]
    row = panel.table.row_of(shas[3])
    assert panel.table.topLevelItem(row).data(COL_LABELS, LABELS_ROLE) == ["production", "canary"]

    with qtbot.waitSignal(panel.history_loaded):
        panel.remove_label("canary")
    assert "canary" not in workspace.labels(P)
    settle(qtbot, panel.services)


def test_bad_label_name_is_reported_not_raised(qtbot, panel, workspace, shas):
    select(qtbot, panel, [shas[2]])
    panel.set_label("no spaces allowed", shas[2])
    qtbot.waitUntil(lambda: "Could not set label" in panel.notice.text())
    assert panel.promote_production_button.isEnabled()  # writing state cleared


def test_context_menu_and_working_copy_compare(qtbot, panel, workspace, shas):
    from promptbench.gui.history.menus import build_context_menu

    menu = build_context_menu(panel, shas[1])
    texts = [a.text() for a in menu.actions() if a.text()]
    assert {"Copy version id (sha)", "Compare with working copy", "Roll back to this version",
            "Promote to staging", "Label"} <= set(texts)
    assert not next(a for a in menu.actions() if a.text() == "Promote to production").isEnabled()
    (workspace.root / P).write_text(V4.replace("maxTokens: 64", "maxTokens: 128"))
    with qtbot.waitSignal(panel.diff_loaded) as blocker:
        panel.compare_with_working_copy(shas[3])
    assert blocker.args == [P, shas[3], WORKTREE]
    assert panel.side_by_side.changed_lines() == (["  maxTokens: 64"], ["  maxTokens: 128"])


def test_no_prompt_and_unsaved_prompt(qtbot, services, workspace):
    panel = HistoryPanel(services)
    qtbot.addWidget(panel, before_close_func=lambda w: qtbot.waitUntil(w.is_idle))
    assert "Select a prompt" in panel.side_by_side.message()
    assert not panel.rollback_button.isEnabled()
    (workspace.root / "new.prompt.yml").write_text(SIMPLE_PROMPT)
    with qtbot.waitSignal(panel.history_loaded):
        panel.set_prompt("new.prompt.yml")
    settle(qtbot, services)
    assert panel.table.revs() == [WORKTREE]


def test_panes_scroll_together(qtbot):
    from promptbench.gui.history.diff_view import SideBySideDiffView

    view = SideBySideDiffView()
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    old = "\n".join(f"line {i}" for i in range(200))
    new = old.replace("line 150", "line one-fifty").replace("line 20\n", "")
    view.set_diff(align_lines(old, new), "old", "new")
    left, right = view.left_pane.verticalScrollBar(), view.right_pane.verticalScrollBar()
    assert left.maximum() == right.maximum() > 0
    assert left.value() == right.value() > 0  # scrolled to the first change
    right.setValue(120)
    assert left.value() == 120
    assert view.left_pane.document().blockCount() == view.right_pane.document().blockCount() == 200
    assert view.right_pane.numbers()[20] is None  # the gap where line 20 was removed


def test_align_lines_pairs_changes_and_leaves_gaps():
    rows = align_lines("a\nb\nc\nd\n", "a\nB\nc\nx\ny\nd\n")
    assert [r.kind for r in rows] == ["equal", "replace", "equal", "insert", "insert", "equal"]
    assert [r.left_no for r in rows] == [1, 2, 3, None, None, 4]
    assert [r.right_no for r in rows] == [1, 2, 3, 4, 5, 6]
    assert changed_lines(rows) == (["b"], ["B", "x", "y"])
    rows = align_lines("keep\nold one\nold two\n", "keep\nnew one\n")
    assert [r.kind for r in rows] == ["equal", "replace", "delete"]
    assert rows[1].left_spans == ((0, 3),) and rows[1].right_spans == ((0, 3),)


def test_readable_date():
    from datetime import datetime

    now = datetime(2025, 6, 10, 12, 0)
    assert readable_date(int(datetime(2025, 6, 10, 9, 5).timestamp()), now) == "Today 09:05"
    assert readable_date(int(datetime(2025, 6, 9, 23, 59).timestamp()), now) == "Yesterday 23:59"
    assert readable_date(int(datetime(2025, 3, 2, 8, 0).timestamp()), now) == "2 Mar 08:00"
    assert readable_date(int(datetime(2024, 3, 2, 8, 0).timestamp()), now) == "2 Mar 2024 08:00"
