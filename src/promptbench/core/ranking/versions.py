"""How a contestant's prompt version reads: short sha, commit subject and labels.

A version on the leaderboard or a revealed vote card is a commit sha ("3f7107a2") or an
unsaved draft ("draft:<content hash>"). Two versions that differ in one setting cannot be
told apart by their shas, so they are shown with the subject of their commit and the
labels pointing at it: ``3f7107a2 · Edit system message · production``, with the whole
commit message for a tooltip. Read-only: one ``git log`` per prompt (``PromptStore.history``,
which also carries the labels). Plain Python; call it off the GUI thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from promptbench.core.figures import short_version
from promptbench.core.ids import draft_sha, is_draft_version

log = logging.getLogger(__name__)

UNSAVED = "unsaved draft"
_HEX = re.compile(r"[0-9a-f]{7,40}")
SHORT = 8   # as Version.short and everywhere else a sha is shortened


@dataclass(frozen=True)
class VersionInfo:
    version: str                    # as stored with the vote: a sha, "draft:<hash>", or any name
    short: str                      # "3f7107a2", "draft 1a2b3c4d"
    subject: str                    # first line of the commit message; "unsaved draft" for drafts; "" unknown
    labels: tuple[str, ...] = ()    # labels pointing at this version now (production, staging, ...)
    message: str = ""               # the whole commit message
    known: bool = False             # found in this workspace's history

    def line(self) -> str:
        """``3f7107a2 · Edit system message · production`` (what a row or card shows)."""
        parts = [self.short]
        if self.subject:
            parts.append(self.subject)
        if self.labels:
            parts.append(", ".join(self.labels))
        return " · ".join(parts)

    def tooltip(self) -> str:
        """The whole commit message, then the full sha and the labels (hover text)."""
        if is_draft_version(self.version) or self.version == "unsaved":
            return "Unsaved text from the editor, not a saved version" + (
                f"\ncontent hash {draft_sha(self.version)}" if is_draft_version(self.version) else "")
        if not self.known:
            return f"Version {self.version}\n(not in this workspace's history)"
        text = f"{self.message}\n\ncommit {self.version}"
        return text + (f"\nlabels: {', '.join(self.labels)}" if self.labels else "")


def unknown(version: str) -> VersionInfo:
    """What can be said of a version without the history: its short form (drafts say so)."""
    if is_draft_version(version):
        return VersionInfo(version, short_version(version), UNSAVED)
    if version == "unsaved":
        return VersionInfo(version, "unsaved", "")
    return VersionInfo(version, version[:SHORT] if _HEX.fullmatch(version) else version, "")


def describe_versions(store, prompt_path: str, versions: Iterable[str]) -> dict[str, VersionInfo]:
    """``{version: VersionInfo}`` for versions of one prompt, from one read of its history.

    ``store`` is the workspace's ``PromptStore``. A version may be a full sha or a unique
    prefix of one (imported votes); versions not in the history (another workspace, an
    unreadable prompt path) keep their short form with no subject.
    """
    wanted = sorted(set(versions))
    out = {v: unknown(v) for v in wanted}
    commits = [v for v in wanted if _HEX.fullmatch(v)]
    if not commits:
        return out
    try:
        history = store.history(prompt_path)
    except Exception as exc:   # a path git cannot read, a broken repository: keep the short forms
        log.info("no history for %s: %s", prompt_path, exc)
        return out
    for version in commits:
        matches = [h for h in history if h.sha.startswith(version)]
        if len({h.sha for h in matches}) == 1:
            found = matches[0]
            out[version] = VersionInfo(version, found.short, found.subject, tuple(found.labels), found.message, True)
    return out


def describe_version(store, prompt_path: str, version: str) -> VersionInfo:
    """One version's ``VersionInfo`` (see ``describe_versions``)."""
    return describe_versions(store, prompt_path, [version])[version]


def describe_contestants(store, contestants: Iterable) -> dict[tuple[str, str], VersionInfo]:
    """``{(prompt, version): VersionInfo}`` for contestants, one history read per prompt."""
    return describe_prompt_versions(store, ((c.prompt, c.version) for c in contestants))


def describe_prompt_versions(store, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], VersionInfo]:
    """``{(prompt, version): VersionInfo}`` for (prompt, version) pairs, one history read per prompt."""
    by_prompt: dict[str, set[str]] = {}
    for prompt, version in pairs:
        by_prompt.setdefault(prompt, set()).add(version)
    out: dict[tuple[str, str], VersionInfo] = {}
    for prompt, versions in by_prompt.items():
        for version, info in describe_versions(store, prompt, versions).items():
            out[(prompt, version)] = info
    return out
