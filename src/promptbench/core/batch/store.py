"""Batches and their cells in the run store's database (tables from ``m003_batches``).

Every write goes through the RunStore's ONE writer thread (STYLE rule 7), as
core/votes.py does. Creating a batch (the batch row and all its cells in one
transaction) and changing a batch's status wait for the commit, so a caller that was
told "started" or "cancelled" can rely on it; cell updates while a batch runs are
queued like the engine's run writes. Because the writer runs writes in order, a cell
update queued after the engine's ``run_ended`` for that run is committed after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from promptbench.core.db import database as dbmod
from promptbench.core.batch.plan import Cell
from promptbench.core.errors import PromptbenchError
from promptbench.core.store.instance import instance_alive, this_instance
from promptbench.core.db.runs import RunStore

WRITE_TIMEOUT_S = 60
BATCH_STATUSES = ("running", "finished", "cancelled", "interrupted")
CELL_STATUSES = ("pending", "finished", "error", "cancelled")
_CELL_UPDATE = (
    "UPDATE batch_cells SET status = ?, run_id = ?, error_class = ?, cost_usd = ?, ttft_ms = ?, total_ms = ?,"
    " output_tokens = ?, updated_at = ? WHERE batch_id = ? AND cell_key = ?"
)
_TOTALS = (
    "total_cells = (SELECT count(*) FROM batch_cells c WHERE c.batch_id = batches.id),"
    " finished_cells = (SELECT count(*) FROM batch_cells c WHERE c.batch_id = batches.id AND c.status = 'finished'),"
    " error_cells = (SELECT count(*) FROM batch_cells c WHERE c.batch_id = batches.id AND c.status = 'error'),"
    " cost_usd = (SELECT sum(c.cost_usd) FROM batch_cells c WHERE c.batch_id = batches.id)"
)


@dataclass(frozen=True)
class CellResult:
    """What a cell records when its run ends."""

    key: str
    status: str            # finished | error | cancelled
    run_id: str | None
    error_class: str | None
    cost_usd: float | None
    ttft_ms: float | None
    total_ms: float | None
    output_tokens: int | None


class BatchStore:
    def __init__(self, runs: RunStore):
        self.runs = runs

    def _submit(self, label: str, fn, wait: bool):
        def tx(db):
            with db.atomic():
                return fn(db)

        if wait:
            return self.runs.db.write(label, tx, wait=True, timeout=WRITE_TIMEOUT_S)
        self.runs.db.write(label, tx)
        return None

    # --- writes ----------------------------------------------------------------------------

    def create(self, batch_id: str, prompt_path: str, config: dict, cells: list[Cell]) -> None:
        """The batch row and every cell (pending) in ONE transaction; returns once committed."""
        now = dbmod.utc_now()
        config_json = json.dumps(config, ensure_ascii=False)
        rows = [(batch_id, c.key, c.prompt_version, c.test_case, c.model_name, c.repeat, now) for c in cells]

        def fn(db):
            db.execute(
                "INSERT INTO batches (id, created_at, updated_at, prompt_path, config, status, total_cells, owner)"
                " VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                [batch_id, now, now, prompt_path, config_json, len(cells), this_instance()],
            )
            db.conn.executemany(
                "INSERT INTO batch_cells (batch_id, cell_key, prompt_version, test_case, model_name, repeat,"
                " status, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                rows,
            )

        self._submit(f"batch {batch_id} ({len(cells)} cells)", fn, wait=True)

    def update_cells(self, batch_id: str, results: list[CellResult]) -> None:
        """Queue the end of some cells' runs (one transaction); returns at once."""
        now = dbmod.utc_now()
        rows = [(r.status, r.run_id, r.error_class, r.cost_usd, r.ttft_ms, r.total_ms, r.output_tokens, now,
                 batch_id, r.key) for r in results]  # fmt: skip
        self._submit(f"{len(rows)} cells of batch {batch_id}", lambda db: db.conn.executemany(_CELL_UPDATE, rows), False)

    def set_status(self, batch_id: str, status: str, *, ended: bool) -> None:
        """Set the batch's status (and its totals from its cells); returns once committed."""
        if status not in BATCH_STATUSES:
            raise PromptbenchError(f"batch status must be one of {', '.join(BATCH_STATUSES)}, not {status!r}")
        now = dbmod.utc_now()

        def fn(db):
            owner = this_instance() if status == "running" else None  # a resumed batch is this process's now
            db.execute(f"UPDATE batches SET status = ?, updated_at = ?, ended_at = ?, owner = coalesce(?, owner), {_TOTALS}"
                       " WHERE id = ?", [status, now, now if ended else None, owner, batch_id])

        self._submit(f"status of batch {batch_id}", fn, wait=True)

    def mark_interrupted(self, running_here: list[str]) -> int:
        """Batches left "running" by a process that ended -> "interrupted" (a live instance's stay). Returns how many."""
        mine = json.dumps(sorted(running_here))
        now = dbmod.utc_now()

        def fn(db):
            owners = [r[0] for r in db.execute("SELECT DISTINCT owner FROM batches WHERE status = 'running'").fetchall()]
            alive = json.dumps([o for o in owners if instance_alive(o)])
            return db.execute(
                f"UPDATE batches SET status = 'interrupted', updated_at = ?, {_TOTALS} WHERE status = 'running'"
                " AND id NOT IN (SELECT value FROM json_each(?))"
                " AND (owner IS NULL OR owner NOT IN (SELECT value FROM json_each(?)))",
                [now, mine, alive],
            ).rowcount

        return self._submit("marking interrupted batches", fn, wait=True)

    def barrier(self) -> None:
        """Return once every write queued before this call is committed (raises nothing)."""
        self.runs.db.barrier("batch read barrier", timeout=WRITE_TIMEOUT_S)

    # --- reads -----------------------------------------------------------------------------

    def get(self, batch_id: str) -> dict | None:
        """The batch row with its config parsed and live cell counts by status."""
        rows = self.runs.db.query("SELECT * FROM batches WHERE id = ?", [batch_id])
        if not rows:
            return None
        batch = dict(rows[0])
        batch["config"] = json.loads(batch["config"])
        counts = self.runs.db.query("SELECT status, count(*) AS n FROM batch_cells WHERE batch_id = ? GROUP BY status",
                                  [batch_id])
        batch["cells"] = {s: 0 for s in CELL_STATUSES} | {r["status"]: r["n"] for r in counts}
        return batch

    def list(self, *, prompt_path: str | None = None, limit: int = 100) -> list[dict]:
        """Batches newest first, without their config."""
        where, params = ("WHERE prompt_path = ?", [prompt_path]) if prompt_path is not None else ("", [])
        rows = self.runs.db.query(
            "SELECT id, created_at, updated_at, ended_at, prompt_path, status, total_cells, finished_cells,"
            f" error_cells, cost_usd FROM batches {where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [dict(r) for r in rows]

    def cells(self, batch_id: str, statuses: tuple[str, ...] | None = None) -> list[dict]:
        if statuses:
            marks = ", ".join("?" * len(statuses))
            sql = f"SELECT * FROM batch_cells WHERE batch_id = ? AND status IN ({marks}) ORDER BY rowid"
            rows = self.runs.db.query(sql, [batch_id, *statuses])
        else:
            rows = self.runs.db.query("SELECT * FROM batch_cells WHERE batch_id = ? ORDER BY rowid", [batch_id])
        return [dict(r) for r in rows]

    def results(self, batch_id: str) -> list[dict]:
        """Every cell in plan order, joined with its run: output, metrics, error (None before a run ends)."""
        rows = self.runs.db.query(
            "SELECT c.batch_id, c.cell_key, c.prompt_version, c.test_case, c.model_name, c.repeat, c.run_id,"
            " c.status, c.error_class, c.cost_usd, c.ttft_ms, c.total_ms, c.output_tokens, c.updated_at,"
            " r.status AS run_status, r.error, r.input_tokens, r.tokens_per_s, r.itl_p50_ms, r.itl_p95_ms,"
            " r.finish_reason, r.retries, r.started_at, r.ended_at, t.output"
            " FROM batch_cells c LEFT JOIN runs r ON r.id = c.run_id LEFT JOIN run_texts t ON t.run_id = c.run_id"
            " WHERE c.batch_id = ? ORDER BY c.rowid",
            [batch_id],
        )
        return [dict(r) for r in rows]
