"""``promptbench export runs|preferences``: the run history as CSV/JSONL, votes as preference pairs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from promptbench.core.errors import PromptbenchError
from promptbench.core.figures import plural

DB_NAME = "promptbench.db"
# core.engine.run_kinds.RUN_KINDS and "all", spelled out so that parsing needs no sqlite_utils import
# (tests/core/test_run_kinds.py keeps them equal)
KIND_CHOICES = ("comparison", "eval_cell", "judge", "ranking_generation", "warmup", "connection_test", "all")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export runs (CSV/JSONL) or preference pairs from votes (JSONL)")
    what = p.add_subparsers(dest="export_what", metavar="WHAT", required=True)
    runs = what.add_parser("runs", help="one row per ended run (comparisons and eval cells unless --kind): metrics, "
                           "status, error, prompt version")  # fmt: skip
    runs.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="csv (default) or jsonl")
    runs.add_argument("--prompt", metavar="P", help="only runs of this prompt (workspace-relative path)")
    runs.add_argument("--model", metavar="M", help="only runs of this model (catalog name)")
    runs.add_argument("--since", metavar="D", help="runs started at or after D (2024-05-01 = that day's midnight UTC)")
    runs.add_argument("--until", metavar="D", help="runs started before D (a bare date includes that whole day, UTC)")
    runs.add_argument("--kind", action="append", dest="kinds", metavar="K", choices=KIND_CHOICES,
                      help="only runs of kind K, one of: " + ", ".join(KIND_CHOICES[:-1]) + "; or 'all' for every kind "
                      "(repeatable; default: comparison and eval_cell, i.e. judge calls, ranking generations, "
                      "warm-ups and connection tests are left out)")  # fmt: skip
    runs.add_argument("--with-text", action="store_true", help="include the rendered messages and the output")
    runs.add_argument("-o", "--output", metavar="FILE", help="write FILE (atomically) instead of stdout")
    runs.set_defaults(handler=cmd_runs)
    prefs = what.add_parser(
        "preferences",
        help="pairwise preferences from votes as JSONL (prompt, chosen, rejected) for fine-tuning; "
        "ties, 'both bad' and votes without stored outputs are left out",
    )
    prefs.add_argument("--prompt", metavar="P", help="only votes that involve this prompt")
    prefs.add_argument("-o", "--output", metavar="FILE", help="write FILE (atomically) instead of stdout")
    prefs.set_defaults(handler=cmd_preferences)


def _connect(args):
    from promptbench.commands._common import workspace_dir
    from promptbench.core.db.access import Database
    from promptbench.core.store.private_dir import PRIVATE_DIR, ignore_private_dir

    root = workspace_dir(args)
    if not root.is_dir():
        raise PromptbenchError(f"workspace {root} does not exist or is not a folder; pass --workspace DIR")
    path = root / PRIVATE_DIR / DB_NAME
    if path.parent.is_dir():
        ignore_private_dir(path.parent)
    if not path.exists():
        raise PromptbenchError(f"{root} has no run history yet ({path} does not exist); run a comparison first")
    return Database.readonly(path), path


def _prompt(value: str | None) -> str | None:
    return None if value is None else value.removeprefix("./")


def _guard(db, path: Path, fn):
    """Run ``fn``; a damaged or foreign database file becomes one actionable message."""
    import sqlite3

    from promptbench.core.db import database as dbmod

    try:
        return fn()
    except sqlite3.DatabaseError as e:
        raise dbmod.file_error(path, e) from e
    finally:
        db.close()


def cmd_runs(args) -> int:
    from promptbench.core.db.exports import parse_when, write_runs
    from promptbench.core.engine.run_kinds import DEFAULT_KINDS, kinds_label, resolve_kinds

    filters = {"prompt": _prompt(args.prompt), "model": args.model, "since": parse_when(args.since),
               "until": parse_when(args.until, end=True), "with_text": args.with_text,
               "kinds": resolve_kinds(args.kinds or DEFAULT_KINDS)}  # fmt: skip
    db, path = _connect(args)
    out = Path(args.output).expanduser() if args.output else sys.stdout
    n = _guard(db, path, lambda: write_runs(db, out, args.format, **filters))
    if args.output:
        print(f"exported {plural(n, 'run')} to {out} ({kinds_label(filters['kinds'])})", file=sys.stderr)
    return 0


def cmd_preferences(args) -> int:
    from promptbench.core.db.exports import write_preferences

    db, path = _connect(args)
    out = Path(args.output).expanduser() if args.output else sys.stdout
    report = _guard(db, path, lambda: write_preferences(db, out, prompt=_prompt(args.prompt)))
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    where = f" to {out}" if args.output else ""
    print(f"exported {plural(report.written, 'preference pair')}{where}" + (f" (left out: {skipped})" if skipped else ""),
          file=sys.stderr)  # fmt: skip
    return 0
