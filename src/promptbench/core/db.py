"""The SQLite file behind the run store: open it safely, migrate it, write it from one thread.

Opening never overwrites or repairs anything. A file that is not SQLite, is damaged,
or was written by a newer promptbench is refused with a message that names the file
and says what to do; the check happens before the first write (switching to WAL).

Migrations are an append-only list of named functions, recorded in ``_migrations``
(name, applied_at) as simonw/llm does. Never edit or reorder a released migration:
add ``m00N_what_changed`` at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from promptbench.core.errors import PromptbenchError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
WAL_SIZE_LIMIT = 64 * 1024 * 1024
SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseFileError(PromptbenchError):
    """The database file cannot be used as it is; the message says what to do."""


def utc_now() -> str:
    return to_utc_iso(datetime.now(timezone.utc))


def to_utc_iso(value: datetime | str) -> str:
    """One fixed-width UTC form (``2024-05-01T12:00:00.123Z``) so text order is time order."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise PromptbenchError(f"{value!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise PromptbenchError(f"{value.isoformat()} has no time zone; pass an aware (UTC) date-time")
    value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# --- migrations -----------------------------------------------------------------------


def m001_initial(db: sqlite_utils.Database) -> None:
    # Long text (rendered messages, output) lives in run_texts so scans and
    # aggregates over runs stay narrow (measured: ~70 ms vs ~200 ms over 100k runs).
    db.execute(
        """CREATE TABLE comparisons (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            prompt_path TEXT,  -- NULL: a prompt typed ad hoc, not from a file
            prompt_version TEXT,
            test_case INTEGER,
            variables TEXT NOT NULL DEFAULT '{}',
            local_mode TEXT,
            models TEXT NOT NULL DEFAULT '[]',
            note TEXT
        )"""
    )
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            comparison_id TEXT REFERENCES comparisons(id) ON DELETE CASCADE,
            prompt_path TEXT,
            prompt_version TEXT,
            test_case INTEGER,
            model_name TEXT NOT NULL,
            model TEXT,
            provider TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL,
            error_class TEXT,
            error TEXT,
            ttft_ms REAL,
            tokens_per_s REAL,
            itl_p50_ms REAL,
            itl_p95_ms REAL,
            total_ms REAL,
            input_tokens INTEGER,
            input_tokens_reported INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER,
            tokens_reported INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL,
            cost_note TEXT,
            retries INTEGER NOT NULL DEFAULT 0,
            finish_reason TEXT,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            output_chars INTEGER
        )"""
    )
    db.execute(
        """CREATE TABLE run_texts (
            run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            messages TEXT NOT NULL DEFAULT '[]',
            output TEXT
        )"""
    )
    for name, table, columns in [
        ("idx_runs_started_at", "runs", "started_at"),
        ("idx_runs_model_started", "runs", "model_name, started_at"),
        ("idx_runs_prompt_version", "runs", "prompt_path, prompt_version"),
        ("idx_runs_comparison", "runs", "comparison_id"),
        ("idx_runs_status", "runs", "status"),
        ("idx_comparisons_created_at", "comparisons", "created_at"),
        ("idx_comparisons_prompt", "comparisons", "prompt_path, created_at"),
    ]:
        db.execute(f"CREATE INDEX {name} ON {table} ({columns})")


def m002_votes(db: sqlite_utils.Database) -> None:
    # Human judgements: pairwise votes and N-way rankings (votes), 1-5 rubric scores,
    # thumbs up/down, and the ranking sessions that produced them. No foreign key to
    # runs: a vote must be saved even when its run rows are missing (imported votes
    # have no runs at all). Contestant = (prompt, version, model).
    db.execute(
        """CREATE TABLE ranking_sessions (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            name TEXT NOT NULL,
            prompt_path TEXT,
            config TEXT NOT NULL DEFAULT '{}',  -- JSON: test cases x versions x models, blind, criteria
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finished', 'abandoned'))
        )"""
    )
    db.execute(
        """CREATE TABLE votes (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            voter TEXT NOT NULL,
            session_id TEXT REFERENCES ranking_sessions(id),
            blind INTEGER NOT NULL DEFAULT 1 CHECK (blind IN (0, 1)),
            kind TEXT NOT NULL CHECK (kind IN ('pairwise', 'ranking')),
            test_case TEXT,
            prompt_path TEXT,  -- the prompt all contestants share; NULL when they differ
            note TEXT,
            source TEXT NOT NULL DEFAULT 'app' CHECK (source IN ('app', 'import')),
            source_name TEXT,  -- imports: the file the vote came from
            from_ranking TEXT,  -- an imported pair that was exported from an N-way ranking
            a_prompt TEXT, a_version TEXT, a_model TEXT,
            b_prompt TEXT, b_version TEXT, b_model TEXT,
            a_run_id TEXT, b_run_id TEXT,
            winner TEXT CHECK (winner IN ('a', 'b', 'tie', 'both_bad')),
            left_side TEXT CHECK (left_side IN ('a', 'b')),  -- which contestant was shown on the left
            contestants TEXT,  -- rankings: JSON list in chosen order, best first, with rank and run_id
            positions TEXT,  -- rankings: JSON {"shown": [index into contestants, left to right]}
            CHECK (kind = 'ranking' OR (a_prompt IS NOT NULL AND a_version IS NOT NULL AND a_model IS NOT NULL
                   AND b_prompt IS NOT NULL AND b_version IS NOT NULL AND b_model IS NOT NULL
                   AND winner IS NOT NULL AND left_side IS NOT NULL)),
            CHECK (kind = 'pairwise' OR (contestants IS NOT NULL AND positions IS NOT NULL))
        )"""
    )
    db.execute(
        """CREATE TABLE rubric_scores (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            vote_id TEXT REFERENCES votes(id),
            run_id TEXT,
            prompt TEXT NOT NULL, version TEXT NOT NULL, model TEXT NOT NULL,
            test_case TEXT,
            criterion TEXT NOT NULL,
            score INTEGER NOT NULL CHECK (typeof(score) = 'integer' AND score BETWEEN 1 AND 5),
            voter TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE thumbs (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            run_id TEXT,
            prompt TEXT NOT NULL, version TEXT NOT NULL, model TEXT NOT NULL,
            test_case TEXT,
            value INTEGER NOT NULL CHECK (value IN (1, -1)),
            voter TEXT NOT NULL,
            note TEXT
        )"""
    )
    for name, table, columns in [
        ("idx_votes_prompt_created", "votes", "prompt_path, created_at"),
        ("idx_votes_a_prompt", "votes", "a_prompt, created_at"),
        ("idx_votes_b_prompt", "votes", "b_prompt, created_at"),
        ("idx_votes_created_at", "votes", "created_at"),
        ("idx_votes_session", "votes", "session_id"),
        ("idx_rubric_contestant", "rubric_scores", "prompt, version, model"),
        ("idx_rubric_vote", "rubric_scores", "vote_id"),
        ("idx_thumbs_contestant", "thumbs", "prompt, version, model"),
        ("idx_thumbs_run", "thumbs", "run_id"),
        ("idx_sessions_created_at", "ranking_sessions", "created_at"),
    ]:
        db.execute(f"CREATE INDEX {name} ON {table} ({columns})")


def m003_batches(db: sqlite_utils.Database) -> None:
    # Batch runs (core/batch.py): one row per batch, one per cell (prompt version x test
    # case x model x repeat). Cells hold the run they produced and its headline metrics,
    # so progress and resume never scan runs. No foreign key to runs: a cell keeps its
    # figures when runs are pruned. In-flight cells stay 'pending' until their run ends.
    db.execute(
        """CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            ended_at TEXT,
            prompt_path TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',  -- JSON: versions (with content), test cases, models, repeats, concurrency
            status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'cancelled', 'interrupted')),
            total_cells INTEGER NOT NULL DEFAULT 0,
            finished_cells INTEGER NOT NULL DEFAULT 0,  -- totals as of the last pass's end
            error_cells INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL
        )"""
    )
    db.execute(
        """CREATE TABLE batch_cells (
            batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            cell_key TEXT NOT NULL,  -- JSON [prompt_version, test_case, model_name, repeat]
            prompt_version TEXT NOT NULL,
            test_case INTEGER,  -- NULL: a prompt without testData
            model_name TEXT NOT NULL,
            repeat INTEGER NOT NULL,
            run_id TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'finished', 'error', 'cancelled')),
            error_class TEXT,
            cost_usd REAL,
            ttft_ms REAL,
            total_ms REAL,
            output_tokens INTEGER,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (batch_id, cell_key)
        )"""
    )
    for name, table, columns in [
        ("idx_batch_cells_status", "batch_cells", "batch_id, status"),
        ("idx_batch_cells_run", "batch_cells", "run_id"),
        ("idx_batches_prompt", "batches", "prompt_path, created_at"),
        ("idx_batches_status", "batches", "status"),
    ]:
        db.execute(f"CREATE INDEX {name} ON {table} ({columns})")


def m004_eval(db: sqlite_utils.Database) -> None:
    # Automated evaluation (core/eval_run.py): an eval is a batch (its config has
    # "kind": "eval", the evaluator specs and the judge override); one row here per
    # (cell run, evaluator). Denormalised (prompt, version, model, test case, repeat) so
    # pass-rate-over-time queries never join batch_cells. judge_model / judge_run_id are
    # set for llm and uses: evaluators only; details is the evaluator's JSON figures.
    db.execute(
        """CREATE TABLE eval_results (
            id TEXT PRIMARY KEY,
            batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
            run_id TEXT NOT NULL,
            prompt_path TEXT NOT NULL,
            prompt_version TEXT NOT NULL,
            model_name TEXT NOT NULL,
            test_case INTEGER,  -- NULL: a prompt without testData
            repeat INTEGER NOT NULL DEFAULT 0,
            evaluator TEXT NOT NULL,
            kind TEXT NOT NULL,  -- string, regex, llm, github/similarity, ...
            passed INTEGER CHECK (passed IN (0, 1)),  -- NULL: the evaluator could not run (see error)
            score REAL,
            reason TEXT,
            error TEXT,
            judge_model TEXT,
            judge_run_id TEXT,
            details TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        )"""
    )
    for name, columns in [
        ("idx_eval_results_batch", "batch_id"),
        ("idx_eval_results_prompt", "prompt_path, prompt_version, created_at"),
        ("idx_eval_results_run", "run_id"),
    ]:
        db.execute(f"CREATE INDEX {name} ON eval_results ({columns})")


def m005_dashboard_indexes(db: sqlite_utils.Database) -> None:
    # Covering indexes for the dashboard's aggregates: a full refresh over 100k runs
    # drops from ~520 ms to ~100 ms of queries (benchmarks/dashboard.py), for ~0.7 KB a run.
    for sql in (
        "CREATE INDEX IF NOT EXISTS idx_runs_ended_at ON runs (ended_at)",
        "CREATE INDEX IF NOT EXISTS idx_runs_dash_time ON runs (substr(started_at, 1, 10), model_name, provider, status,"
        " cost_usd, input_tokens, output_tokens, ttft_ms, tokens_per_s, total_ms, prompt_path, started_at)",
        "CREATE INDEX IF NOT EXISTS idx_runs_dash_version ON runs (status, prompt_path, prompt_version, output_chars,"
        " output_tokens, model_name, provider, started_at)",
        "CREATE INDEX IF NOT EXISTS idx_runs_dash_ttft ON runs (model_name, status, ttft_ms, provider, prompt_path, started_at)",
        "CREATE INDEX IF NOT EXISTS idx_runs_dash_tps ON runs (model_name, status, tokens_per_s, provider, prompt_path, started_at)",
        "CREATE INDEX IF NOT EXISTS idx_runs_dash_latency ON runs (substr(started_at, 1, 10), status, total_ms, model_name,"
        " provider, prompt_path, started_at)",
    ):
        db.execute(sql)


def m006_owners(db: sqlite_utils.Database) -> None:
    # The process that started a run or batch (core/instance.py), so a second instance
    # starting up marks only a dead process's leftovers "interrupted". Rows from before
    # have NULL: treated as dead, as they always were.
    db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    db.execute("ALTER TABLE batches ADD COLUMN owner TEXT")
    db.execute("CREATE INDEX idx_runs_running ON runs (owner) WHERE status = 'running'")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [m001_initial, m002_votes, m003_batches, m004_eval,
                                                              m005_dashboard_indexes, m006_owners]


def applied_migrations(db: sqlite_utils.Database) -> list[str]:
    if "_migrations" not in db.table_names():
        return []
    return [r["name"] for r in db.query("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(db: sqlite_utils.Database, migrations=None) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction. Returns their names."""
    migrations = MIGRATIONS if migrations is None else migrations
    done = set(applied_migrations(db))
    applied = []
    for fn in migrations:
        if fn.__name__ in done:
            continue
        with db.atomic():
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            fn(db)
            db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [fn.__name__, utc_now()])
        applied.append(fn.__name__)
    return applied


# --- opening ------------------------------------------------------------------------


def _move_aside_hint(path: Path) -> str:
    return (
        f"Quit promptbench, move it aside (for example rename it to {path.name}.broken) and start "
        "promptbench again: a new, empty run history is created and your prompt files are not affected."
    )


def is_damage(error: sqlite3.DatabaseError) -> bool:
    name = getattr(error, "sqlite_errorname", "")
    return name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")) or type(error) is sqlite3.DatabaseError


def file_error(path: Path, error: sqlite3.Error) -> PromptbenchError:
    """Turn an sqlite3 error met while opening ``path`` into an error a person can act on."""
    if isinstance(error, sqlite3.DatabaseError) and is_damage(error):
        return DatabaseFileError(
            f"{path} is not a usable promptbench database (SQLite says: {error}). {_move_aside_hint(path)}"
        )
    if "locked" in str(error) or "busy" in str(error):
        return DatabaseFileError(
            f"{path} is locked by another program (SQLite says: {error}); close other promptbench windows "
            "using this workspace and try again"
        )
    return DatabaseFileError(f"cannot open {path} (SQLite says: {error}); check the folder exists and is writable")


def _check_header(path: Path) -> None:
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseFileError(f"{path} is a folder, not a database file; move it aside and try again")
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise DatabaseFileError(f"{path} is not an SQLite database. {_move_aside_hint(path)}")


def _check_known(db: sqlite_utils.Database, path: Path) -> None:
    """Refuse, before anything is written, a file from a newer promptbench or another program."""
    names = db.table_names()  # first read: a damaged file fails here
    known = {fn.__name__ for fn in MIGRATIONS}
    if "_migrations" not in names:
        if names:
            raise DatabaseFileError(
                f"{path} is an SQLite database but not promptbench's (it has tables {', '.join(sorted(names)[:5])} "
                f"and no _migrations). {_move_aside_hint(path)}"
            )
        return
    unknown = [n for n in applied_migrations(db) if n not in known]
    if unknown:
        raise DatabaseFileError(
            f"{path} was written by a newer promptbench (unknown schema migrations: {', '.join(unknown)}). "
            "Upgrade promptbench to open this workspace; the file was left unchanged."
        )


def open_writer(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed), check and migrate the database. For the writer thread only."""
    path = Path(path).absolute()
    _check_header(path)
    try:
        path.parent.mkdir(exist_ok=True)
    except OSError as e:
        raise DatabaseFileError(f"cannot create {path.parent}: {e.strerror}; check the workspace folder") from e
    conn = None
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = sqlite_utils.Database(conn, execute_plugins=False)
        _check_known(db, path)
        # From here on the file may be written to.
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":  # e.g. a network file system without shared memory
            log.warning("%s: SQLite refused WAL mode (kept %s); readers may wait for writes", path, mode)
        # synchronous=NORMAL in WAL mode: a commit is written to the WAL but not
        # fsynced; the WAL is fsynced at checkpoints. Every committed transaction
        # survives a crash of this process (SIGKILL, segfault) because the data is
        # already in the OS page cache. A power cut or OS crash can lose the last
        # transactions since the previous checkpoint, but never corrupts the file.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")  # shrink the WAL after big writes
        migrate(db)
        return db
    except sqlite3.Error as e:
        if conn is not None:
            conn.close()
        raise file_error(path, e) from e
    except BaseException:
        if conn is not None:
            conn.close()
        raise


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection for one thread (WAL lets readers run beside the writer)."""
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as e:
        raise file_error(Path(path), e) from e
    conn.row_factory = sqlite3.Row
    return conn


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
