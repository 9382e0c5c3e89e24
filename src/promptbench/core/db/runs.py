"""RunStore: every comparison and run, in ``<workspace>/.promptbench/promptbench.db``.

Writes never block the caller: they are prepared (validated, JSON-encoded) in the
calling thread and queued to ONE writer thread that owns the only writing connection;
each write is one transaction. ``flush()`` waits until everything queued so far is
committed. A run is written when it starts (status "running") and updated once when
it ends, so a crash loses at most the text of streams still in flight.

Reads use one read-only connection per calling thread; WAL lets them run beside the
writer. Reads see committed data only: call ``flush()`` first to read your own writes.

A failed write (disk full, database locked past the busy timeout) does not stop the
writer: it is logged, appended to ``errors`` and raised by the next ``flush()``.
No column holds headers or API keys, and none must be added.

All of it goes through ``self.db`` (core/db/access.Database), which votes, batches and
evals use too.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from promptbench.core.db import database as dbmod
from promptbench.core.db.access import Database
from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.events import RunMetrics
from promptbench.core.engine.run_kinds import DEFAULT_KINDS, check_kind, kind_condition
from promptbench.core.store.instance import instance_alive, this_instance

log = logging.getLogger(__name__)

RUN_STATUSES = ("running", "finished", "error", "cancelled", "interrupted")
END_STATUSES = RUN_STATUSES[1:]
LOCAL_MODES = ("parallel", "sequential", "batched", None)
METRIC_COLUMNS = (
    "ttft_ms", "tokens_per_s", "itl_p50_ms", "itl_p95_ms", "total_ms", "input_tokens",
    "input_tokens_reported", "output_tokens", "tokens_reported", "cost_usd", "cost_note",
    "retries", "finish_reason", "queue_ms", "server_prompt_ms", "server_prompt_tokens_per_s",
    "server_decode_tokens_per_s", "server_cached_tokens",
)  # fmt: skip
RUN_COLUMNS = (
    "id", "comparison_id", "prompt_path", "prompt_version", "test_case", "model_name", "model",
    "provider", "params", "status", "error_class", "error", *METRIC_COLUMNS, "started_at",
    "ended_at", "output_chars", "kind",
)  # fmt: skip
_JSON_RUN = ("params", "messages")
_BOOL_RUN = ("input_tokens_reported", "tokens_reported")
IMPORT_CHUNK = 5000


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as e:
        raise PromptbenchError(f"{what} cannot be stored as JSON: {e}") from None


def _run_dict(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in _JSON_RUN:
        if d.get(key) is not None:
            d[key] = json.loads(d[key])
    for key in _BOOL_RUN:
        d[key] = bool(d[key])
    return d


class RunStore:
    def __init__(self, path: Path):
        self.db = Database(path)  # opens, checks and migrates; raises if unusable
        self.path = self.db.path
        self.errors = self.db.errors  # every failed write, in order
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()  # started, not yet ended, by this process

    def _write(self, label: str, statements: list[tuple[str, list]], expect_row: bool = False) -> None:
        def fn(db):
            with db.atomic():
                for i, (sql, params) in enumerate(statements):
                    cur = db.execute(sql, params)
                    if expect_row and i == 0 and cur.rowcount == 0:
                        raise PromptbenchError("no such run (its run_started write is missing)")

        self.db.write(label, fn)

    # --- writes ------------------------------------------------------------------------

    def create_comparison(
        self, *, id: str, prompt_path: str, prompt_version: str | None, test_case: int | None,
        variables: dict, local_mode: str | None, models: list, note: str | None = None, kind: str = "comparison",
    ) -> None:  # fmt: skip
        if local_mode not in LOCAL_MODES:
            raise PromptbenchError(f"local_mode must be 'sequential', 'parallel', 'batched' or None, not {local_mode!r}")
        check_kind(kind)
        row = [id, dbmod.utc_now(), prompt_path, prompt_version, test_case,
               _json(variables, "variables"), local_mode, _json(models, "models"), note, kind]  # fmt: skip
        sql = (
            "INSERT INTO comparisons (id, created_at, prompt_path, prompt_version, test_case, variables,"
            " local_mode, models, note, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        self._write(f"comparison {id}", [(sql, row)])

    def run_started(
        self, *, id: str, comparison_id: str | None, prompt_path: str, prompt_version: str | None,
        test_case: int | None, model_name: str, model: str | None, provider: str | None,
        params: dict, messages: list, started_at: datetime | str, kind: str = "comparison",
    ) -> None:  # fmt: skip
        check_kind(kind)
        row = [id, comparison_id, prompt_path, prompt_version, test_case, model_name, model, provider,
               _json(params, "params"), "running", dbmod.to_utc_iso(started_at), this_instance(), kind]  # fmt: skip
        run_sql = (
            "INSERT INTO runs (id, comparison_id, prompt_path, prompt_version, test_case, model_name, model,"
            " provider, params, status, started_at, owner, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        text_sql = "INSERT INTO run_texts (run_id, messages) VALUES (?, ?)"
        with self._lock:
            self._in_flight.add(id)
        self._write(f"start of run {id}", [(run_sql, row), (text_sql, [id, _json(messages, "messages")])])

    def run_ended(
        self, run_id: str, *, status: str, output: str, metrics: RunMetrics,
        error_class: str | None = None, error: str | None = None, ended_at: datetime | str | None = None,
    ) -> None:  # fmt: skip
        if status not in END_STATUSES:
            raise PromptbenchError(f"run {run_id}: status must be one of {', '.join(END_STATUSES)}, not {status!r}")
        output = output or ""
        m = metrics
        values = [
            status, error_class, error, m.ttft_ms, m.tokens_per_s, m.itl_p50_ms, m.itl_p95_ms, m.total_ms,
            m.input_tokens, int(bool(m.input_tokens_reported)), m.output_tokens, int(bool(m.tokens_reported)),
            m.cost_usd, m.cost_note, m.retries or 0, m.finish_reason, m.queue_ms, m.server_prompt_ms,
            m.server_prompt_tokens_per_s, m.server_decode_tokens_per_s, m.server_cached_tokens,
            dbmod.to_utc_iso(ended_at) if ended_at is not None else dbmod.utc_now(), len(output), run_id,
        ]  # fmt: skip
        cols = ("status", "error_class", "error", *METRIC_COLUMNS, "ended_at", "output_chars")
        run_sql = f"UPDATE runs SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?"
        text_sql = (
            "INSERT INTO run_texts (run_id, output) VALUES (?, ?)"
            " ON CONFLICT(run_id) DO UPDATE SET output = excluded.output"
        )
        with self._lock:
            self._in_flight.discard(run_id)
        self._write(f"end of run {run_id}", [(run_sql, values), (text_sql, [run_id, output])], expect_row=True)

    def insert_many_runs(self, rows) -> None:
        """Queue finished runs for a bulk insert (imports, benchmarks), batched with ``insert_all``.

        Each row has ``RUN_COLUMNS`` keys (``id``, ``model_name``, ``prompt_path``, ``status`` and
        ``started_at`` are required) plus optional ``messages`` and ``output``.
        """
        runs, texts = [], []
        for i, row in enumerate(rows):
            row = dict(row)
            unknown = set(row) - set(RUN_COLUMNS) - {"messages", "output"}
            missing = {"id", "model_name", "prompt_path", "status", "started_at"} - set(row)
            if unknown or missing:
                raise PromptbenchError(
                    f"insert_many_runs row {i}: unknown columns {sorted(unknown)}, missing {sorted(missing)}"
                )
            if row["status"] not in RUN_STATUSES:
                raise PromptbenchError(f"insert_many_runs row {i}: unknown status {row['status']!r}")
            try:
                check_kind(row.setdefault("kind", "comparison"))
            except PromptbenchError as exc:
                raise PromptbenchError(f"insert_many_runs row {i}: {exc}") from None
            messages, output = row.pop("messages", []), row.pop("output", None)
            row["started_at"] = dbmod.to_utc_iso(row["started_at"])
            if row.get("ended_at") is not None:
                row["ended_at"] = dbmod.to_utc_iso(row["ended_at"])
            row["params"] = _json(row.get("params") or {}, f"row {i} params")
            for key in _BOOL_RUN:
                row[key] = int(bool(row.get(key, False)))
            row.setdefault("retries", 0)
            if output is not None:
                row.setdefault("output_chars", len(output))
            runs.append(row)
            texts.append({"run_id": row["id"], "messages": _json(messages, f"row {i} messages"), "output": output})

        def fn(db):
            # One transaction per IMPORT_CHUNK runs: one for 100k runs would grow the WAL
            # to the size of the whole import before it could be checkpointed.
            for at in range(0, len(runs), IMPORT_CHUNK):
                try:
                    with db.atomic():
                        db.table("runs").insert_all(runs[at : at + IMPORT_CHUNK], batch_size=500)
                        db.table("run_texts").insert_all(texts[at : at + IMPORT_CHUNK], batch_size=500)
                except Exception as e:
                    raise PromptbenchError(f"rows {at}.. failed ({at} saved): {e}") from e

        self.db.write(f"import of {len(runs)} runs", fn)

    def mark_interrupted(self) -> int:
        """Runs left "running" by a process that ended -> "interrupted". Returns how many.

        Runs of a process still alive (this one, or another promptbench instance on the
        same workspace) are left alone; see core/instance.py.
        """
        with self._lock:
            mine = sorted(self._in_flight)

        def fn(db):
            owners = [r[0] for r in db.execute("SELECT DISTINCT owner FROM runs WHERE status = 'running'").fetchall()]
            alive = [o for o in owners if instance_alive(o)]
            with db.atomic():
                cur = db.execute(
                    "UPDATE runs SET status = 'interrupted' WHERE status = 'running'"
                    " AND id NOT IN (SELECT value FROM json_each(?))"
                    " AND (owner IS NULL OR owner NOT IN (SELECT value FROM json_each(?)))",
                    [_json(mine, "run ids"), _json(alive, "owners")],
                )
                return cur.rowcount

        return self.db.write("marking interrupted runs", fn, durable=True, timeout=60)

    def flush(self, timeout: float = 10) -> None:
        """Return once every write queued before this call is committed (durable against a
        crash of this process). Raises PromptbenchError for writes that failed since the last flush."""
        self.db.flush(timeout)

    def close(self, timeout: float = 30) -> None:
        """Commit everything queued, stop the writer and close every connection. Idempotent."""
        self.db.close(timeout)

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self.db.closed

    # --- reads -------------------------------------------------------------------------

    def get_run(self, id: str) -> dict | None:
        rows = self.db.query(
            "SELECT runs.*, t.messages, t.output FROM runs LEFT JOIN run_texts t ON t.run_id = runs.id"
            " WHERE runs.id = ?",
            [id],
        )
        return _run_dict(rows[0]) if rows else None

    def get_comparison(self, id: str) -> dict | None:
        with self.db.snapshot():  # the comparison and its runs from one snapshot
            rows = self.db.query("SELECT * FROM comparisons WHERE id = ?", [id])
            runs = self.db.query(
                "SELECT runs.*, t.messages, t.output FROM runs LEFT JOIN run_texts t ON t.run_id = runs.id"
                " WHERE runs.comparison_id = ? ORDER BY runs.rowid",
                [id],
            )
        if not rows:
            return None
        comparison = dict(rows[0])
        comparison["variables"] = json.loads(comparison["variables"])
        comparison["models"] = json.loads(comparison["models"])
        comparison["runs"] = [_run_dict(r) for r in runs]
        return comparison

    def list_comparisons(
        self, *, prompt_path: str | None = None, limit: int = 100, kinds=DEFAULT_KINDS,
    ) -> list[dict]:  # fmt: skip
        """Comparisons newest first. ``kinds``: RUN_KINDS to list (None or "all": every kind)."""
        conds, params = [kind_condition(kinds, "c.kind")], []
        if prompt_path is not None:
            conds.append("c.prompt_path = ?")
            params.append(prompt_path)
        where = " AND ".join(c for c in conds if c)
        rows = self.db.query(
            "SELECT c.*, (SELECT count(*) FROM runs WHERE runs.comparison_id = c.id) AS run_count"
            f" FROM comparisons c {'WHERE ' + where if where else ''} ORDER BY c.created_at DESC, c.rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        out = []
        for r in rows:
            d = dict(r)
            d["variables"], d["models"] = json.loads(d["variables"]), json.loads(d["models"])
            out.append(d)
        return out

    def list_runs(
        self, *, prompt_path: str | None = None, prompt_version: str | None = None,
        model_name: str | None = None, status: str | None = None, since: datetime | str | None = None,
        until: datetime | str | None = None, comparison_id: str | None = None, limit: int = 1000,
        offset: int = 0, kinds=DEFAULT_KINDS,
    ) -> list[dict]:  # fmt: skip
        """Runs newest first, without messages and output. ``since`` is inclusive, ``until`` exclusive.
        ``kinds``: RUN_KINDS to list (default: comparisons and eval cells; None or "all": every kind)."""
        where, params = [c for c in [kind_condition(kinds)] if c], []
        for col, value in [("prompt_path", prompt_path), ("prompt_version", prompt_version),
                           ("model_name", model_name), ("status", status), ("comparison_id", comparison_id)]:  # fmt: skip
            if value is not None:
                where.append(f"{col} = ?")
                params.append(value)
        if since is not None:
            where.append("started_at >= ?")
            params.append(dbmod.to_utc_iso(since))
        if until is not None:
            where.append("started_at < ?")
            params.append(dbmod.to_utc_iso(until))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.query(
            f"SELECT * FROM runs {clause} ORDER BY started_at DESC, rowid DESC LIMIT ? OFFSET ?",
            [*params, int(limit), int(offset)],
        )
        return [_run_dict(r) for r in rows]
