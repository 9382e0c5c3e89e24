"""Shared fixtures: real git workspaces in tmp_path with an isolated git identity."""

from __future__ import annotations

import os
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
    from promptbench.core.workspace import init_workspace

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
