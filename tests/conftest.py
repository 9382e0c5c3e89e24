"""Shared fixtures: real git workspaces in tmp_path with an isolated git identity."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

SIMPLE_PROMPT = """\
# A hand-written prompt with a comment
name: Greeter
description: Says hello
model: openai/gpt-4o-mini
modelParameters:
  temperature: 0.2
  maxTokens: 64
messages:
  - role: system
    content: You are friendly.
  - role: user
    content: 'Say hello to {{name}}.'
testData:
  - name: Ada
  - name: Linus
evaluators:
  - name: mentions name
    string:
      contains: Ada
"""


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory, monkeypatch):
    """Each test sees a git config with an identity but none of the user's settings."""
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text("[user]\n\tname = Test Person\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))  # crash reports land in this HOME
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def workspace(tmp_path):
    from promptbench.core.store.workspace import init_workspace

    store = init_workspace(tmp_path / "ws")
    yield store
    store.close()


@pytest.fixture
def git():
    def run(cwd: Path, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout

    return run


from tests.fakeserver_fixtures import fake_server, openai_server  # noqa: E402,F401  (loopback OpenAI server)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``xserver`` need a real X server (./run.sh test runs them under Xvfb)."""
    on_x = os.environ.get("QT_QPA_PLATFORM") == "xcb" and bool(os.environ.get("DISPLAY"))
    if on_x:
        return
    skip = pytest.mark.skip(reason="needs a real X server: QT_QPA_PLATFORM=xcb and DISPLAY (./run.sh test starts Xvfb)")
    for item in items:
        if "xserver" in item.keywords:
            item.add_marker(skip)


# -- gh-models compatibility: citations are markers, counted at the end of the run -----------------
# @pytest.mark.gh_case("cmd/eval/eval_test.go:94") replays a test case of github/gh-models (the line
# where its t.Run or table entry starts); @pytest.mark.gh_rule("pkg/prompt/prompt.go:189") checks a
# rule of its code; @pytest.mark.gh_difference("why") says promptbench deliberately differs there.
# tests/core/test_gh_compat_suite.py lists every case and checks that none is lost.
_GH_CASE = re.compile(r"[\w./-]+_test\.go:\d+")
_GH_RULE = re.compile(r"[\w./-]+\.go:\d+(-\d+)?")


def pytest_itemcollected(item):
    props = []
    for kind, pattern in (("gh_case", _GH_CASE), ("gh_rule", _GH_RULE)):
        for mark in item.iter_markers(kind):
            for citation in mark.args:
                if not (isinstance(citation, str) and pattern.fullmatch(citation)):
                    raise pytest.UsageError(f"{item.nodeid}: {kind}({citation!r}) is not a gh-models file:line citation")
                props.append((kind, citation))
    for mark in item.iter_markers("gh_difference"):
        if len(mark.args) != 1 or not isinstance(mark.args[0], str) or not mark.args[0].strip():
            raise pytest.UsageError(f"{item.nodeid}: gh_difference needs one line saying why")
        props.append(("gh_difference", mark.args[0]))
    item.user_properties.extend(props)  # reports carry them to pytest_terminal_summary


def gh_compat_line(stats: dict) -> str | None:
    """'gh-models compatibility: N gh-models test cases replayed (...)' from the run's reports."""
    rank = {"passed": 0, "skipped": 1, "xfailed": 2, "failed": 3}
    tests: dict[str, tuple[list, str]] = {}
    for reports in stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport) or not report.user_properties:
                continue
            outcome = ("failed" if report.failed else "xfailed" if report.skipped and hasattr(report, "wasxfail")
                       else "skipped" if report.skipped else "passed")
            props, before = tests.get(report.nodeid, (report.user_properties, "passed"))
            tests[report.nodeid] = (props, max(before, outcome, key=rank.__getitem__))
    cases: dict[str, set] = {}
    differing: set[str] = set()
    rules: set[str] = set()
    reasons: set[str] = set()
    for props, outcome in tests.values():
        if outcome == "skipped":
            continue
        cited = [v for k, v in props if k == "gh_case"]
        for citation in cited:
            cases.setdefault(citation, set()).add(outcome)
        why = {v for k, v in props if k == "gh_difference"}
        if why:
            differing.update(cited)
            reasons |= why
        rules.update(v for k, v in props if k == "gh_rule")
    if not cases and not rules and not reasons:
        return None
    failed = sum("failed" in o for o in cases.values())
    xfailed = sum("xfailed" in o and "failed" not in o for o in cases.values())
    parts = [f"{len(cases) - failed - xfailed} passed"]
    parts += [f"{xfailed} xfail: known disagreements"] if xfailed else []
    parts += [f"{failed} FAILED"] if failed else []
    return (f"gh-models compatibility: {len(cases)} gh-models test cases replayed ({', '.join(parts)}), "
            f"{len(differing)} of them deliberate differences; {len(rules)} rules of gh-models code checked; "
            f"{len(reasons)} deliberate differences marked in all")


def pytest_terminal_summary(terminalreporter):
    line = gh_compat_line(terminalreporter.stats)
    if line:
        terminalreporter.write_line(line)
