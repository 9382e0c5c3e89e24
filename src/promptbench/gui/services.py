"""What the widgets need, built once per open workspace and handed to them in __init__.

Nothing here is a global: every widget can be built alone in a test with its own
Services. The workspace's Qt-free parts (settings, the run database, the engine, the
local model servers, the batch and eval runners) come from one core Workbench, which
opens them lazily and closes them in reverse; Services adds the Qt parts: the bridge
that brings engine events to the GUI thread, the background tasks and the draft writer.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from promptbench.core.errors import PromptbenchError
from promptbench.core.store.promptstore import PromptStore
from promptbench.core.workbench import Workbench
from promptbench.gui.runtime.bridge import EngineBridge
from promptbench.gui.runtime.tasks import TaskRunner


class Services(QObject):
    settings_changed = Signal()
    draft_written = Signal(str, object)  # prompt, None or the error (from the draft writer's thread, queued)

    def __init__(self, store: PromptStore, *, tasks: TaskRunner | None = None, bridge: EngineBridge | None = None,
                 db_path: Path | None = None, log_dir: Path | None = None, key_lookup=None,
                 instance: str | None = None, keep_drafts: bool = True):
        super().__init__()
        self.tasks = tasks or TaskRunner(self)
        self.bridge = bridge or EngineBridge(self)
        # Every engine event reaches the bridge (runners hear their own comparisons themselves).
        self.workbench = Workbench(store, listeners=(self.bridge.on_event,), key_lookup=key_lookup,
                                   db_path=db_path, log_dir=log_dir)
        self.store = store
        self.db_path = self.workbench.db_path
        self.log_dir = self.workbench.log_dir
        self._instance = instance  # whose drafts these are (default: this process)
        self._keep_drafts = keep_drafts  # off only to measure what drafts cost (benchmarks/typing_stalls.py)
        self._lock = threading.RLock()
        self._drafts = None
        self._closed = False

    # -- the workbench's parts, built lazily (thread-safe: tasks may ask for them) -------------
    def settings(self):
        return self.workbench.settings()

    def reload_settings(self):
        settings = self.workbench.reload_settings()
        self.settings_changed.emit()
        store = self.store
        self.tasks.run(lambda: store.commit_settings(), key="commit-settings")  # settings are versioned too
        return settings

    def runs(self):
        return self.workbench.runs()

    def local(self):
        return self.workbench.local()

    def engine(self):
        """The streaming engine; first call imports its modules (do it in a task)."""
        return self.workbench.engine()

    def batch_runner(self):
        """Runs test cases x versions x models through the engine (ranking sessions, evaluation)."""
        return self.workbench.batch_runner()

    def has_engine(self) -> bool:
        return self.workbench.has_engine()

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

    def close(self) -> None:
        """Write the last drafts, end the tasks, then close the workbench (runners, engine,
        local servers, database, git helpers) and stop the bridge."""
        if self._closed:
            return
        self._closed = True
        if self._drafts is not None:
            self._drafts.close()  # the last draft writes and removals reach the disk
        self.tasks.close(10000)
        try:
            self.workbench.close()
        finally:
            self.bridge.stop()
