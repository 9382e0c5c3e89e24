"""Versions read as short sha + commit subject + labels, from the workspace's git history."""

from __future__ import annotations

from promptbench.core.ranking.leaderboard import Contestant
from promptbench.core.ranking.versions import describe_contestants, describe_version, describe_versions
from tests.conftest import SIMPLE_PROMPT

P = "greeter.prompt.yml"


def test_a_saved_version_reads_as_sha_subject_and_labels(workspace):
    first = workspace.save(P, SIMPLE_PROMPT, "concise, 0.2\n\nTemperature 0.2 and a one-line system message.")
    second = workspace.save(P, SIMPLE_PROMPT.replace("friendly", "brief"), "brief, 0.7")
    workspace.set_label(P, "production", first.sha)
    workspace.set_label(P, "staging", first.sha)

    info = describe_version(workspace, P, first.sha)
    assert info.known and info.short == first.sha[:8]
    assert info.line() == f"{first.sha[:8]} · concise, 0.2 · production, staging"
    assert info.tooltip().startswith("concise, 0.2\n\nTemperature 0.2 and a one-line system message.")
    assert first.sha in info.tooltip() and "labels: production, staging" in info.tooltip()
    assert describe_version(workspace, P, second.sha).line() == f"{second.sha[:8]} · brief, 0.7"
    # an imported vote may name a version by a unique prefix
    assert describe_version(workspace, P, second.sha[:10]).subject == "brief, 0.7"


def test_drafts_and_unknown_versions(workspace):
    workspace.save(P, SIMPLE_PROMPT, "v1")
    draft = describe_version(workspace, P, "draft:1a2b3c4d5e6f")
    assert draft.line() == "draft 1a2b3c4d · unsaved draft" and "Unsaved text" in draft.tooltip()
    stranger = describe_version(workspace, P, "0123456789abcdef0123")
    assert not stranger.known and stranger.line() == "01234567" and "not in this workspace" in stranger.tooltip()
    assert describe_version(workspace, P, "v2").line() == "v2"              # a name, kept whole
    assert describe_versions(workspace, "missing/nothing.prompt.yml", ["abcdef12"])["abcdef12"].line() == "abcdef12"


def test_describe_contestants_reads_each_prompt_once(workspace, monkeypatch):
    one = workspace.save(P, SIMPLE_PROMPT, "first")
    other = workspace.save("other.prompt.yml", SIMPLE_PROMPT, "other's first")
    calls = []
    real = type(workspace).history
    monkeypatch.setattr(type(workspace), "history", lambda self, rel, **kw: calls.append(rel) or real(self, rel, **kw))
    infos = describe_contestants(workspace, [Contestant(P, one.sha, "m1"), Contestant(P, one.sha, "m2"),
                                             Contestant("other.prompt.yml", other.sha, "m1")])
    assert sorted(calls) == [P, "other.prompt.yml"]
    assert infos[(P, one.sha)].subject == "first" and infos[("other.prompt.yml", other.sha)].subject == "other's first"
