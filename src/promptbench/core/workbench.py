"""The one composition root: everything an open workspace runs on, opened in order and closed in reverse.

``Workbench(path)`` is what the app (gui/services.py), the CLI (commands/compare.py,
commands/eval.py) and the public API (promptbench.Workspace) stand on. It opens

1. the prompt store (git; at once),
2. the settings (promptbench.toml),
3. the run database (RunStore; runs a dead process left "running" become "interrupted"),
4. the local model servers' manager (no server starts until a local model is asked for),
5. the streaming engine (``listeners`` given here, or added with ``subscribe``, hear
   every event; runners listen to their own comparisons),
6. the runners: batches (ranking sessions plan on it) and evals,

each part on first use, so reading a prompt imports no engine and starts no thread or
server. ``close()`` (or leaving a ``with`` block) closes what was opened in the
reverse order: runners, engine, local servers, database, store.

Every getter is thread-safe: the GUI asks for parts from its background tasks.
"""

from __future__ import annotations

import contextlib
import threading
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

from promptbench.core.errors import PromptbenchError
from promptbench.core.store.promptstore import PromptStore

if TYPE_CHECKING:
    from promptbench.core.batch.runner import BatchRunner
    from promptbench.core.db.runs import RunStore
    from promptbench.core.engine.engine import Engine
    from promptbench.core.eval.runner import EvalRunner
    from promptbench.core.local.servers import LocalServerManager
    from promptbench.core.settings.config import Settings

DB_NAME = "promptbench.db"


class Workbench:
    """An open workspace's parts. ``workspace`` is a folder in a git repository or an open
    PromptStore (the CLI opens its own for files outside a workspace); either way the
    Workbench closes it. ``listeners`` hear every engine event (``subscribe`` adds more)."""

    def __init__(self, workspace: str | PathLike[str] | PromptStore, *, listeners: Iterable[Callable] = (),
                 key_lookup: Callable | None = None, db_path: Path | None = None, log_dir: Path | None = None):
        self.store = workspace if isinstance(workspace, PromptStore) else PromptStore(workspace)
        self._listeners = list(listeners)
        self.db_path = Path(db_path) if db_path else self.store.data_dir / DB_NAME
        self.log_dir = Path(log_dir) if log_dir else self.store.data_dir / "logs"
        self._key_lookup = key_lookup
        self._lock = threading.RLock()
        self._settings: Settings | None = None
        self._runs: RunStore | None = None
        self._local: LocalServerManager | None = None
        self._engine: Engine | None = None
        self._batch_runner: BatchRunner | None = None
        self._eval_runner: EvalRunner | None = None
        self._closed = False

    def __enter__(self) -> Workbench:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise PromptbenchError(f"{self.store.root}: this workspace was closed; open it again to run anything")

    # -- 2. settings ---------------------------------------------------------------------------
    def settings(self) -> Settings:
        from promptbench.core.settings.config import load_settings

        with self._lock:
            if self._settings is None:
                self._settings = load_settings(self.store.root)
            return self._settings

    def reload_settings(self) -> Settings:
        """Read promptbench.toml again; the engine's timeouts and limits follow at once, and the
        eval runner is rebuilt on the new settings when next asked for and idle."""
        with self._lock:
            self._settings = None
        settings = self.settings()
        if self._engine is not None:
            self._engine.update_settings(settings)
        return settings

    # -- 3. the run database -------------------------------------------------------------------
    def runs(self) -> RunStore:
        from promptbench.core.db.runs import RunStore

        self._check_open()
        with self._lock:
            if self._runs is None:
                self.store.private_dir()  # the database lives there: keep it out of git
                self._runs = RunStore(self.db_path)
                self._runs.mark_interrupted()
            return self._runs

    # -- 4. local model servers ----------------------------------------------------------------
    def local(self) -> LocalServerManager:
        from promptbench.core.local.servers import LocalServerManager

        self._check_open()
        with self._lock:
            if self._local is None:
                with contextlib.suppress(PromptbenchError):
                    self.store.private_dir()  # the servers' logs go there: keep it out of git
                self._local = LocalServerManager(log_dir=self.log_dir)
            return self._local

    # -- 5. the engine -------------------------------------------------------------------------
    def engine(self) -> Engine:
        """The streaming engine; the first call imports its modules (litellm among them) and
        starts its loop thread, so a GUI asks for it in a task."""
        from promptbench.core.engine.engine import Engine

        settings, runs, local = self.settings(), self.runs(), self.local()
        with self._lock:
            self._check_open()
            if self._engine is None:
                kwargs = {"key_lookup": self._key_lookup} if self._key_lookup else {}
                self._engine = Engine(settings, local=local, runs=runs, **kwargs)
                for fn in self._listeners:
                    self._engine.subscribe(fn)
            return self._engine

    def subscribe(self, fn: Callable[[object], None]) -> None:
        """``fn(event)`` hears every engine event (on the engine thread), also of an engine
        not started yet."""
        with self._lock:
            self._listeners.append(fn)
            if self._engine is not None:
                self._engine.subscribe(fn)

    def unsubscribe(self, fn: Callable[[object], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)
            if self._engine is not None:
                self._engine.unsubscribe(fn)

    def has_engine(self) -> bool:
        return self._engine is not None

    # -- 6. runners ----------------------------------------------------------------------------
    def batch_runner(self) -> BatchRunner:
        """Runs test cases x versions x models through the engine (ranking sessions plan on it)."""
        from promptbench.core.batch.runner import BatchRunner

        engine, runs, settings = self.engine(), self.runs(), self.settings()
        with self._lock:
            self._check_open()
            if self._batch_runner is None:
                self._batch_runner = BatchRunner(engine, runs, self.store, settings)
                self._batch_runner.mark_interrupted()
            return self._batch_runner

    def eval_runner(self, *, create: bool = True) -> EvalRunner | None:
        """The eval runner (with ``create=False``: None unless one exists). One built on older
        settings is closed and built again once it is idle (a new judge model, a new catalog)."""
        from promptbench.core.eval.runner import EvalRunner

        if not create:
            return self._eval_runner
        engine, runs, settings = self.engine(), self.runs(), self.settings()
        with self._lock:
            self._check_open()
            old = self._eval_runner
            if old is not None and old.settings is not settings and not old.running():
                old.close()  # plan with the new settings
                self._eval_runner = old = None
            if old is None:
                self._eval_runner = EvalRunner(engine, runs, self.store, settings)
                self._eval_runner.mark_interrupted()
            return self._eval_runner

    def close_eval_runner(self, timeout: float = 10.0) -> None:
        """Cancel running evals and wait for them (the eval view is closing); the next
        ``eval_runner()`` builds a new one."""
        with self._lock:
            runner, self._eval_runner = self._eval_runner, None
        if runner is not None:
            runner.close(timeout)

    # -- closing -------------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel streams, stop local servers, flush the database, end git helpers: the reverse
        of the opening order. Every part is closed even if one fails; the first error is raised."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        steps = [
            lambda: self.close_eval_runner(),
            lambda: self._batch_runner and self._batch_runner.close(),
            lambda: self._engine and self._engine.shutdown(),
            lambda: self._local and self._local.stop_all(),
            lambda: self._runs and self._runs.close(),
            self.store.close,
        ]
        error: Exception | None = None
        for step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - close the rest, then raise the first
                error = error or exc
        if error is not None:
            raise error
