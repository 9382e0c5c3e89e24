"""PromptStore: a workspace whose prompts are files in a git repository.

Every save is an atomic write plus a commit that touches only that file. Versions
are commits; a rollback is a new commit restoring old content, so history is never
rewritten and every rollback can itself be rolled back. Uncommitted edits are
committed as a snapshot before anything would overwrite them.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from promptbench.core.store import labels as labelrefs
from promptbench.core.store.crash_leftovers import remove_stale_temp_files
from promptbench.core.errors import PromptbenchError, PromptFileError, StoreError, WorkspaceError
from promptbench.core.atomic import write_file
from promptbench.core.store.gitrepo import GitRepo, blob_sha
from promptbench.core.store.history import DeletedPrompt, Version, file_history, find_deleted, head_version, last_version_at
from promptbench.core.figures import plural
from promptbench.core.store.outside import OutsideFiles, is_outside
from promptbench.core.store.paths import is_prompt_name, iter_prompt_files, normalize_prompt_path
from promptbench.core.store.private_dir import PRIVATE_DIR, ensure_private_dir, ignore_private_dir
from promptbench.core.prompts.diff import describe_change, structured_diff
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt_bytes

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
SETTINGS_FILE = "promptbench.toml"
WORKTREE = "WORKTREE"  # a version name: the file on disk now


@dataclass(frozen=True)
class Fingerprint:
    """What the app last saw of a file on disk; compared to notice outside edits."""

    mtime_ns: int
    size: int
    sha1: str

    @classmethod
    def of(cls, path: Path) -> "Fingerprint | None":
        try:
            stat = path.stat()
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return cls(stat.st_mtime_ns, stat.st_size, hashlib.sha1(data).hexdigest())


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.modified or self.removed)


@dataclass(frozen=True)
class Diff:
    path: str
    rev_a: str | None   # None: nothing (the version before the first one)
    rev_b: str
    unified: str
    structured: dict
    old: bytes = field(default=b"", repr=False)   # the two contents compared
    new: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class RollbackResult:
    snapshot: Version | None  # the commit that saved uncommitted edits first, if any
    version: Version | None   # the rollback commit; None when content already matched


class ExternalChangeError(StoreError):
    """The file on disk changed since the editor loaded it."""


class PromptStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).absolute()
        if not self.root.is_dir():
            raise StoreError(f"{self.root}: workspace folder does not exist; create it or choose another")
        self.repo = GitRepo(self.root)
        self.outside = OutsideFiles(self.root)  # files named explicitly from outside: read-only
        with contextlib.suppress(OSError):
            remove_stale_temp_files(self.root)  # debris of a save that was killed mid-write
        if self.data_dir.is_dir():  # made by an earlier version, maybe without its .gitignore
            ignore_private_dir(self.data_dir)

    def close(self) -> None:
        """End the background git process used for fast reads."""
        self.repo.close()

    @property
    def git_dir(self) -> Path:
        """The repository's git folder: commits, checkouts and branch switches change it."""
        return self.repo.git_dir

    def set_identity(self, name: str, email: str, everywhere: bool = False) -> None:
        """Commit as ``name <email>`` from now on: set in this repository, or (*everywhere*)
        in the user's global git config. Runs git: call it off the GUI thread."""
        self.repo.set_identity(name, email, everywhere)

    def __enter__(self) -> "PromptStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- listing and reading ---------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """The private folder (database, logs, drafts); see ``private_dir``."""
        return self.root / PRIVATE_DIR

    def private_dir(self) -> Path:
        """The private folder, created if needed and ignored by git."""
        try:
            return ensure_private_dir(self.root)
        except OSError as exc:
            raise WorkspaceError(f"cannot create {self.data_dir}: {exc.strerror}; check that the workspace folder is writable") from None

    def list_prompts(self) -> list[str]:
        """*.prompt.yml|yaml, and the files of ``[workspace] prompt_globs`` while promptbench.toml is valid."""
        from promptbench.core.settings.config import read_prompt_globs  # ~20 ms: only when listing

        try:
            globs = read_prompt_globs(self.root)
        except PromptbenchError:  # said where settings load, and by `promptbench list`
            globs = ()
        return iter_prompt_files(self.root, globs)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def resolve(self, name: str) -> str:
        """Accept a workspace-relative path, a path from the current directory, a bare name, or
        a file outside opened with ``self.outside.open`` (core/outside.py)."""
        outside = self.outside.lookup(name)
        if outside is not None:
            return outside
        candidates = [name]
        if not os.path.isabs(name):
            cwd_path = Path.cwd() / name
            if cwd_path.exists():
                candidates.insert(0, str(cwd_path))
        for candidate in candidates:
            try:
                rel = normalize_prompt_path(self.root, candidate)
            except StoreError:
                continue
            if self.path(rel).exists() or self._known_in_history(rel):
                return rel
        if is_outside(self.root, name) and is_outside(self.root, self.root / name):
            raise StoreError(f"{name}: no such file")  # a path out of the workspace: no matching by name
        stem = Path(name).name
        names = (stem, *(stem + suffix for suffix in (".prompt.yml", ".prompt.yaml", ".yml", ".yaml")))
        matches = [p for p in self.list_prompts() if Path(p).name in names]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise StoreError(f"{name}: ambiguous, matches {', '.join(matches)}; give the path")
        if (Path.cwd() / name).is_dir() or (self.root / name).is_dir():
            raise StoreError(f"{name}: is a folder, not a prompt file")
        if not is_prompt_name(stem):
            raise StoreError(f"{name}: no such file" if "/" in name.replace(os.sep, "/") else
                             f"{name}: no prompt of that name in {self.root} "
                             f"({plural(len(self.list_prompts()), 'prompt')}; 'promptbench list' shows them)")
        return normalize_prompt_path(self.root, name)  # raises for bad names; else a new path

    def _known_in_history(self, rel: str) -> bool:
        proc = self.repo.git("log", "-1", "--format=%H", "--", self.repo.to_repo(rel), check=False)
        return bool(proc.stdout.strip())

    def read_bytes(self, rel: str) -> bytes:
        if rel in self.outside:
            return self.outside.read_bytes(rel)
        rel = normalize_prompt_path(self.root, rel)
        try:
            return self.path(rel).read_bytes()
        except FileNotFoundError:
            hint = " (it was deleted outside promptbench; restore it from history)" if self._known_in_history(rel) else ""
            raise StoreError(f"{rel}: no such file{hint}") from None
        except IsADirectoryError:
            raise StoreError(f"{rel}: is a folder, not a prompt file") from None
        except PermissionError:
            raise StoreError(f"{rel}: permission denied reading the file") from None

    def read(self, rel: str) -> PromptFile:
        rel = rel if rel in self.outside else normalize_prompt_path(self.root, rel)
        return parse_prompt_bytes(self.read_bytes(rel), rel)

    def fingerprint(self, rel: str) -> Fingerprint | None:
        return Fingerprint.of(self.path(normalize_prompt_path(self.root, rel)))

    def snapshot(self) -> dict[str, Fingerprint]:
        return {rel: fp for rel in self.list_prompts() if (fp := Fingerprint.of(self.path(rel)))}

    def changes_since(self, before: dict[str, Fingerprint]) -> Changes:
        now = self.snapshot()
        return Changes(
            added=sorted(set(now) - set(before)),
            modified=sorted(p for p in now if p in before and now[p].sha1 != before[p].sha1),
            removed=sorted(set(before) - set(now)),
        )

    def is_dirty(self, rel: str) -> bool:
        """True when the file on disk differs from its last committed version."""
        rel = normalize_prompt_path(self.root, rel)
        head = self.repo.head_sha()
        committed = self.repo.blob_at(head, rel) if head else None
        try:
            current = self.path(rel).read_bytes()
        except FileNotFoundError:
            current = None
        return committed != current

    def modified(self, rels: list[str]) -> set[str]:
        """The prompts among ``rels`` that :meth:`is_dirty` calls modified, in one pass: one
        ``git ls-tree`` for every committed blob id, and each file hashed as git hashes it
        (``is_dirty`` reads one blob per call, ~5 ms: most of a 1,000-prompt listing)."""
        committed = self.repo.committed_blobs()
        modified = set()
        for rel in rels:
            try:
                on_disk = blob_sha(self.path(rel).read_bytes())
            except (FileNotFoundError, NotADirectoryError):
                on_disk = None
            if committed.get(rel) != on_disk:
                modified.add(rel)
        return modified

    # -- writing ------------------------------------------------------------------------
    def save(self, rel: str, content: str | bytes | PromptFile, message: str | None = None, *,
             base: Fingerprint | None = None, force: bool = False, validate: bool = True) -> Version | None:
        """Write ``content`` and commit it. Returns the new version, or None if nothing changed.

        ``base`` is what the editor loaded; if the file changed on disk since, this raises
        ExternalChangeError unless ``force``, in which case the outside edit is committed
        as a snapshot first so it stays in history.
        """
        rel = normalize_prompt_path(self.root, rel)
        data = _as_bytes(content)
        if validate:
            parse_prompt_bytes(data, rel)
        self._check_can_write(rel)
        target = self.path(rel)
        on_disk = Fingerprint.of(target)
        if base is not None and on_disk is not None and on_disk.sha1 != base.sha1:
            if not force:
                raise ExternalChangeError(f"{rel}: the file changed on disk since it was opened; reload it, or save again to keep both (the outside edit is committed first)")
            self._snapshot_if_dirty(rel, "Snapshot of outside edits to {rel} before saving")
        head = self.repo.head_sha()
        committed = self.repo.blob_at(head, rel) if head else None
        if committed == data and on_disk is not None and on_disk.sha1 == hashlib.sha1(data).hexdigest():
            return None
        previous = target.read_bytes() if on_disk is not None else None
        write_file(target, data, rel)
        try:
            return self._commit(rel, message or self._describe(committed, data, rel))
        except StoreError:
            # git refused: put the file back as it was, so disk and history still agree
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                write_file(target, previous, rel)
            raise

    def create(self, rel: str, content: str | bytes | PromptFile, message: str | None = None) -> Version:
        rel = normalize_prompt_path(self.root, rel)
        if self.path(rel).exists():
            raise StoreError(f"{rel}: a prompt with this name already exists; choose another name")
        version = self.save(rel, content, message or f"Create {rel}")
        assert version is not None
        return version

    def rename(self, old: str, new: str, message: str | None = None) -> Version:
        old, new = normalize_prompt_path(self.root, old), normalize_prompt_path(self.root, new)
        if not self.path(old).exists():
            raise StoreError(f"{old}: file not found; nothing to rename")
        if self.path(new).exists():
            raise StoreError(f"{new}: already exists; choose another name")
        self._check_can_write(old)
        self._snapshot_if_dirty(old, "Snapshot of {rel} before rename")
        self.path(new).parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(old), self.path(new))
        self.repo.git("add", "-A", "--", self.repo.to_repo(old), self.repo.to_repo(new), what=new)
        version = self._commit_paths([old, new], message or f"Rename {old} to {new}", new)
        labelrefs.move_labels(self.repo, old, new)
        return version

    def delete(self, rel: str, message: str | None = None) -> Version:
        rel = normalize_prompt_path(self.root, rel)
        if not self.path(rel).exists():
            raise StoreError(f"{rel}: file not found; nothing to delete")
        self._check_can_write(rel)
        self._snapshot_if_dirty(rel, "Snapshot of {rel} before delete")
        self.path(rel).unlink()
        tracked = self.repo.git("ls-files", "--error-unmatch", "--", self.repo.to_repo(rel), check=False).returncode == 0
        if not tracked:
            raise StoreError(f"{rel}: was never committed, so it cannot be recovered; deleted anyway")
        self.repo.git("rm", "--cached", "--quiet", "--", self.repo.to_repo(rel), what=rel)
        return self._commit_paths([rel], message or f"Delete {rel}", rel)

    def deleted_prompts(self) -> list[DeletedPrompt]:
        existing = set(self.list_prompts())
        return [d for d in find_deleted(self.repo) if d.path not in existing]

    def restore(self, rel: str, message: str | None = None) -> Version:
        """Bring back a deleted prompt with the content it had before it was deleted."""
        rel = normalize_prompt_path(self.root, rel)
        if self.path(rel).exists():
            raise StoreError(f"{rel}: exists already; nothing to restore")
        for deleted in find_deleted(self.repo):
            if deleted.path == rel:
                data = self.repo.blob_at(deleted.sha + "^", rel)
                if data is not None:
                    return self.save(rel, data, message or f"Restore {rel} as of {deleted.sha[:8]}", validate=False)
        raise StoreError(f"{rel}: no deleted version found in history")

    # -- history ------------------------------------------------------------------------
    def history(self, rel: str, follow: bool = True) -> list[Version]:
        if rel in self.outside:
            raise self.outside.refuse(rel, "it has no versions here")
        rel = normalize_prompt_path(self.root, rel)
        return file_history(self.repo, rel, follow=follow, labels=labelrefs.labels_of(self.repo, rel))

    def resolve_version(self, rel: str, rev: str) -> tuple[str, str]:
        """(commit sha, path at that version) for ``rev``: a label, a sha, ``HEAD~n``, or ``~n`` versions back."""
        if rel in self.outside:
            raise self.outside.refuse(rel, f"it has no version {rev!r}; run the file as it is on disk")
        rel = normalize_prompt_path(self.root, rel)
        rev = rev.strip()
        if _FULL_SHA.fullmatch(rev) and self.repo.blob_at(rev, rel) is not None:
            return rev, rel  # the common case (a version picked from history): no git process
        label_sha = labelrefs.labels_of(self.repo, rel).get(rev)
        if label_sha:
            return label_sha, self._path_at(rel, label_sha)
        if rev.startswith("~") and rev[1:].isdigit():
            versions = self.history(rel)
            index = int(rev[1:])
            if index >= len(versions):
                raise StoreError(f"{rel}: only {len(versions)} versions exist; {rev} goes back too far")
            return versions[index].sha, versions[index].path
        sha = self.repo.resolve_commit(rev)
        if sha is None:
            raise StoreError(f"{rel}: unknown version {rev!r}; give a commit sha, a label ({', '.join(labelrefs.labels_of(self.repo, rel)) or 'none set'}), or ~N for N versions back")
        return sha, self._path_at(rel, sha)

    def _path_at(self, rel: str, sha: str) -> str:
        if self.repo.blob_at(sha, rel) is not None:
            return rel
        for version in self.history(rel):
            if version.sha == sha:
                return version.path
        return rel

    def read_at(self, rel: str, rev: str) -> bytes:
        sha, path_then = self.resolve_version(rel, rev)
        data = self.repo.blob_at(sha, path_then)
        if data is None:
            version = last_version_at(self.repo, path_then, sha)
            data = self.repo.blob_at(version, path_then) if version else None
        if data is None:
            raise StoreError(f"{rel}: did not exist at version {rev} ({sha[:8]})")
        return data

    def diff(self, rel: str, rev_a: str | None, rev_b: str = WORKTREE) -> Diff:
        """Diff two versions; ``WORKTREE`` is the file on disk now, ``rev_a=None`` nothing."""
        rel = normalize_prompt_path(self.root, rel)
        a = self._content(rel, rev_a) if rev_a is not None else b""
        b = self._content(rel, rev_b)
        unified = "".join(difflib.unified_diff(
            a.decode(errors="replace").splitlines(keepends=True), b.decode(errors="replace").splitlines(keepends=True),
            fromfile=f"{rel}@{rev_a}" if rev_a is not None else "/dev/null", tofile=f"{rel}@{rev_b}"))
        try:
            structured = structured_diff(parse_prompt_bytes(a, f"{rel}@{rev_a}") if a else None,
                                         parse_prompt_bytes(b, f"{rel}@{rev_b}") if b else None)
        except PromptFileError as exc:
            structured = {"error": str(exc)}
        return Diff(rel, rev_a, rev_b, unified, structured, a, b)

    def _content(self, rel: str, rev: str) -> bytes:
        if rev.upper() == WORKTREE:
            path = self.path(rel)
            return path.read_bytes() if path.exists() else b""
        return self.read_at(rel, rev)

    def rollback(self, rel: str, rev: str, message: str | None = None) -> RollbackResult:
        rel = normalize_prompt_path(self.root, rel)
        sha, _ = self.resolve_version(rel, rev)
        data = self.read_at(rel, rev)
        self._check_can_write(rel)
        snapshot = self._snapshot_if_dirty(rel, "Snapshot of uncommitted edits to {rel} before rollback")
        head = self.repo.head_sha()
        if head and self.repo.blob_at(head, rel) == data and self.path(rel).exists():
            return RollbackResult(snapshot, None)
        write_file(self.path(rel), data, rel)
        subject = self._subject_of(sha)
        text = message or f"Roll back {rel} to {sha[:8]}" + (f" ({subject})" if subject else "")
        return RollbackResult(snapshot, self._commit(rel, text + f"\n\nPromptbench-Rollback-To: {sha}"))

    # -- labels ---------------------------------------------------------------------------
    def labels(self, rel: str) -> dict[str, str]:
        return labelrefs.labels_of(self.repo, normalize_prompt_path(self.root, rel))

    def set_label(self, rel: str, label: str, rev: str = "HEAD") -> str:
        """Point ``label`` at the version of ``rel`` current as of ``rev`` (promote)."""
        rel = normalize_prompt_path(self.root, rel)
        labelrefs.check_label_name(label)
        sha, path_then = self.resolve_version(rel, rev)
        version_sha = last_version_at(self.repo, path_then, sha)
        if version_sha is None:
            raise StoreError(f"{rel}: has no committed version at {rev}; save it first")
        labelrefs.set_label(self.repo, rel, label, version_sha, f"promptbench: {label} -> {version_sha[:8]} ({rel})")
        return version_sha

    promote = set_label

    def remove_label(self, rel: str, label: str) -> bool:
        return labelrefs.delete_label(self.repo, normalize_prompt_path(self.root, rel), label)

    def label_log(self, rel: str, label: str) -> list[labelrefs.LabelMove]:
        return labelrefs.label_log(self.repo, normalize_prompt_path(self.root, rel), label)

    # -- workspace settings -----------------------------------------------------------------
    def commit_settings(self, message: str = "Update promptbench settings") -> Version | None:
        """Commit promptbench.toml if it changed: settings are versioned like prompts."""
        path = self.root / SETTINGS_FILE
        if not path.exists():
            return None
        head = self.repo.head_sha()
        if head and self.repo.blob_at(head, SETTINGS_FILE) == path.read_bytes():
            return None
        self.repo.check_writable_state(SETTINGS_FILE)
        self.repo.check_identity(SETTINGS_FILE)
        self.repo.git("add", "--", self.repo.to_repo(SETTINGS_FILE), what=SETTINGS_FILE)
        self.repo.git("commit", "--only", "--no-verify", "--quiet", "-m", message, "--",
                      self.repo.to_repo(SETTINGS_FILE), what=SETTINGS_FILE)
        return head_version(self.repo, SETTINGS_FILE)

    # -- internals ------------------------------------------------------------------------
    def _check_can_write(self, rel: str) -> None:
        self.repo.check_writable_state(rel)
        self.repo.check_identity(rel)
        if not os.access(self.root, os.W_OK):
            raise WorkspaceError(f"{rel}: the workspace folder {self.root} is not writable; fix its permissions or choose another folder (nothing was written)")

    def _snapshot_if_dirty(self, rel: str, template: str) -> Version | None:
        if self.path(rel).exists() and self.is_dirty(rel):
            return self._commit(rel, template.format(rel=rel))
        return None

    def _describe(self, old: bytes | None, new: bytes, rel: str) -> str:
        try:
            old_prompt = parse_prompt_bytes(old, rel) if old else None
            return describe_change(old_prompt, parse_prompt_bytes(new, rel))
        except PromptFileError:
            return f"Update {rel}"

    def _subject_of(self, sha: str) -> str:
        return self.repo.git("log", "-1", "--format=%s", sha).stdout.decode(errors="replace").strip()

    def _commit(self, rel: str, message: str) -> Version:
        self.repo.git("add", "--", self.repo.to_repo(rel), what=rel)
        return self._commit_paths([rel], message, rel)

    def _commit_paths(self, rels: list[str], message: str, rel_for_result: str) -> Version:
        paths = [self.repo.to_repo(r) for r in rels]
        self.repo.git("commit", "--only", "--no-verify", "--quiet", "--allow-empty-message", "-m", message, "--", *paths, what=rel_for_result)
        return head_version(self.repo, rel_for_result)


def _as_bytes(content: str | bytes | PromptFile) -> bytes:
    if isinstance(content, PromptFile):
        content = content.dumps()
    return content.encode("utf-8") if isinstance(content, str) else content

