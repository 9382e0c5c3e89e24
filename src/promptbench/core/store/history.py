"""Reading a prompt's versions out of git: history that follows renames, deletions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from promptbench.core.store.gitrepo import GitRepo
from promptbench.core.store.paths import PROMPT_SUFFIXES

_RS, _US = "\x1e", "\x1f"
_FORMAT = f"--format={_RS}%H{_US}%an{_US}%ae{_US}%at{_US}%B{_US}"


@dataclass(frozen=True)
class Version:
    sha: str
    author: str
    email: str
    timestamp: int
    message: str
    path: str           # the prompt's path in this version (differs before a rename)
    change: str = "M"   # A added, M modified, R renamed, D deleted
    labels: tuple[str, ...] = field(default_factory=tuple)

    @property
    def short(self) -> str:
        return self.sha[:8]

    @property
    def subject(self) -> str:
        return self.message.splitlines()[0] if self.message else ""

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc).astimezone().isoformat(timespec="seconds")

    def to_json(self) -> dict:
        return {"sha": self.sha, "short": self.short, "author": self.author, "email": self.email,
                "date": self.date, "timestamp": self.timestamp, "message": self.message,
                "path": self.path, "change": self.change, "labels": list(self.labels)}


@dataclass(frozen=True)
class DeletedPrompt:
    path: str
    sha: str        # the commit that deleted it
    timestamp: int


def file_history(repo: GitRepo, rel: str, *, follow: bool = True, limit: int | None = None,
                 labels: dict[str, str]) -> list[Version]:
    """Versions of ``rel``, newest first; ``labels`` maps label -> commit sha."""
    args = ["log", _FORMAT, "--name-status", "--no-color"]
    if follow:
        args.append("--follow")
    if limit:
        args.append(f"-{limit}")
    proc = repo.git(*args, "--", repo.to_repo(rel), check=False)
    if proc.returncode != 0:  # unborn branch: no history yet
        return []
    by_sha: dict[str, list[str]] = {}
    for label, sha in labels.items():
        by_sha.setdefault(sha, []).append(label)
    versions = []
    for record in proc.stdout.decode("utf-8", errors="replace").split(_RS)[1:]:
        sha, author, email, ts, message, status = record.split(_US, 5)
        change, path = _parse_status(repo, status, rel)
        versions.append(Version(sha, author, email, int(ts), message.strip(), path, change,
                                tuple(sorted(by_sha.get(sha, ())))))
    return versions


def _parse_status(repo: GitRepo, status: str, fallback: str) -> tuple[str, str]:
    for line in status.strip().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0]:
            code = parts[0][0]
            repo_path = parts[-1] if code != "D" else parts[1]
            return code, repo.from_repo(repo_path) or fallback
    return "M", fallback


def last_version_at(repo: GitRepo, rel: str, rev: str) -> str | None:
    """The commit, at or before ``rev``, that last changed ``rel``."""
    proc = repo.git("log", "-1", "--format=%H", rev, "--", repo.to_repo(rel), check=False)
    return proc.stdout.decode().strip() or None


def find_deleted(repo: GitRepo) -> list[DeletedPrompt]:
    """Prompt files deleted in history, newest deletion first (one per path)."""
    specs = [f"{repo.prefix}*{suffix}" for suffix in PROMPT_SUFFIXES]
    proc = repo.git("log", "--diff-filter=D", "--name-only", f"--format={_RS}%H{_US}%at{_US}", "--", *specs, check=False)
    seen: dict[str, DeletedPrompt] = {}
    for record in proc.stdout.decode("utf-8", errors="replace").split(_RS)[1:]:
        sha, ts, names = record.split(_US, 2)
        for name in names.strip().splitlines():
            rel = repo.from_repo(name.strip())
            if rel and rel not in seen:
                seen[rel] = DeletedPrompt(rel, sha, int(ts))
    return list(seen.values())


def head_version(repo: GitRepo, rel: str, change: str = "M") -> Version:
    """The HEAD commit as a Version of ``rel`` (right after committing it)."""
    with repo.open() as r:
        commit = r.head.commit
        return Version(commit.hexsha, commit.author.name or "", commit.author.email or "",
                       int(commit.authored_date), str(commit.message).strip(), rel, change)
