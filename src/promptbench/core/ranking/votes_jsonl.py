"""Votes as JSONL battles, one per line: export every vote, import pairwise battles.

The format (``votedata`` parses and validates it) is what ``promptbench votes export``
writes and ``promptbench votes import`` reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any, Protocol

from promptbench.core.db import database as dbmod
from promptbench.core.errors import PromptbenchError
from promptbench.core.ranking.votedata import (
    INSERT_VOTE_SQL, SIDE_COLUMNS, SIDES, VOTE_COLUMNS, ImportReport, common_prompt, contestant_json, expand_ranking,
    parse_lines, ranking_parts,
)  # fmt: skip


class VoteSource(Protocol):
    """What these functions need of a vote store (core/ranking/votes.VoteStore)."""

    voter: str

    def vote_rows(self, *, prompt: str | None = None) -> list: ...

    def write_durably(self, label: str, fn) -> Any: ...


def export_jsonl(store: VoteSource, fp: IO[str], *, prompt: str | None = None) -> int:
    """Write every vote as one JSON battle per line (rankings as their expanded pairs,
    each with ``from_ranking``). Returns the number of lines. :func:`import_jsonl` reads it back."""
    n = 0
    for row in store.vote_rows(prompt=prompt):
        common = {"created_at": row["created_at"], "voter": row["voter"], "blind": bool(row["blind"]),
                  "note": row["note"], "prompt_path": row["prompt_path"]}  # fmt: skip
        if row["kind"] == "pairwise":
            a, b = ({k: row[f"{s}_{k}"] for k in SIDE_COLUMNS} for s in SIDES)
            lines = [(row["id"], a, b, row["winner"], row["left_side"], row["from_ranking"])]
        else:
            order, ranks, shown_at = ranking_parts(row)
            idx = {c: i for i, c in enumerate(order)}
            lines = [(f"{row['id']}.{idx[bt.a]}.{idx[bt.b]}", contestant_json(bt.a), contestant_json(bt.b),
                      bt.winner, bt.left, row["id"])
                     for bt in expand_ranking(order, ranks, shown_at, row["test_case"])]  # fmt: skip
        for vid, a, b, winner, left, from_ranking in lines:
            line = {"id": vid, "a": a, "b": b, "winner": winner, "left": left, "test_case": row["test_case"], **common}
            if from_ranking:
                line["from_ranking"] = from_ranking
            fp.write(json.dumps(line, ensure_ascii=False) + "\n")
            n += 1
    return n


def import_jsonl(store: VoteSource, fp: IO[str] | Iterable[str], *, source_name: str) -> ImportReport:
    """Import pairwise battles, one JSON object per line (see ``votedata``).

    Every line is validated completely first; malformed lines are skipped and reported
    (line number, reason), never half-imported. All valid lines are written in ONE
    transaction. A line whose ``id`` (given, or derived from the file name and the line's
    text) or ``from_ranking`` is already in the database is skipped as a duplicate, so
    importing the same file twice adds nothing.
    """
    try:
        parsed, skipped = parse_lines(fp, source_name)
    except UnicodeDecodeError as e:
        raise PromptbenchError(
            f"{source_name}: not UTF-8 text ({e.reason}); save the file as UTF-8 and import again; nothing was imported"
        ) from None
    now = dbmod.utc_now()
    rows = []
    for line_no, item in parsed:
        row = {"id": item.id, "created_at": item.created_at or now, "voter": item.voter or store.voter,
               "session_id": None, "blind": int(item.blind), "kind": "pairwise", "test_case": item.test_case,
               "prompt_path": item.prompt_path or common_prompt([item.a, item.b]), "note": item.note,
               "source": "import", "source_name": source_name, "from_ranking": item.from_ranking,
               "winner": item.winner, "left_side": item.left}  # fmt: skip
        row.update({f"a_{k}": getattr(item.a, k) for k in SIDE_COLUMNS})
        row.update({f"b_{k}": getattr(item.b, k) for k in SIDE_COLUMNS})
        rows.append((line_no, item, row))

    def fn(db):
        keys = sorted({k for _, item, row in rows for k in (row["id"], item.from_ranking) if k})
        present = {r[0] for r in db.execute("SELECT id FROM votes WHERE id IN (SELECT value FROM json_each(?))",
                                            [json.dumps(keys)]).fetchall()}  # fmt: skip
        dupes = []
        for line_no, item, row in rows:
            if row["id"] in present:
                dupes.append((line_no, f"duplicate: vote {row['id']} is already in the database"))
            elif item.from_ranking in present:
                dupes.append((line_no, f"duplicate: ranking {item.from_ranking} is already in the database"))
            else:
                db.execute(INSERT_VOTE_SQL, [row.get(c) for c in VOTE_COLUMNS])
        return dupes

    dupes = store.write_durably(f"import of {len(rows)} votes from {source_name}", fn) if rows else []
    return ImportReport(imported=len(rows) - len(dupes), skipped=sorted(skipped + dupes))
