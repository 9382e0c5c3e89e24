"""The one way promptbench writes a file: a temp file beside it, fsync, ``os.replace``.

A crash leaves the old file or the new one, never a half-written one. The temp file is
named ``.<file name>.<random>.tmp`` (crash_leftovers clears those left by a kill). The
file keeps its permission bits; a new one gets ``new_mode``. Errors are ``OSError`` with
the temp file removed; :class:`FolderNotWritable` when not even the temp file could be
made, so callers can say which folder to fix. Callers turn them into their own messages.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from promptbench.core.errors import StoreError, WorkspaceError


class FolderNotWritable(OSError):
    """The folder refused a new file (the temp file); the target is untouched."""

    @property
    def permission_denied(self) -> bool:
        return self.errno in (errno.EACCES, errno.EPERM)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], *, text: bool = True, new_mode: int = 0o644) -> Iterator[IO]:
    """A handle (UTF-8 text, newlines as written; or binary) whose content replaces ``path``
    only if the block ends without an exception."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise FolderNotWritable(exc.errno, exc.strerror, str(path.parent)) from None
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else new_mode
        with (os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # mkstemp made it 0600
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, new_mode: int = 0o644) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically."""
    with atomic_output(path, text=False, new_mode=new_mode) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)


def write_file(path: Path, data: bytes, what: str) -> None:
    """:func:`write_atomic`, failing with the messages the store and the command line show
    (``what`` names the file in them): WorkspaceError when the folder refuses, else StoreError."""
    try:
        write_atomic(path, data)
    except FolderNotWritable as exc:
        if exc.permission_denied:
            raise WorkspaceError(f"{what}: cannot write in {path.parent}: permission denied; choose a folder you can write to or fix its permissions") from None
        raise StoreError(f"{what}: cannot write in {path.parent}: {exc.strerror}") from None
    except OSError as exc:
        raise StoreError(f"{what}: could not write the file: {exc.strerror}; the previous version is unchanged") from None
