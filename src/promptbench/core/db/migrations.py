"""The schema, as an append-only list of named migrations (applied by db.migrate).

Never edit or reorder a released migration: add ``m00N_what_changed`` at the end of
``MIGRATIONS``. Each runs inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

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


def m007_run_kinds(db: sqlite_utils.Database) -> None:
    # What a run was for (RUN_KINDS in core/engine/run_kinds.py): a person's comparison, an eval cell, a
    # judge call, a ranking session's generation, a warm-up, a connection test. Runs,
    # the Dashboard and exports show comparisons and eval cells unless asked for more.
    # Rows from before are classified from what they left behind.
    for table in ("runs", "comparisons"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN kind TEXT NOT NULL DEFAULT 'comparison'")
    db.execute("UPDATE runs SET kind = 'judge' WHERE prompt_path LIKE 'judge:%'")
    db.execute("UPDATE comparisons SET kind = 'judge' WHERE prompt_path LIKE 'judge:%'")
    db.execute(
        """UPDATE runs SET kind = CASE WHEN json_extract(b.config, '$.kind') = 'eval' THEN 'eval_cell'
                                      ELSE 'ranking_generation' END
           FROM batch_cells AS c JOIN batches AS b ON b.id = c.batch_id
           WHERE c.run_id = runs.id AND runs.kind = 'comparison'"""
    )
    db.execute("UPDATE comparisons SET kind = (SELECT r.kind FROM runs AS r WHERE r.comparison_id = comparisons.id LIMIT 1)"
               " WHERE EXISTS (SELECT 1 FROM runs AS r WHERE r.comparison_id = comparisons.id AND r.kind != 'comparison')")
    db.execute("CREATE INDEX idx_runs_kind ON runs (kind, started_at)")
    db.execute("CREATE INDEX idx_comparisons_kind ON comparisons (kind, created_at)")


def m008_kind_in_dashboard_indexes(db: sqlite_utils.Database) -> None:
    # The dashboard counts comparisons and eval cells unless asked for more (m007's kind):
    # m005's covering indexes end with kind, so a refresh filtered by kind still never
    # reads the runs table (benchmarks/dashboard.py). And the judge calls of an eval are
    # found by the eval id in their comparison's variables (core/eval_report.py).
    for name in ("idx_runs_dash_time", "idx_runs_dash_version", "idx_runs_dash_ttft", "idx_runs_dash_tps",
                 "idx_runs_dash_latency"):  # fmt: skip
        db.execute(f"DROP INDEX IF EXISTS {name}")
    for sql in (
        "CREATE INDEX idx_runs_dash_time ON runs (substr(started_at, 1, 10), model_name, provider, status, cost_usd,"
        " input_tokens, output_tokens, ttft_ms, tokens_per_s, total_ms, prompt_path, started_at, kind)",
        "CREATE INDEX idx_runs_dash_version ON runs (status, prompt_path, prompt_version, output_chars, output_tokens,"
        " model_name, provider, started_at, kind)",
        "CREATE INDEX idx_runs_dash_ttft ON runs (model_name, status, ttft_ms, provider, prompt_path, started_at, kind)",
        "CREATE INDEX idx_runs_dash_tps ON runs (model_name, status, tokens_per_s, provider, prompt_path, started_at, kind)",
        "CREATE INDEX idx_runs_dash_latency ON runs (substr(started_at, 1, 10), status, total_ms, model_name, provider,"
        " prompt_path, started_at, kind)",
        "CREATE INDEX idx_comparisons_judged_eval ON comparisons (json_extract(variables, '$.eval_id'))"
        " WHERE kind = 'judge'",
    ):
        db.execute(sql)


def m009_local_server_timings(db: sqlite_utils.Database) -> None:
    # What llama-server measured for a local run, beside promptbench's wire figures, and
    # the run's wait for a free slot (core/local/servers.py). NULL for hosted models.
    for column, kind in (("queue_ms", "REAL"), ("server_prompt_ms", "REAL"), ("server_prompt_tokens_per_s", "REAL"),
                         ("server_decode_tokens_per_s", "REAL"), ("server_cached_tokens", "INTEGER")):
        db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [m001_initial, m002_votes, m003_batches, m004_eval,
                                                              m005_dashboard_indexes, m006_owners, m007_run_kinds,
                                                              m008_kind_in_dashboard_indexes, m009_local_server_timings]
