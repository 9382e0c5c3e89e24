"""Evaluation results in the run store's database (table ``eval_results``, migration ``m004_eval``).

Writes go through the RunStore's ONE writer thread (STYLE rule 7), as core/batch_store.py
does: the results of one cell (every evaluator of one run) are written in ONE
transaction, queued like the engine's run writes, so a cell is either evaluated or not -
never half. Reads use the RunStore's read connections; call ``barrier()`` first to read
what this process queued.
"""

from __future__ import annotations

import json

from promptbench.core.db import database as dbmod
from promptbench.core.db.runs import RunStore
from promptbench.core.ids import new_id

WRITE_TIMEOUT_S = 60
COLUMNS = ("id", "batch_id", "run_id", "prompt_path", "prompt_version", "model_name", "test_case", "repeat",
           "evaluator", "kind", "passed", "score", "reason", "error", "judge_model", "judge_run_id", "details",
           "created_at")  # fmt: skip
_INSERT = f"INSERT INTO eval_results ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
# What evaluating a cell needs: the cell, its run's output and the metrics latency/cost evaluators read.
_CELL_SELECT = (
    "SELECT c.cell_key, c.prompt_version, c.test_case, c.model_name, c.repeat, c.run_id, c.status,"
    " r.ttft_ms, r.total_ms, r.tokens_per_s, r.itl_p50_ms, r.itl_p95_ms, r.input_tokens, r.output_tokens,"
    " r.cost_usd, r.cost_note, r.retries, r.finish_reason, t.output"
    " FROM batch_cells c LEFT JOIN runs r ON r.id = c.run_id LEFT JOIN run_texts t ON t.run_id = c.run_id"
)
METRIC_KEYS = ("ttft_ms", "total_ms", "tokens_per_s", "itl_p50_ms", "itl_p95_ms", "input_tokens", "output_tokens",
               "cost_usd", "cost_note", "retries", "finish_reason")  # fmt: skip


class EvalStore:
    def __init__(self, runs: RunStore):
        self.runs = runs

    # --- writes ----------------------------------------------------------------------------

    def write_cell(self, batch_id: str, prompt_path: str, cell: dict, results: list, *, judge_models: dict[str, str],
                   judge_runs: dict[str, str]) -> None:
        """Queue one cell's results (EvalResult objects) as one transaction; returns at once.
        ``judge_models``/``judge_runs``: evaluator name -> its judge model / the judge's run id."""
        now = dbmod.utc_now()
        rows = []
        for r in results:
            details = dict(r.details or {})
            judge_model = details.get("judge_model") or judge_models.get(r.name)
            rows.append((
                new_id(), batch_id, cell["run_id"], prompt_path, cell["prompt_version"], cell["model_name"],
                cell["test_case"], cell["repeat"], r.name, r.kind, None if r.passed is None else int(bool(r.passed)),
                r.score, r.reason, r.error, judge_model, judge_runs.get(r.name), json.dumps(details, default=str), now,
            ))  # fmt: skip

        def fn(db):
            with db.atomic():
                db.conn.executemany(_INSERT, rows)

        self.runs.db.write(f"evaluation of run {cell['run_id']} ({len(rows)} evaluators)", fn)

    def barrier(self) -> None:
        """Return once every write queued before this call is committed."""
        self.runs.db.barrier("eval read barrier", timeout=WRITE_TIMEOUT_S)

    # --- reads -----------------------------------------------------------------------------

    def evaluated_runs(self, batch_id: str) -> set[str]:
        """Run ids of the batch's cells that have their evaluation recorded."""
        rows = self.runs.db.query("SELECT DISTINCT run_id FROM eval_results WHERE batch_id = ?", [batch_id])
        return {r["run_id"] for r in rows}

    def finished_cells(self, batch_id: str) -> list[tuple[str, str]]:
        """(cell_key, run_id) of every finished cell, in plan order (cheap: no text)."""
        rows = self.runs.db.query("SELECT cell_key, run_id FROM batch_cells WHERE batch_id = ? AND status = 'finished'"
                                " ORDER BY rowid", [batch_id])
        return [(r["cell_key"], r["run_id"]) for r in rows]

    def cells_for_runs(self, batch_id: str, run_ids: list[str]) -> list[dict]:
        """The cells holding these runs, with output and metrics, in plan order."""
        rows = self.runs.db.query(f"{_CELL_SELECT} WHERE c.batch_id = ? AND c.run_id IN (SELECT value FROM json_each(?))"
                                " ORDER BY c.rowid", [batch_id, json.dumps(run_ids)])
        return [dict(r) for r in rows]

    def results(self, batch_id: str) -> list[dict]:
        """Every result row of a batch, oldest first (a later row for the same run and evaluator wins)."""
        rows = self.runs.db.query("SELECT * FROM eval_results WHERE batch_id = ? ORDER BY created_at, rowid", [batch_id])
        return [_row(r) for r in rows]

    def judge_cost(self, batch_id: str) -> float:
        """What the judge runs of a batch cost (unknown prices count 0)."""
        rows = self.runs.db.query(
            "SELECT sum(r.cost_usd) AS cost FROM runs r WHERE r.id IN"
            " (SELECT judge_run_id FROM eval_results WHERE batch_id = ? AND judge_run_id IS NOT NULL)", [batch_id])
        return float(rows[0]["cost"] or 0.0) if rows else 0.0

    def judge_scores_for_votes(self, prompt_path: str | None) -> list[dict]:
        """Pairwise votes whose two runs both have a score from the same judge evaluator (and judge model)."""
        where, params = ("AND a.prompt_path = ?", [prompt_path]) if prompt_path is not None else ("", [])
        rows = self.runs.db.query(
            "SELECT v.id AS vote_id, v.winner, a.evaluator, a.judge_model, a.score AS a_score, b.score AS b_score,"
            " a.created_at AS a_at, b.created_at AS b_at"
            " FROM votes v JOIN eval_results a ON a.run_id = v.a_run_id"
            " JOIN eval_results b ON b.run_id = v.b_run_id AND b.evaluator = a.evaluator AND b.judge_model = a.judge_model"
            " WHERE v.kind = 'pairwise' AND a.judge_model IS NOT NULL AND a.score IS NOT NULL AND b.score IS NOT NULL"
            f" AND a.passed IS NOT NULL AND b.passed IS NOT NULL {where} ORDER BY v.created_at, v.rowid, a.rowid, b.rowid",
            params,
        )
        return [dict(r) for r in rows]


def _row(row) -> dict:
    d = dict(row)
    d["passed"] = None if d["passed"] is None else bool(d["passed"])
    d["details"] = json.loads(d["details"] or "{}")
    return d


def metrics_of(cell: dict) -> dict:
    """The metrics dict an EvalContext carries (RunMetrics.to_json() keys)."""
    return {k: cell.get(k) for k in METRIC_KEYS}
