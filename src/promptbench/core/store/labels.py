"""Per-prompt labels (production, staging, any name) stored as git refs.

A label is the ref ``refs/promptbench/labels/<encoded prompt path>/<label>``
pointing at the commit of one version of that prompt. Refs keep labels in git
itself (they travel with ``git push origin 'refs/promptbench/*:refs/promptbench/*'``),
and every move is recorded in the ref's reflog, so "who promoted what, when" stays
answerable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from promptbench.core.errors import StoreError
from promptbench.core.store.gitrepo import GitRepo

LABEL_NAMESPACE = "refs/promptbench/labels/"
_LABEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class LabelMove:
    label: str
    old_sha: str | None
    new_sha: str | None
    who: str
    timestamp: int
    message: str


def encode_path(rel: str) -> str:
    # One ref component per prompt: '/' and '.' are escaped so no component starts
    # with '.' or ends with '.lock', whatever the prompt is called.
    return quote(rel, safe="-_").replace(".", "%2E")


def check_label_name(name: str) -> str:
    if not _LABEL_NAME.match(name or "") or name.endswith(".lock") or ".." in name:
        raise StoreError(f"label {name!r}: use letters, digits, '.', '_' or '-' (up to 64, starting with a letter or digit), e.g. production")
    return name


def ref_name(rel: str, label: str) -> str:
    return f"{LABEL_NAMESPACE}{encode_path(rel)}/{label}"


def labels_of(repo: GitRepo, rel: str) -> dict[str, str]:
    prefix = f"{LABEL_NAMESPACE}{encode_path(rel)}/"
    proc = repo.git("for-each-ref", "--format=%(objectname) %(refname)", prefix)
    labels = {}
    for line in proc.stdout.decode().splitlines():
        sha, _, ref = line.partition(" ")
        labels[ref[len(prefix):]] = sha
    return labels


def set_label(repo: GitRepo, rel: str, label: str, sha: str, reason: str) -> None:
    repo.git("update-ref", "--create-reflog", "-m", reason, ref_name(rel, check_label_name(label)), sha, what=rel)


def delete_label(repo: GitRepo, rel: str, label: str) -> bool:
    ref = ref_name(rel, check_label_name(label))
    if repo.git("rev-parse", "--verify", "--quiet", ref, check=False).returncode != 0:
        return False
    repo.git("update-ref", "-d", ref, what=rel)
    return True


def move_labels(repo: GitRepo, old_rel: str, new_rel: str) -> None:
    """Carry a prompt's labels over to its new path after a rename."""
    for label, sha in labels_of(repo, old_rel).items():
        set_label(repo, new_rel, label, sha, f"rename {old_rel} -> {new_rel}")
        delete_label(repo, old_rel, label)


def label_log(repo: GitRepo, rel: str, label: str) -> list[LabelMove]:
    """Moves of one label, newest first, from the ref's reflog."""
    path = repo.git_dir / "logs" / ref_name(rel, check_label_name(label))
    if not path.exists():
        return []
    moves = []
    for line in path.read_text(errors="replace").splitlines():
        head, _, message = line.partition("\t")
        parts = head.split(" ")
        if len(parts) < 5:
            continue
        old, new = parts[0], parts[1]
        zero = "0" * len(old)
        who = " ".join(parts[2:-2])
        moves.append(LabelMove(label, None if old == zero else old, None if new == zero else new,
                               who, int(parts[-2]), message))
    return list(reversed(moves))
