"""What the widgets need, built once per open workspace and handed to them in __init__.

Nothing here is a global: every widget can be built alone in a test with its own
Services. Slow parts (the engine and its imports, the local model servers) start
lazily, off the GUI thread.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.events import EventFanout
from promptbench.core.store.promptstore import PromptStore
from promptbench.gui.runtime.bridge import EngineBridge
from promptbench.gui.runtime.tasks import TaskRunner


class Services(QObject):
    settings_changed = Signal()
    draft_written = Signal(str, object)  # prompt, None or the error (from the draft writer's thread, queued)

    def __init__(self, store: PromptStore, *, tasks: TaskRunner | None = None, bridge: EngineBridge | None = None,
                 db_path: Path | None = None, log_dir: Path | None = None, key_lookup=None,
                 instance: str | None = None, keep_drafts: bool = True):
        super().__init__()
        self.store = store
        self.tasks = tasks or TaskRunner(self)
        self.bridge = bridge or EngineBridge(self)
        # The engine has one on_event callback; the bridge and any runner (batch, eval) listen through this.
        self.fanout = EventFanout(self.bridge.on_event)
        self.db_path = db_path or store.data_dir / "promptbench.db"
        self.log_dir = log_dir or store.data_dir / "logs"
        self._key_lookup = key_lookup
        self._instance = instance  # whose drafts these are (default: this process)
        self._keep_drafts = keep_drafts  # off only to measure what drafts cost (benchmarks/typing_stalls.py)
        self._lock = threading.RLock()
        self._settings = None
        self._runs = None
        self._local = None
        self._engine = None
        self._batch_runner = None
        self._drafts = None
        self._closed = False

    # -- lazily built parts (thread-safe: tasks may ask for them) ------------------------
    def settings(self):
        from promptbench.core.settings.config import load_settings

        with self._lock:
            if self._settings is None:
                self._settings = load_settings(self.store.root)
            return self._settings

    def reload_settings(self):
        with self._lock:
            self._settings = None
        settings = self.settings()
        if self._engine is not None:
            self._engine.update_settings(settings)
        self.settings_changed.emit()
        store = self.store
        self.tasks.run(lambda: store.commit_settings(), key="commit-settings")  # settings are versioned too
        return settings

    def runs(self):
        from promptbench.core.db.runs import RunStore

        with self._lock:
            if self._runs is None:
                self.store.private_dir()
                self._runs = RunStore(self.db_path)
                self._runs.mark_interrupted()
            return self._runs

    def local(self):
        from promptbench.core.local.servers import LocalServerManager

        with self._lock:
            if self._local is None:
                with contextlib.suppress(PromptbenchError):
                    self.store.private_dir()  # the servers' logs go there: keep it out of git
                self._local = LocalServerManager(log_dir=self.log_dir)
            return self._local

    def engine(self):
        """The streaming engine; first call imports its modules (do it in a task)."""
        from promptbench.core.engine.engine import Engine

        settings, runs, local = self.settings(), self.runs(), self.local()
        with self._lock:
            if self._engine is None:
                kwargs = {"key_lookup": self._key_lookup} if self._key_lookup else {}
                self._engine = Engine(settings, self.fanout, local=local, runs=runs, **kwargs)
            return self._engine

    def batch_runner(self):
        """Runs test cases x versions x models through the engine (ranking sessions, evaluation)."""
        from promptbench.core.batch.runner import BatchRunner

        engine, runs, settings = self.engine(), self.runs(), self.settings()
        with self._lock:
            if self._batch_runner is None:
                self._batch_runner = BatchRunner(engine, runs, self.store, settings)
                self._batch_runner.mark_interrupted()
            return self._batch_runner

    def drafts(self):
        """The DraftWriter of this workspace (its ``store`` reads drafts back); None when the
        private folder cannot be created (a read-only workspace): edits then live in the editor only."""
        from promptbench.core.store.drafts import DraftStore, DraftWriter

        with self._lock:
            if self._drafts is None and not self._closed and self._keep_drafts:
                try:
                    folder = self.store.private_dir()
                except PromptbenchError:
                    folder = self.store.data_dir  # writes will fail and be reported like any draft error
                self._drafts = DraftWriter(DraftStore(folder, self._instance), on_result=self.draft_written.emit)
            return self._drafts

    def has_engine(self) -> bool:
        return self._engine is not None

    def close(self) -> None:
        """Cancel streams, stop local servers, flush the database, end git helpers."""
        if self._closed:
            return
        self._closed = True
        if self._drafts is not None:
            self._drafts.close()  # the last draft writes and removals reach the disk
        self.tasks.close(10000)
        if self._batch_runner is not None:
            self._batch_runner.close()
        if self._engine is not None:
            self._engine.shutdown()
        self.bridge.stop()
        if self._local is not None:
            self._local.stop_all()
        if self._runs is not None:
            self._runs.close()
        self.store.close()
