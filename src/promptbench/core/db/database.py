"""The SQLite file behind the run store: open it safely, migrate it, write it from one thread.

Opening never overwrites or repairs anything. A file that is not SQLite, is damaged,
or was written by a newer promptbench is refused with a message that names the file
and says what to do; the check happens before the first write (switching to WAL).

Migrations (core/migrations.py) are an append-only list of named functions, recorded in
``_migrations`` (name, applied_at) as simonw/llm does.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from promptbench.core.errors import PromptbenchError
from promptbench.core.db.migrations import MIGRATIONS

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
