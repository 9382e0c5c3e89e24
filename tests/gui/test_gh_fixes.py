"""Journey: where GitHub would read a file differently, the editor says so at the line and
offers a one-click fix; each fix is one undoable edit that changes only its lines, and
saving commits exactly that. The real main window on a real workspace, driven by clicks
and keys."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtCore import Qt

from tests.gui.unsaved_helpers import close_window, open_window

pytestmark = pytest.mark.journey

P = "tickets.prompt.yml"
TEXT = """\
# Classify support tickets.
name: Tickets
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  max_tokens: 100   # written by the GitHub Models UI
messages:
  - role: user
    content: 'Classify: {{ ticket }}'
testData:
  - ticket: My invoice is wrong
    expected: billing
evaluators:
  - name: Names billing
    string:
      contains: '{{expected}}'
  - name: Has a digit
    regex:
      pattern: '[0-9]'
"""


@pytest.fixture
def window(qtbot, workspace, tmp_path):
    workspace.save(P, TEXT, "tickets v1")
    win = open_window(qtbot, workspace, tmp_path / "q.ini", select=P)
    yield win
    close_window(win)


def problem_rows(raw) -> list[str]:
    return [raw.problem_list.item(i).text() for i in range(raw.problem_list.count())]


def settle(qtbot, editor):
    qtbot.waitUntil(lambda: not editor._validate_timer.isActive() and not editor.services.tasks.is_busy(), timeout=10000)


def select_row(qtbot, raw, containing: str) -> None:
    rows = problem_rows(raw)
    index = next(i for i, row in enumerate(rows) if containing in row)
    item = raw.problem_list.item(index)
    rect = raw.problem_list.visualItemRect(item)
    qtbot.mouseClick(raw.problem_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert raw.current_problem() is item.data(Qt.ItemDataRole.UserRole + 1)


def head_diff(root) -> list[str]:
    out = subprocess.run(["git", "show", "--format=", "-U0", "HEAD", "--", P], cwd=root, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_each_surprise_is_listed_at_its_line_with_its_fix_and_fixing_changes_only_that(qtbot, window, workspace):
    editor = window.editor
    raw = editor.raw
    settle(qtbot, editor)
    # The forms say there is something to look at, and their button leads there.
    banner = editor.structured.banner
    assert banner.isVisibleTo(editor.structured) and editor.structured.body.isEnabled()
    assert banner.label.text() == ("3 warnings (3 with a one-click fix): where GitHub reads this file differently, "
                                   "or something is ignored")
    banner.click("Show warnings")
    assert editor.tabs.currentWidget() is raw
    rows = problem_rows(raw)
    assert "Line 6  ·  modelParameters.max_tokens: GitHub ignores max_tokens: use maxTokens (not sent)  ·  " \
           "fix: Rename to maxTokens" in rows
    assert "Line 9  ·  messages[0].content: GitHub will not substitute {{ ticket }}: write {{ticket}}  ·  " \
           "fix: Remove the spaces" in rows
    assert any(row.startswith("Line 17  ·  evaluators[1]: `gh models eval` will stop at this evaluator: regex is "
                              "promptbench's own kind") and row.endswith("fix: Move to promptbenchEvaluators")
               for row in rows), rows
    assert raw.summary.text() == "3 warnings, 3 with a one-click fix: select one"
    # The structured view says the same about the misplaced evaluator.
    evaluators = editor.structured.evaluators.tree
    assert evaluators.topLevelItem(1).text(2).startswith("gh models eval stops here: move it to promptbenchEvaluators")

    select_row(qtbot, raw, "max_tokens")
    assert raw.fix_button.isVisible() and raw.fix_button.text() == "Fix: Rename to maxTokens"
    qtbot.mouseClick(raw.fix_button, Qt.MouseButton.LeftButton)
    settle(qtbot, editor)
    assert "  maxTokens: 100   # written by the GitHub Models UI\n" in raw.text()
    assert [r for r in problem_rows(raw) if "max_tokens" in r] == []
    assert window.isWindowModified()

    # Ctrl+Z in the text takes the fix back as one edit, and the problem returns.
    raw.editor.setFocus()
    qtbot.keyClick(raw.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, editor)
    assert raw.text() == TEXT
    assert any("max_tokens" in r for r in problem_rows(raw))

    for containing in ("max_tokens", "{{ ticket }}", "will stop at this evaluator"):
        select_row(qtbot, raw, containing)
        qtbot.mouseClick(raw.fix_button, Qt.MouseButton.LeftButton)
        settle(qtbot, editor)
    assert raw.summary.text() == "No problems" and not raw.fix_button.isVisible()
    assert not editor.structured.banner.isVisibleTo(editor.structured)
    assert "content: 'Classify: {{ticket}}'" in raw.text()
    assert raw.text().endswith("promptbenchEvaluators:\n  - name: Has a digit\n    regex:\n      pattern: '[0-9]'\n")
    assert editor.structured.evaluators.tree.topLevelItem(1).text(2).startswith("promptbench only (gh models eval ignores it)")

    qtbot.keyClick(raw.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=10000)
    assert head_diff(workspace.root) == [
        "-  max_tokens: 100   # written by the GitHub Models UI",
        "+  maxTokens: 100   # written by the GitHub Models UI",
        "-    content: 'Classify: {{ ticket }}'",
        "+    content: 'Classify: {{ticket}}'",
        "+promptbenchEvaluators:",  # the evaluator's own lines stay as they were
    ]
    log = subprocess.run(["git", "log", "-1", "--format=%s"], cwd=workspace.root, capture_output=True, text=True).stdout
    assert log == "Edit user message; Rename max_tokens to maxTokens (+1 more)\n"


def test_a_file_gh_rejects_opens_with_the_problem_at_its_line_and_a_fix(qtbot, workspace, tmp_path):
    mapping_schema = TEXT.replace("messages:\n", "responseFormat: json_schema\njsonSchema:\n  name: ticket\n"
                                  "  schema:\n    type: object\nmessages:\n", 1)
    (workspace.root / P).write_text(mapping_schema)  # as another tool wrote it: promptbench would not save it
    subprocess.run(["git", "add", P], cwd=workspace.root, check=True)
    subprocess.run(["git", "commit", "-qm", "from elsewhere"], cwd=workspace.root, check=True)
    window = open_window(qtbot, workspace, tmp_path / "q.ini", select=P)
    try:
        editor, raw = window.editor, window.editor.raw
        settle(qtbot, editor)
        assert raw.text() == mapping_schema  # never a blank screen
        assert editor.tabs.tabText(1) == "Raw YAML (1)"
        select_row(qtbot, raw, "jsonSchema")
        assert raw.fix_button.text() == "Fix: Write as a JSON string"
        qtbot.mouseClick(raw.fix_button, Qt.MouseButton.LeftButton)
        settle(qtbot, editor)
        assert editor.tabs.tabText(1) == "Raw YAML"
        assert 'jsonSchema: |-\n  {\n    "name": "ticket",\n    "schema": {\n      "type": "object"\n    }\n  }\n' in raw.text()
        assert editor.current_prompt().json_schema == {"name": "ticket", "schema": {"type": "object"}}
    finally:
        close_window(window)
