"""The dashboard's reads as whole jobs: each opens one read-only connection, reads, and
closes it. gui/dashboard's background tasks call these, so the GUI holds no SQLite
connection and writes no SQL; ``pending`` is the run ids the GUI saw end in live events,
and each read says which of them the database now has as ended.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from promptbench.core.dashboard.queries import DashboardData, load, open_readonly, run_ids, update
from promptbench.core.dashboard.sql import Filters


def read_all(db_path: Path, filters: Filters, pending: Iterable[str] = ()) -> tuple[DashboardData, set[str]]:
    """A full read for ``filters``, and the ``pending`` runs stored as ended."""
    conn = open_readonly(db_path)
    try:
        return load(conn, filters), ended_runs(conn, pending)
    finally:
        conn.close()


def read_update(db_path: Path, data: DashboardData, pending: Iterable[str] = ()) -> tuple[DashboardData, bool, set[str]]:
    """``data`` with the runs that ended since folded in (a full read when too much changed,
    see :func:`~promptbench.core.dashboard.queries.update`): (data, whether it was a full read,
    the ``pending`` runs stored as ended)."""
    conn = open_readonly(db_path)
    try:
        new = update(conn, data)
        full = new is None
        if full:
            new = load(conn, data.filters)
        return new, full, ended_runs(conn, pending)
    finally:
        conn.close()


def read_run_ids(db_path: Path, filters: Filters, *, status: str | None = None, error_class: str | None = None,
                 limit: int = 200) -> list[tuple]:  # fmt: skip
    """(id, started_at, model_name, status) of the runs behind a chart point, newest first."""
    conn = open_readonly(db_path)
    try:
        return run_ids(conn, filters, status=status, error_class=error_class, limit=limit)
    finally:
        conn.close()


def ended_runs(conn: sqlite3.Connection, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the database holds as ended (any status but "running")."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    rows = conn.execute(f"SELECT id FROM runs WHERE id IN ({marks}) AND status != 'running'", ids).fetchall()
    return {r[0] for r in rows}
