"""The dashboard's reads as whole jobs: each opens the database read-only, reads, and
closes it. gui/dashboard's background tasks call these, so the GUI holds no SQLite
connection and writes no SQL; ``pending`` is the run ids the GUI saw end in live events,
and each read says which of them the database now has as ended.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from promptbench.core.dashboard.queries import DashboardData, load, run_ids, update
from promptbench.core.db.access import Database
from promptbench.core.dashboard.sql import Filters


def read_all(db_path: Path, filters: Filters, pending: Iterable[str] = ()) -> tuple[DashboardData, set[str]]:
    """A full read for ``filters``, and the ``pending`` runs stored as ended."""
    with Database.readonly(db_path) as db:
        return load(db, filters), ended_runs(db, pending)


def read_update(db_path: Path, data: DashboardData, pending: Iterable[str] = ()) -> tuple[DashboardData, bool, set[str]]:
    """``data`` with the runs that ended since folded in (a full read when too much changed,
    see :func:`~promptbench.core.dashboard.queries.update`): (data, whether it was a full read,
    the ``pending`` runs stored as ended)."""
    with Database.readonly(db_path) as db:
        new = update(db, data)
        full = new is None
        if full:
            new = load(db, data.filters)
        return new, full, ended_runs(db, pending)


def read_run_ids(db_path: Path, filters: Filters, *, status: str | None = None, error_class: str | None = None,
                 limit: int = 200) -> list[tuple]:  # fmt: skip
    """(id, started_at, model_name, status) of the runs behind a chart point, newest first."""
    with Database.readonly(db_path) as db:
        return run_ids(db, filters, status=status, error_class=error_class, limit=limit)


def ended_runs(db: Database, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` the database holds as ended (any status but "running")."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return set()
    marks = ", ".join("?" * len(ids))
    rows = db.query(f"SELECT id FROM runs WHERE id IN ({marks}) AND status != 'running'", ids)
    return {r[0] for r in rows}
