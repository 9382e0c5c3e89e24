"""Exports: runs as CSV or JSONL, preference pairs for fine-tuning, chart tables as CSV.

Runs exports cover comparisons and eval cells unless ``kinds`` asks for more (judge
calls, ranking generations, warm-ups, connection tests; ``"all"``: every kind).

Everything streams: rows are read from a cursor and written one at a time, so 100k
runs never sit in memory. A file is written atomically (a temp file in the same folder,
fsynced, then ``os.replace``): a crash leaves the old file or the new one. Reads use a
read-only connection in one read transaction (a consistent snapshot).

Preference pairs (``iter_preferences``), one JSON object per line::

    {"prompt": [<the chosen run's rendered messages>], "chosen": "<winner's output>",
     "rejected": "<loser's output>", "test_case": "0", "winner": "a",
     "a": {"prompt", "version", "model", "run_id"}, "b": {...}, "vote_id", "voter", "created_at"}

plus ``"rejected_prompt"`` when the loser was sent different messages (two prompt
versions compared), and ``"from_ranking": true`` for a pair implied by an N-way ranking
(each contestant ranked strictly above another gives one pair). Left out, and counted
in the report by reason: ties and "both bad" (no preference), votes without run ids
(imported votes), runs no longer stored, runs that did not finish (a partial output is
not an answer), and empty outputs.
"""

from __future__ import annotations

import contextlib
import csv
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO

from promptbench.core.db import database as dbmod
from promptbench.core.db.access import Database
from promptbench.core.errors import PromptbenchError
from promptbench.core.engine.run_kinds import DEFAULT_KINDS, kind_condition
from promptbench.core.db.runs import RUN_COLUMNS
from promptbench.core.redaction import redact
from promptbench.core.atomic import FolderNotWritable, atomic_output

FORMATS = ("csv", "jsonl")
TEXT_COLUMNS = ("messages", "output")
_JSON_COLUMNS = ("params", "messages")
_BOOL_COLUMNS = ("input_tokens_reported", "tokens_reported")
FETCH = 1000


def parse_when(value: str | None, *, end: bool = False) -> str | None:
    """A ``--since``/``--until`` value as stored text. A bare date is a whole UTC day:
    ``--since 2024-05-01`` starts at its midnight, ``--until 2024-05-31`` includes that day.
    A date-time without a zone is taken as UTC."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return dbmod.to_utc_iso(start + timedelta(days=1) if end else start)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PromptbenchError(f"{value!r} is not a date (2024-05-01) or an ISO date-time (2024-05-01T12:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return dbmod.to_utc_iso(moment)


@contextlib.contextmanager
def export_file(path: Path) -> Iterator[IO[str]]:
    """core/atomic.atomic_output (UTF-8 text) with the export's messages for errors."""
    try:
        with atomic_output(path) as fh:
            yield fh
    except FolderNotWritable as e:
        raise PromptbenchError(f"cannot write in {Path(path).parent}: {e.strerror}; choose a folder you can write to") from None
    except OSError as e:
        raise PromptbenchError(f"could not write {path}: {e.strerror}; the previous file is unchanged") from None


def _stream(conn: sqlite3.Connection, sql: str, params: list) -> Iterator[dict]:
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    while True:
        chunk = cur.fetchmany(FETCH)
        if not chunk:
            return
        for row in chunk:
            yield dict(zip(names, row))


def iter_runs(conn: sqlite3.Connection, *, prompt: str | None = None, model: str | None = None,
              since: str | None = None, until: str | None = None, with_text: bool = False,
              decode: bool = True, kinds=DEFAULT_KINDS) -> Iterator[dict]:  # fmt: skip
    """Ended runs (not "running"), oldest first, one dict per run with ``RUN_COLUMNS``
    (and ``messages``/``output`` with ``with_text``). ``since`` inclusive, ``until``
    exclusive (stored UTC text, see :func:`parse_when`). ``decode``: JSON columns as
    objects and flags as booleans (JSONL); otherwise as stored (CSV). ``kinds``: the
    RUN_KINDS exported (default comparisons and eval cells; None or "all": every kind)."""
    where, params = ["runs.status != 'running'"], []
    kind = kind_condition(kinds, "runs.kind")
    if kind:
        where.append(kind)
    for col, value in (("prompt_path", prompt), ("model_name", model)):
        if value is not None:
            where.append(f"runs.{col} = ?")
            params.append(value)
    for op, value in ((">=", since), ("<", until)):
        if value is not None:
            where.append(f"runs.started_at {op} ?")
            params.append(value)
    cols = ", ".join(f"runs.{c}" for c in RUN_COLUMNS)
    join = ""
    if with_text:
        cols += ", t.messages, t.output"
        join = " LEFT JOIN run_texts t ON t.run_id = runs.id"
    sql = f"SELECT {cols} FROM runs{join} WHERE {' AND '.join(where)} ORDER BY runs.started_at, runs.rowid"
    for row in _stream(conn, sql, params):
        if row["error"]:
            row["error"] = redact(row["error"])
        if decode:
            for key in _JSON_COLUMNS:
                if row.get(key) is not None:
                    row[key] = json.loads(row[key])
            for key in _BOOL_COLUMNS:
                row[key] = bool(row[key])
        yield row


def write_runs(db: Database, out: Path | IO[str], fmt: str = "csv", **filters) -> int:
    """Write runs as CSV (header + one row per run) or JSONL to a path (atomically) or an
    open text stream. Returns the number of runs written."""
    if fmt not in FORMATS:
        raise PromptbenchError(f"format must be csv or jsonl, not {fmt!r}")
    if isinstance(out, (str, Path)):
        with export_file(Path(out)) as fh:
            return write_runs(db, fh, fmt, **filters)
    columns = list(RUN_COLUMNS) + (list(TEXT_COLUMNS) if filters.get("with_text") else [])
    n = 0
    with db.snapshot() as conn:
        rows = iter_runs(conn, decode=fmt == "jsonl", **filters)
        if fmt == "csv":
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row[c] is None else row[c] for c in columns])
                n += 1
        else:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
    return n


@dataclass
class PreferenceReport:
    written: int = 0
    skipped: Counter = field(default_factory=Counter)  # reason -> pairs left out

    def to_json(self) -> dict:
        return {"written": self.written, "skipped": dict(self.skipped)}


def _side(prompt, version, model, run_id) -> dict:
    return {"prompt": prompt, "version": version, "model": model, "run_id": run_id}


def _vote_pairs(row: dict) -> Iterator[tuple[dict, dict, str | None, bool]]:
    """(a, b, winner, from_ranking) for a stored vote; rankings give their implied pairs."""
    if row["kind"] == "pairwise":
        a = _side(row["a_prompt"], row["a_version"], row["a_model"], row["a_run_id"])
        b = _side(row["b_prompt"], row["b_version"], row["b_model"], row["b_run_id"])
        yield a, b, row["winner"], False
        return
    items = json.loads(row["contestants"])
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            a, b = (_side(c["prompt"], c["version"], c["model"], c.get("run_id")) for c in (items[i], items[j]))
            yield a, b, "a" if items[i]["rank"] < items[j]["rank"] else "tie", True


def iter_preferences(conn: sqlite3.Connection, *, prompt: str | None = None,
                     report: PreferenceReport | None = None) -> Iterator[dict]:  # fmt: skip
    """Preference pairs from votes, oldest vote first (see the module docstring)."""
    report = report if report is not None else PreferenceReport()
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'votes'").fetchone() is None:
        return
    where, params = "", []
    if prompt is not None:
        where = ("WHERE (v.prompt_path = ? OR v.a_prompt = ? OR v.b_prompt = ? OR (v.kind = 'ranking' AND EXISTS"
                 " (SELECT 1 FROM json_each(v.contestants) j WHERE json_extract(j.value, '$.prompt') = ?)))")  # fmt: skip
        params = [prompt] * 4
    lookup = conn.cursor()
    for row in _stream(conn, f"SELECT v.* FROM votes v {where} ORDER BY v.created_at, v.rowid", params):
        for a, b, winner, ranked in _vote_pairs(row):
            if winner not in ("a", "b"):
                report.skipped["tie" if winner == "tie" else "both bad"] += 1
                continue
            chosen, rejected = (a, b) if winner == "a" else (b, a)
            if not chosen["run_id"] or not rejected["run_id"]:
                report.skipped["no run id"] += 1
                continue
            found = {r[0]: r for r in lookup.execute(
                "SELECT runs.id, runs.status, t.messages, t.output FROM runs LEFT JOIN run_texts t ON t.run_id = runs.id"
                " WHERE runs.id IN (?, ?)", [chosen["run_id"], rejected["run_id"]])}  # fmt: skip
            good, bad = found.get(chosen["run_id"]), found.get(rejected["run_id"])
            if good is None or bad is None:
                report.skipped["run missing"] += 1
            elif good[1] != "finished" or bad[1] != "finished":
                report.skipped["run not finished"] += 1
            elif not good[3] or not bad[3]:
                report.skipped["empty output"] += 1
            else:
                item = {"prompt": json.loads(good[2] or "[]"), "chosen": good[3], "rejected": bad[3],
                        "test_case": row["test_case"], "winner": winner, "a": a, "b": b, "vote_id": row["id"],
                        "voter": row["voter"], "created_at": row["created_at"]}  # fmt: skip
                if (bad[2] or "[]") != (good[2] or "[]"):
                    item["rejected_prompt"] = json.loads(bad[2] or "[]")
                if ranked:
                    item["from_ranking"] = True
                report.written += 1
                yield item


def write_preferences(db: Database, out: Path | IO[str], *, prompt: str | None = None) -> PreferenceReport:
    """Write preference pairs as JSONL to a path (atomically) or an open text stream."""
    if isinstance(out, (str, Path)):
        with export_file(Path(out)) as fh:
            return write_preferences(db, fh, prompt=prompt)
    report = PreferenceReport()
    with db.snapshot() as conn:
        for item in iter_preferences(conn, prompt=prompt, report=report):
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    return report


def write_table_csv(path: Path, header: list, rows: list) -> None:
    """A chart's table (header + rows) as a CSV file, atomically."""
    with export_file(Path(path)) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
