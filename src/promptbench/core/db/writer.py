"""The one thread that writes the run database (core/db/database.py opens the file)."""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from promptbench.core.db.database import open_writer
from promptbench.core.errors import PromptbenchError

log = logging.getLogger(__name__)

# --- the one writer -----------------------------------------------------------------

_STOP = object()


class Writer:
    """ONE thread that owns the only writing connection and runs queued writes in order.

    ``submit(label, fn)`` queues ``fn(db)`` and returns at once (or waits for its result
    with ``wait=True``). A queued write that raises is rolled back, logged and kept in
    ``errors``; the thread goes on with the next one. ``take_new_errors()`` hands each
    error out once, for ``flush()`` to raise.
    """

    def __init__(self, path: Path):
        self.path = Path(path).absolute()
        self.errors: list[PromptbenchError] = []
        self._reported = 0
        self._lock = threading.Lock()
        self._closed = False
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        ready: Future = Future()
        # A daemon thread, so an unclosed store cannot hang interpreter exit; the
        # owner registers an atexit close (atexit runs while daemon threads live).
        self._thread = threading.Thread(target=self._main, args=(ready,), name="promptbench-db-writer", daemon=True)
        self._thread.start()
        ready.result()  # the open/check/migrate error, if any, is raised here

    @property
    def closed(self) -> bool:
        return self._closed

    def _main(self, ready: Future) -> None:
        try:
            db = open_writer(self.path)
        except BaseException as e:  # noqa: BLE001 - handed to __init__
            ready.set_exception(e)
            return
        ready.set_result(None)
        try:
            while (item := self._queue.get()) is not _STOP:
                label, fn, future = item
                try:
                    result = fn(db)
                except BaseException as e:  # noqa: BLE001 - a failed write must not stop the writer
                    db.rollback()
                    err = PromptbenchError(f"{self.path}: {label} was not saved: {e}")
                    err.__cause__ = e
                    if future is not None:
                        future.set_exception(err)
                        continue
                    log.error("%s", err)
                    with self._lock:
                        self.errors.append(err)
                else:
                    if future is not None:
                        future.set_result(result)
        finally:
            db.close()

    def submit(self, label: str, fn, *, wait: bool = False, timeout: float | None = None):
        future: Future | None = Future() if wait else None
        with self._lock:
            if self._closed:
                raise PromptbenchError(f"{self.path}: the run store is closed; {label} was not saved")
            self._queue.put((label, fn, future))
        if future is None:
            return None
        try:
            return future.result(timeout)
        except FutureTimeout:
            raise PromptbenchError(
                f"{self.path}: {label} still not done after {timeout:g} s; the disk may be very slow or "
                "another program holds the database"
            ) from None

    def take_new_errors(self) -> list[PromptbenchError]:
        with self._lock:
            new = self.errors[self._reported :]
            self._reported = len(self.errors)
        return new

    def close(self, timeout: float) -> bool:
        """Run everything queued, then stop. Returns False if the thread is still busy after ``timeout``."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()
