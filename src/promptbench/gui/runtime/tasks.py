"""Background work for the GUI: git, SQLite and litellm never run on the GUI thread.

A task is a plain function run on a QThreadPool; its result comes back through a
queued signal to a QObject living on the GUI thread. Tasks started with the same
``key`` supersede each other: only the newest one's result is delivered (a
generation counter, as git-cola does), so a slow load never overwrites a newer one.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Relay(QObject):
    finished = Signal(int, object, object)  # task id, result, error


class _Task(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.task_id, self.fn, self.relay = task_id, fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except Exception as exc:  # delivered to on_error on the GUI thread
            result, error = None, exc
            exc.__pb_traceback__ = traceback.format_exc()
        self.relay.finished.emit(self.task_id, result, error)


class TaskRunner(QObject):
    busy_changed = Signal(bool)
    task_failed = Signal(str)  # a message for the status bar when no on_error was given

    def __init__(self, parent: QObject | None = None, max_threads: int = 4):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()
        self._relay.finished.connect(self._on_finished)
        self._next_id = 0
        self._callbacks: dict[int, tuple] = {}
        self._generation: dict[str, int] = {}
        self._closed = False

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception], None] | None = None, key: str | None = None) -> int:
        if self._closed:
            return -1
        self._next_id += 1
        task_id = self._next_id
        if key is not None:
            self._generation[key] = task_id
        was_idle = not self._callbacks
        self._callbacks[task_id] = (on_done, on_error, key)
        if was_idle:
            self.busy_changed.emit(True)
        self.pool.start(_Task(task_id, fn, self._relay))
        return task_id

    @Slot(int, object, object)
    def _on_finished(self, task_id: int, result: Any, error: Exception | None) -> None:
        on_done, on_error, key = self._callbacks.pop(task_id, (None, None, None))
        if self._closed:
            return  # the widgets that asked may be gone
        if not self._callbacks:
            self.busy_changed.emit(False)
        if key is not None and self._generation.get(key) != task_id:
            return  # superseded by a newer task with the same key
        if error is not None:
            if on_error:
                on_error(error)
            else:
                self.task_failed.emit(str(error))
        elif on_done:
            on_done(result)

    def is_busy(self) -> bool:
        return bool(self._callbacks)

    def close(self, msecs: int = 30000) -> bool:
        """Wait for running tasks, then deliver no more results."""
        done = self.pool.waitForDone(msecs)
        self._closed = True
        self._callbacks.clear()
        return done

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every task finished (tests and shutdown only)."""
        return self.pool.waitForDone(msecs)
