"""The run database as one object: ``write`` on the one writer thread, ``read`` and
``snapshot`` on per-thread read connections.

Runs (core/db/runs.py), votes, batches, evals, the dashboard and exports are all built
on :class:`Database`; none of them opens SQLite itself. ``Database(path)`` opens the file
for writing (checked and migrated first, core/db/database.py); ``Database.readonly(path)``
opens an existing file with read connections only (``mode=ro``: the dashboard and
exports never write, and a file another process is writing is read as committed).
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from promptbench.core.db import database as dbmod
from promptbench.core.db.writer import Writer
from promptbench.core.errors import PromptbenchError

log = logging.getLogger(__name__)


class Database:
    def __init__(self, path: Path, *, _readonly: bool = False):
        self.path = Path(path).absolute()
        self.readonly = _readonly
        self._writer = None if _readonly else Writer(self.path)  # opens, checks and migrates; raises if unusable
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[tuple[weakref.ref, sqlite3.Connection]] = []
        self._closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._writer, self._readers, self._lock, 30, True)

    @classmethod
    def readonly(cls, path: Path) -> Database:
        """An existing database, for reading only. Raises (naming the file) if it is missing
        or cannot be read as a promptbench database."""
        path = Path(path).absolute()
        if not path.exists():
            raise PromptbenchError(f"{path} does not exist yet: no runs have been recorded in this workspace")
        db = cls(path, _readonly=True)
        db.read()  # a file SQLite cannot open fails here, not at the first query
        return db

    # -- writing -----------------------------------------------------------------------------
    @property
    def errors(self) -> list[PromptbenchError]:
        """Every queued write that failed, in order."""
        return self._writer.errors if self._writer else []

    def write(self, label: str, fn: Callable[[Any], Any], *, wait: bool = False, durable: bool = False,
              timeout: float | None = None):
        """Run ``fn(db)`` (a sqlite_utils Database in WAL mode) on the one writer thread, in
        order with every other write. By default it is queued and this returns at once (a
        failure is logged and raised by the next ``flush``). ``wait=True`` blocks until it is
        committed and returns its result or raises its error; ``durable=True`` also runs it
        in one transaction whose commit is fsynced (``synchronous = FULL``), so a power cut
        right after cannot lose it (votes). *label* names the write in errors ("… was not saved")."""
        if self._writer is None:
            raise PromptbenchError(f"{self.path}: opened read-only; {label} was not saved")
        if durable:
            fn = _fsynced(fn)
        return self._writer.submit(label, fn, wait=wait or durable, timeout=timeout)

    def barrier(self, label: str = "read barrier", timeout: float | None = None) -> None:
        """Return once every write queued before this call is committed (no-op when closed or
        read-only), so a read that follows sees them. Raises no earlier write's error."""
        if self._writer is not None and not self._writer.closed:
            self._writer.submit(label, lambda db: None, wait=True, timeout=timeout)

    def flush(self, timeout: float = 10) -> None:
        """``barrier``, then raise the first write that failed since the last flush."""
        self.barrier("flush", timeout=timeout)
        self.raise_new_errors()

    def raise_new_errors(self) -> None:
        new = self._writer.take_new_errors() if self._writer else []
        if new:
            more = f" ({len(new) - 1} more failed writes; see the log)" if len(new) > 1 else ""
            raise PromptbenchError(f"{new[0]}{more}") from new[0]

    # -- reading -----------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed or (self._writer is not None and self._writer.closed)

    def read(self) -> sqlite3.Connection:
        """This thread's read connection (``query_only``; rows are sqlite3.Row)."""
        if self.closed:
            raise PromptbenchError(f"{self.path}: the run store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        with self._lock:
            dead = [(t, c) for t, c in self._readers if t() is None or not t().is_alive()]
            for item in dead:  # threads that ended: close their connections
                self._readers.remove(item)
                item[1].close()
            conn = _open_reader(self.path, self.readonly)
            self._readers.append((weakref.ref(threading.current_thread()), conn))
        self._local.conn = conn
        return conn

    def query(self, sql: str, params: list | tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read-only statement on this thread's read connection."""
        conn = self.read()
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error as e:
            raise self.read_error(e) from e

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """This thread's read connection inside one read transaction: every query in the block
        sees the same committed data, whatever is written meanwhile. Nests (the outer one wins)."""
        conn = self.read()
        own = not conn.in_transaction
        if own:
            conn.execute("BEGIN")
        try:
            yield conn
        except sqlite3.Error as e:
            raise self.read_error(e) from e
        finally:
            if own:
                conn.execute("ROLLBACK")

    def read_error(self, e: sqlite3.Error) -> PromptbenchError:
        """A failed read as one actionable error naming the file."""
        if isinstance(e, sqlite3.DatabaseError) and dbmod.is_damage(e):
            return dbmod.file_error(self.path, e)
        return PromptbenchError(f"{self.path}: reading runs failed: {e}")

    # -- closing -----------------------------------------------------------------------------
    def close(self, timeout: float = 30) -> None:
        """Commit everything queued, stop the writer and close every connection. Idempotent."""
        if self._finalizer.detach() is None:
            return  # already closed
        self._closed = True
        if not _shutdown(self._writer, self._readers, self._lock, timeout, False):
            raise PromptbenchError(f"{self.path}: writes still pending after {timeout:g} s; they may be lost")
        self.raise_new_errors()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _fsynced(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(db):
        before = db.execute("PRAGMA synchronous").fetchone()[0]
        db.execute("PRAGMA synchronous = FULL")  # fsync the WAL at this commit
        try:
            with db.atomic():
                return fn(db)
        finally:
            db.execute(f"PRAGMA synchronous = {int(before)}")
    return run


def _open_reader(path: Path, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:  # mode=ro: never creates, never writes (not even the WAL index of a clean file)
            conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                   isolation_level=None, timeout=dbmod.BUSY_TIMEOUT_MS / 1000)
        else:
            conn = sqlite3.connect(str(path), timeout=dbmod.BUSY_TIMEOUT_MS / 1000, check_same_thread=False,
                                   isolation_level=None)
            conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA busy_timeout = {dbmod.BUSY_TIMEOUT_MS}")
    except sqlite3.Error as e:
        raise dbmod.file_error(path, e) from e
    conn.row_factory = sqlite3.Row
    return conn


def _shutdown(writer: Writer | None, readers: list, lock: threading.Lock, timeout: float, log_errors: bool) -> bool:
    """Stop the writer after its queue and close the readers. Also the database's finalizer:
    it runs when one is garbage-collected unclosed, or at interpreter exit (atexit runs
    while the daemon writer thread still lives), so queued writes are not lost."""
    stopped = writer.close(timeout) if writer is not None else True
    with lock:
        conns = [conn for _, conn in readers]
        readers.clear()
    for conn in conns:
        conn.close()
    if log_errors and writer is not None:
        for err in writer.take_new_errors():
            log.error("run database: %s", err)  # nobody is left to raise them to
    return stopped
