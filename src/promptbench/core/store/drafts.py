"""Drafts: unsaved editor text kept on disk, so no edit lives only in memory.

Each app instance writes to its own folder, ``.promptbench/drafts/<instance>/``, one
JSON file per prompt, atomically (temp file + fsync + rename): the text as it would be
saved, the git blob sha (and the text) of the version the edits started from, and when
it was written. Two windows editing one prompt keep separate drafts.

At start an instance claims the drafts of instances that are no longer running (moves
them into its own folder) and offers them. A draft never becomes a commit by itself:
it is removed when its prompt is saved or its edits are discarded.

``DraftWriter`` does the writing on one background thread, latest text per prompt
first, so typing never waits for the disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from promptbench.core.atomic import write_atomic
from promptbench.core.store.gitrepo import blob_sha  # noqa: F401  (re-exported: the editor names drafts by it)
from promptbench.core.store.instance import instance_alive, this_instance

log = logging.getLogger(__name__)

DRAFTS = "drafts"
_OWNER_FILE = "owner"
_FORMAT = 1


@dataclass(frozen=True)
class Draft:
    rel: str
    text: str                   # the prompt file's text as it would be saved
    base_blob: str | None       # blob sha of the file the edits started from; None: there was no file
    base_text: str | None       # that file's text (for a three-way merge if it changed since)
    saved_at: float             # time.time() of the write
    path: Path

    def differs_from(self, data: bytes | None) -> bool:
        return data is None or self.text.encode("utf-8", errors="surrogatepass") != data


@dataclass(frozen=True)
class Damaged:
    """A draft file that could not be read; kept aside (renamed ``*.damaged``), never deleted."""

    path: Path
    reason: str


class DraftStore:
    """The drafts folder of one workspace, seen from one app instance."""

    def __init__(self, private_dir: Path, instance: str | None = None):
        self.root = Path(private_dir) / DRAFTS
        self.instance = instance or this_instance()
        self.folder = self.root / _folder_name(self.instance)

    # -- writing ----------------------------------------------------------------------------------
    def write(self, rel: str, text: str, base_blob: str | None, base_text: str | None) -> Path:
        """Write the draft of *rel* atomically; raises OSError (disk full, read-only...)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        owner = self.folder / _OWNER_FILE
        if not owner.exists():
            owner.write_text(self.instance)
        payload = json.dumps({"format": _FORMAT, "rel": rel, "text": text, "base_blob": base_blob,
                              "base_text": base_text, "saved_at": time.time(), "instance": self.instance},
                             ensure_ascii=False)
        target = self.folder / _file_name(rel)
        write_atomic(target, payload.encode("utf-8", errors="surrogatepass"), new_mode=0o600)
        return target

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / _file_name(rel)).unlink()

    # -- reading ----------------------------------------------------------------------------------
    def get(self, rel: str) -> Draft | None:
        draft = self._read(self.folder / _file_name(rel))
        return draft if isinstance(draft, Draft) else None

    def mine(self) -> tuple[dict[str, Draft], list[Damaged]]:
        """This instance's drafts by prompt, and the damaged files found (moved aside)."""
        drafts: dict[str, Draft] = {}
        damaged: list[Damaged] = []
        if not self.folder.is_dir():
            return drafts, damaged
        for path in sorted(self.folder.glob("*.json")):
            found = self._read(path)
            if isinstance(found, Draft):
                drafts[found.rel] = found
            elif found is not None:
                damaged.append(found)
        return drafts, damaged

    def claim_orphans(self) -> tuple[list[str], list[Damaged]]:
        """Move the drafts of instances that are no longer running into this instance's
        folder (the newest wins when two have one for the same prompt). Returns the
        prompts claimed and the damaged files found (kept aside, renamed ``*.damaged``)."""
        claimed: list[str] = []
        damaged: list[Damaged] = []
        if not self.root.is_dir():
            return claimed, damaged
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and p != self.folder):
            if instance_alive(_read_owner(folder)):
                continue
            self.folder.mkdir(parents=True, exist_ok=True)
            for path in sorted(folder.glob("*.json")):
                found = self._read(path)
                if isinstance(found, Damaged):
                    target = self.folder / found.path.name
                    with contextlib.suppress(OSError):
                        os.replace(found.path, target)
                        found = Damaged(target, found.reason)
                    damaged.append(found)
                elif isinstance(found, Draft):
                    mine = self.get(found.rel)
                    if mine is not None and mine.saved_at >= found.saved_at:
                        continue  # keep the older one aside below: nothing is deleted
                    with contextlib.suppress(FileNotFoundError):  # another instance took it first
                        os.replace(path, self.folder / _file_name(found.rel))
                        claimed.append(found.rel)
            for leftover in folder.glob(".*.tmp"):  # a write killed before its rename
                with contextlib.suppress(OSError):
                    leftover.unlink()
            for kept in folder.iterdir():  # damaged or superseded files: keep them, in our folder
                if kept.name != _OWNER_FILE:
                    with contextlib.suppress(OSError):
                        os.replace(kept, self.folder / (kept.name if kept.name.endswith(".damaged") else kept.name + ".old"))
            with contextlib.suppress(OSError):
                (folder / _OWNER_FILE).unlink()
                folder.rmdir()
        if self.folder.is_dir() and not (self.folder / _OWNER_FILE).exists():
            (self.folder / _OWNER_FILE).write_text(self.instance)
        return claimed, damaged

    def _read(self, path: Path) -> Draft | Damaged | None:
        try:
            raw = path.read_text(encoding="utf-8", errors="surrogatepass")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            return self._damaged(path, f"cannot read it: {exc}")
        try:
            data = json.loads(raw)
            draft = Draft(rel=_text(data["rel"]), text=_text(data["text"]), base_blob=_optional(data.get("base_blob")),
                          base_text=_optional(data.get("base_text")), saved_at=float(data["saved_at"]), path=path)
        except (ValueError, KeyError, TypeError) as exc:
            return self._damaged(path, f"not a draft file ({type(exc).__name__}: {exc})")
        return draft

    def _damaged(self, path: Path, reason: str) -> Damaged:
        kept = _set_aside(path)
        log.warning("ignored a damaged draft %s: %s (kept as %s)", path, reason, kept)
        return Damaged(kept, reason)


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _optional(value) -> str | None:
    return None if value is None else _text(value)


def _set_aside(path: Path) -> Path:
    if path.suffix == ".damaged":
        return path
    target = path.with_name(path.name + ".damaged")
    with contextlib.suppress(OSError):
        os.replace(path, target)
        return target
    return path


def _folder_name(instance: str) -> str:
    # host:pid:start -> a name that is valid on every file system
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in instance.replace(":", "-"))


def _read_owner(folder: Path) -> str | None:
    try:
        return (folder / _OWNER_FILE).read_text().strip() or None
    except OSError:
        parts = folder.name.rsplit("-", 2)  # fall back to the folder name: host-pid-start
        return f"{parts[0]}:{parts[1]}:{parts[2]}" if len(parts) == 3 and parts[0] == socket.gethostname() else None


def _file_name(rel: str) -> str:
    return hashlib.sha1(rel.encode("utf-8", errors="surrogatepass")).hexdigest()[:20] + ".json"


class DraftWriter:
    """Writes and removes drafts on one background thread, in order, the latest request
    per prompt replacing any older one still waiting. ``on_result(rel, error)`` is called
    from that thread after each request (error None on success)."""

    def __init__(self, store: DraftStore, on_result: Callable[[str, Exception | None], None] | None = None):
        self.store = store
        self.on_result = on_result
        self._pending: OrderedDict[str, tuple] = OrderedDict()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="promptbench-drafts", daemon=True)
        self._thread.start()

    def put(self, rel: str, text: str, base_blob: str | None, base_text: str | None) -> None:
        self._submit(rel, ("write", text, base_blob, base_text))

    def remove(self, rel: str) -> None:
        self._submit(rel, ("remove",))

    def _submit(self, rel: str, request: tuple) -> None:
        with self._cond:
            if self._closed:
                return
            self._pending.pop(rel, None)
            self._pending[rel] = request
            self._cond.notify()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every request made so far is done."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> bool:
        done = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return done

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if not self._pending:
                    return
                rel, request = self._pending.popitem(last=False)
                self._busy = True
            error: Exception | None = None
            try:
                if request[0] == "write":
                    self.store.write(rel, *request[1:])
                else:
                    self.store.remove(rel)
            except Exception as exc:  # noqa: BLE001 - reported to the front, the text stays in the editor
                error = exc
            with self._cond:
                self._busy = False
                self._cond.notify_all()
            if self.on_result is not None:
                with contextlib.suppress(Exception):
                    self.on_result(rel, error)
