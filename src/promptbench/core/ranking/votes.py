"""VoteStore: human judgements of outputs, in the run store's database.

Kinds of judgement (tables from migration ``m002_votes``):

- a **pairwise vote**: A vs B -> "a" | "b" | "tie" | "both_bad", with which side was
  shown on the left (position bias can be measured later);
- an **N-way ranking**: stored once (kind "ranking") as the contestants in the chosen
  order with their ranks, and the order they were shown in. For fitting it is expanded
  into its implied pairwise battles: for every pair i ranked above j, i wins; equal
  rank is a tie (see ``votedata.expand_ranking``). A ranking of n outputs therefore
  counts as n(n-1)/2 battles and pulls ratings as hard as that many separate votes.
  Those battles are not independent; ``ranking.fit`` resamples whole test cases, so
  with a test case they are resampled together and the intervals stay honest (without
  one each implied battle is resampled alone and the intervals come out too narrow);
- a **rubric score** (1-5 on a named criterion) and a **thumb** (+1/-1).

Writes go through the RunStore's ONE writer thread (no second writing connection),
but unlike run writes they are synchronous: ``record_*`` returns only once the row is
committed, and the commit is fsynced (``synchronous = FULL`` for that transaction), so
a returned vote survives a crash of the process and of the machine. A vote is human
work; it is never queued. Reads use the RunStore's read connections.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from promptbench.core.db import database as dbmod
from promptbench.core.errors import PromptbenchError
from promptbench.core.ids import new_id
from promptbench.core.ranking.leaderboard import Battle, Contestant
from promptbench.core.db.runs import RunStore
from promptbench.core.ranking import votes_jsonl
from promptbench.core.ranking.votedata import (
    INSERT_VOTE_SQL, SIDE_COLUMNS, SIDES, VOTE_COLUMNS, WINNERS, ImportReport, common_prompt, contestant_json, expand_ranking,
    rank_numbers, ranking_parts, validate_contestant,
)  # fmt: skip

SESSION_STATUSES = ("open", "finished", "abandoned")
WRITE_TIMEOUT_S = 60

__all__ = ["VoteStore", "ImportReport", "default_voter", "WINNERS"]


def default_voter() -> str:
    """``PROMPTBENCH_VOTER`` if set, else the OS user name, else "unknown"."""
    name = os.environ.get("PROMPTBENCH_VOTER", "").strip()
    if name:
        return name
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers)
        return "unknown"


def _test_case(value: Any, what: str = "test_case") -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # runs number test cases; votes keep them as text
    raise PromptbenchError(f"{what} must be a string, an integer or None, not {type(value).__name__}")


def _opt_str(value: Any, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise PromptbenchError(f"{what} must be a string or None, not {type(value).__name__}")
    return value


class VoteStore:
    """Votes, rankings, rubric scores, thumbs and ranking sessions over a RunStore's database.

    Takes the RunStore rather than a path so there is still exactly one writing
    connection and one writer thread per database (STYLE rule 7); the caller owns the
    RunStore and closes it. ``voter`` is the default voter name for this store's writes.
    """

    def __init__(self, runs: RunStore, *, voter: str | None = None):
        self.runs = runs
        self.voter = voter or default_voter()

    # --- writing ---------------------------------------------------------------------------

    def write_durably(self, label: str, fn):
        """Run ``fn(db)`` in one fsynced transaction on the writer thread; return its result."""
        return self.runs.db.write(label, fn, durable=True, timeout=WRITE_TIMEOUT_S)

    def _insert_votes(self, label: str, rows: list[dict], session_id: str | None = None) -> None:
        def fn(db):
            if session_id is not None:
                self._check_session(db, session_id)
            for row in rows:
                db.execute(INSERT_VOTE_SQL, [row.get(c) for c in VOTE_COLUMNS])

        self.write_durably(label, fn)

    @staticmethod
    def _check_session(db, session_id: str) -> None:
        if not db.execute("SELECT 1 FROM ranking_sessions WHERE id = ?", [session_id]).fetchone():
            raise PromptbenchError(f"session_id {session_id!r}: no such ranking session; create it first")

    def _base_row(self, *, kind, test_case, blind, voter, session_id, note, prompt_path) -> dict:
        return {
            "id": new_id(), "created_at": dbmod.utc_now(),
            "voter": _opt_str(voter, "voter") or self.voter, "session_id": _opt_str(session_id, "session_id"),
            "blind": int(bool(blind)), "kind": kind, "test_case": _test_case(test_case),
            "prompt_path": _opt_str(prompt_path, "prompt_path"), "note": _opt_str(note, "note"), "source": "app",
        }  # fmt: skip

    def record_vote(
        self, *, a: Contestant, b: Contestant, winner: str, left: str = "a", test_case: str | int | None = None,
        blind: bool = True, voter: str | None = None, session_id: str | None = None, a_run_id: str | None = None,
        b_run_id: str | None = None, note: str | None = None, prompt_path: str | None = None,
    ) -> str:  # fmt: skip
        """Save one pairwise vote; when this returns the vote is on disk. Returns its id."""
        a, b = validate_contestant(a, "a"), validate_contestant(b, "b")
        if a == b:
            raise PromptbenchError(f"a and b are the same contestant ({a.prompt} @ {a.version} on {a.model})")
        if winner not in WINNERS:
            raise PromptbenchError(f"winner must be one of {', '.join(WINNERS)}, not {winner!r}")
        if left not in SIDES:
            raise PromptbenchError(f"left must be 'a' or 'b' (the contestant shown on the left), not {left!r}")
        row = self._base_row(kind="pairwise", test_case=test_case, blind=blind, voter=voter, session_id=session_id,
                             note=note, prompt_path=prompt_path or common_prompt([a, b]))  # fmt: skip
        row.update({f"a_{k}": getattr(a, k) for k in SIDE_COLUMNS})
        row.update({f"b_{k}": getattr(b, k) for k in SIDE_COLUMNS})
        row.update(a_run_id=_opt_str(a_run_id, "a_run_id"), b_run_id=_opt_str(b_run_id, "b_run_id"),
                   winner=winner, left_side=left)  # fmt: skip
        self._insert_votes(f"vote {row['id']}", [row], session_id)
        return row["id"]

    def record_ranking(
        self, *, order: Sequence[Contestant], shown: Sequence[Contestant], ties: Sequence[Sequence[int]] | None = None,
        test_case: str | int | None = None, blind: bool = True, voter: str | None = None, session_id: str | None = None,
        run_ids: Sequence[str | None] | Mapping[Contestant, str] | None = None, note: str | None = None,
        prompt_path: str | None = None,
    ) -> str:  # fmt: skip
        """Save one N-way ranking. ``order``: best first; ``shown``: the same contestants as
        shown, left to right; ``ties``: groups of indices into ``order`` that share a rank;
        ``run_ids``: aligned with ``order``, or a mapping contestant -> run id."""
        order = [validate_contestant(c, f"order[{i}]") for i, c in enumerate(order)]
        shown = [validate_contestant(c, f"shown[{i}]") for i, c in enumerate(shown)]
        if len(order) < 2 or len(set(order)) != len(order):
            raise PromptbenchError("order: a ranking needs at least two different contestants, each once")
        if sorted(shown) != sorted(order):
            raise PromptbenchError("shown must list exactly the contestants of order (in the order they were shown)")
        ranks = rank_numbers(len(order), ties)
        if run_ids is None:
            ids: list[str | None] = [None] * len(order)
        elif isinstance(run_ids, Mapping):
            ids = [_opt_str(run_ids.get(c), "run_ids value") for c in order]
        else:
            ids = [_opt_str(r, "run_ids item") for r in run_ids]
            if len(ids) != len(order):
                raise PromptbenchError(f"run_ids has {len(ids)} items; it must be aligned with order ({len(order)})")
        row = self._base_row(kind="ranking", test_case=test_case, blind=blind, voter=voter, session_id=session_id,
                             note=note, prompt_path=prompt_path or common_prompt(order))  # fmt: skip
        contestants = [{**contestant_json(c), "rank": r, "run_id": rid} for c, r, rid in zip(order, ranks, ids)]
        row["contestants"] = json.dumps(contestants, ensure_ascii=False)
        row["positions"] = json.dumps({"shown": [order.index(c) for c in shown]})
        self._insert_votes(f"ranking {row['id']}", [row], session_id)
        return row["id"]

    def _scored(self, table: str, label: str, row: dict, contestant, run_id) -> str:
        if contestant is None and run_id is None:
            raise PromptbenchError(f"{label}: pass contestant=, run_id= or both")
        if contestant is not None:
            row.update(contestant_json(validate_contestant(contestant, "contestant")))
        columns = list(row)

        def fn(db):
            if contestant is None:  # the run's own prompt, version and model
                found = db.execute("SELECT prompt_path, prompt_version, model_name FROM runs WHERE id = ?",
                                   [run_id]).fetchone()  # fmt: skip
                if found is None or found[1] is None:
                    raise PromptbenchError(f"run_id {run_id!r}: no such run with a prompt version; pass contestant=")
                row.update(prompt=found[0], version=found[1], model=found[2])
                columns[:] = list(row)
            if row.get("vote_id") is not None and not db.execute("SELECT 1 FROM votes WHERE id = ?",
                                                                  [row["vote_id"]]).fetchone():  # fmt: skip
                raise PromptbenchError(f"vote_id {row['vote_id']!r}: no such vote")
            db.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [row[c] for c in columns])  # fmt: skip

        self.write_durably(f"{label} {row['id']}", fn)
        return row["id"]

    def record_rubric(self, *, contestant: Contestant | None = None, criterion: str, score: int,
                      vote_id: str | None = None, run_id: str | None = None, voter: str | None = None,
                      test_case: str | int | None = None) -> str:  # fmt: skip
        """Save a 1-5 score on ``criterion``. Without ``contestant`` it is taken from the run."""
        if not isinstance(criterion, str) or not criterion.strip():
            raise PromptbenchError("criterion must be a non-empty string such as 'accuracy'")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise PromptbenchError(f"score for {criterion!r} must be an integer from 1 to 5, not {score!r}")
        row = {"id": new_id(), "created_at": dbmod.utc_now(), "vote_id": _opt_str(vote_id, "vote_id"),
               "run_id": _opt_str(run_id, "run_id"), "test_case": _test_case(test_case), "criterion": criterion.strip(),
               "score": score, "voter": _opt_str(voter, "voter") or self.voter}  # fmt: skip
        return self._scored("rubric_scores", "rubric score", row, contestant, run_id)

    def record_thumb(self, *, value: int, run_id: str | None = None, contestant: Contestant | None = None,
                     voter: str | None = None, note: str | None = None, test_case: str | int | None = None) -> str:  # fmt: skip
        """Save a thumb up (+1) or down (-1). Without ``contestant`` it is taken from the run."""
        if value not in (1, -1) or isinstance(value, bool):
            raise PromptbenchError(f"thumb value must be +1 or -1, not {value!r}")
        row = {"id": new_id(), "created_at": dbmod.utc_now(), "run_id": _opt_str(run_id, "run_id"),
               "test_case": _test_case(test_case), "value": value, "voter": _opt_str(voter, "voter") or self.voter,
               "note": _opt_str(note, "note")}  # fmt: skip
        return self._scored("thumbs", "thumb", row, contestant, run_id)

    # --- sessions --------------------------------------------------------------------------

    def create_session(self, *, name: str, config: dict | None = None, prompt_path: str | None = None) -> str:
        """A ranking session: ``config`` says what is judged, e.g. ``{"test_cases": [0, 1],
        "versions": [...], "models": [...], "blind": true, "criteria": ["accuracy"]}``."""
        if not isinstance(name, str) or not name.strip():
            raise PromptbenchError("session name must be a non-empty string")
        config = {} if config is None else config
        if not isinstance(config, dict):
            raise PromptbenchError(f"session config must be a dict, not {type(config).__name__}")
        for key in ("test_cases", "versions", "models", "criteria"):
            if key in config and not isinstance(config[key], list):
                raise PromptbenchError(f"session config {key!r} must be a list")
        if "blind" in config and not isinstance(config["blind"], bool):
            raise PromptbenchError("session config 'blind' must be true or false")
        try:
            text = json.dumps(config, ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise PromptbenchError(f"session config cannot be stored as JSON: {e}") from None
        sid = new_id()
        values = [sid, dbmod.utc_now(), name.strip(), _opt_str(prompt_path, "prompt_path"), text]
        sql = "INSERT INTO ranking_sessions (id, created_at, name, prompt_path, config) VALUES (?, ?, ?, ?, ?)"
        self.write_durably(f"ranking session {sid}", lambda db: db.execute(sql, values))
        return sid

    def set_session_status(self, session_id: str, status: str) -> None:
        if status not in SESSION_STATUSES:
            raise PromptbenchError(f"session status must be one of {', '.join(SESSION_STATUSES)}, not {status!r}")

        def fn(db):
            if db.execute("UPDATE ranking_sessions SET status = ? WHERE id = ?", [status, session_id]).rowcount == 0:
                raise PromptbenchError(f"session_id {session_id!r}: no such ranking session")

        self.write_durably(f"status of ranking session {session_id}", fn)

    def _session_rows(self, where: str, params: list, limit: int = -1) -> list[dict]:
        rows = self.runs.db.query(
            "SELECT s.*, (SELECT count(*) FROM votes v WHERE v.session_id = s.id) AS vote_count"
            f" FROM ranking_sessions s {where} ORDER BY s.created_at DESC, s.rowid DESC LIMIT ?",
            [*params, int(limit)],
        )
        return [{**dict(r), "config": json.loads(r["config"])} for r in rows]

    def get_session(self, session_id: str) -> dict | None:
        rows = self._session_rows("WHERE s.id = ?", [session_id])
        return rows[0] if rows else None

    def list_sessions(self, *, prompt: str | None = None, status: str | None = None, limit: int = 100) -> list[dict]:
        where, params = [], []
        for col, value in (("s.prompt_path", prompt), ("s.status", status)):
            if value is not None:
                where.append(f"{col} = ?")
                params.append(value)
        return self._session_rows(f"WHERE {' AND '.join(where)}" if where else "", params, limit)

    # --- reading ---------------------------------------------------------------------------

    def vote_rows(self, *, prompt=None, since=None, until=None, tag=None, session_id=None, voter=None) -> list:
        where, params = [], []
        if prompt is not None:
            where.append(
                "(v.prompt_path = ? OR v.a_prompt = ? OR v.b_prompt = ? OR (v.kind = 'ranking' AND EXISTS"
                " (SELECT 1 FROM json_each(v.contestants) j WHERE json_extract(j.value, '$.prompt') = ?)))"
            )
            params += [prompt] * 4
        if since is not None:
            where.append("v.created_at >= ?")
            params.append(dbmod.to_utc_iso(since))
        if until is not None:
            where.append("v.created_at < ?")
            params.append(dbmod.to_utc_iso(until))
        if tag is not None:
            where.append("(v.session_id = ? OR v.source_name = ?)")
            params += [tag, tag]
        for col, value in (("v.session_id", session_id), ("v.voter", voter)):
            if value is not None:
                where.append(f"{col} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.runs.db.query(f"SELECT v.* FROM votes v {clause} ORDER BY v.created_at, v.rowid", params)

    def votes(self, **filters) -> list[dict]:
        """Stored votes and rankings as dicts (JSON columns decoded), oldest first.
        Filters as for :meth:`battles`."""
        return [_vote_dict(r) for r in self.vote_rows(**filters)]

    def get_vote(self, vote_id: str) -> dict | None:
        rows = self.runs.db.query("SELECT * FROM votes WHERE id = ?", [vote_id])
        return _vote_dict(rows[0]) if rows else None

    def battles(self, *, prompt: str | None = None, since: datetime | str | None = None,
                until: datetime | str | None = None, tag: str | None = None, session_id: str | None = None,
                voter: str | None = None) -> list[Battle]:  # fmt: skip
        """Pairwise votes plus every ranking expanded into its implied battles, oldest first.

        ``prompt``: votes in which any contestant is that prompt; ``since`` inclusive,
        ``until`` exclusive; ``tag``: a ranking session id or an import's source name.
        """
        out: list[Battle] = []
        for row in self.vote_rows(prompt=prompt, since=since, until=until, tag=tag, session_id=session_id,
                                   voter=voter):  # fmt: skip
            if row["kind"] == "pairwise":
                a, b = (Contestant(*(row[f"{s}_{k}"] for k in SIDE_COLUMNS)) for s in SIDES)
                out.append(Battle(a=a, b=b, winner=row["winner"], test_case=row["test_case"], left=row["left_side"]))
            else:
                order, ranks, shown_at = ranking_parts(row)
                out.extend(expand_ranking(order, ranks, shown_at, row["test_case"]))
        return out

    def rubric_means(self, *, prompt: str | None = None) -> dict[Contestant, dict[str, tuple[float, int]]]:
        where, params = ("WHERE prompt = ?", [prompt]) if prompt is not None else ("", [])
        rows = self.runs.db.query(
            "SELECT prompt, version, model, criterion, avg(score) AS mean, count(*) AS n FROM rubric_scores"
            f" {where} GROUP BY prompt, version, model, criterion ORDER BY prompt, version, model, criterion",
            params,
        )
        out: dict[Contestant, dict[str, tuple[float, int]]] = {}
        for r in rows:
            out.setdefault(Contestant(r["prompt"], r["version"], r["model"]), {})[r["criterion"]] = (r["mean"], r["n"])
        return out

    def rubric_scores(self, *, vote_id: str | None = None, run_id: str | None = None,
                      prompt: str | None = None) -> list[dict]:  # fmt: skip
        return self._simple("rubric_scores", vote_id=vote_id, run_id=run_id, prompt=prompt)

    def thumbs(self, *, run_id: str | None = None, prompt: str | None = None) -> list[dict]:
        return self._simple("thumbs", run_id=run_id, prompt=prompt)

    def _simple(self, table: str, **filters) -> list[dict]:
        pairs = [(k, v) for k, v in filters.items() if v is not None]
        clause = f"WHERE {' AND '.join(f'{k} = ?' for k, _ in pairs)}" if pairs else ""
        rows = self.runs.db.query(f"SELECT * FROM {table} {clause} ORDER BY created_at, rowid", [v for _, v in pairs])
        return [dict(r) for r in rows]

    # --- JSONL exchange (core/votes_jsonl.py) ----------------------------------------

    def export_jsonl(self, fp: IO[str], *, prompt: str | None = None) -> int:
        """Every vote as one JSON battle per line; returns the number of lines."""
        return votes_jsonl.export_jsonl(self, fp, prompt=prompt)

    def import_jsonl(self, fp: IO[str] | Iterable[str], *, source_name: str) -> ImportReport:
        """Import pairwise battles; malformed and duplicate lines are skipped and reported."""
        return votes_jsonl.import_jsonl(self, fp, source_name=source_name)


def _vote_dict(row) -> dict:
    d = dict(row)
    d["blind"] = bool(d["blind"])
    for key in ("contestants", "positions"):
        if d[key] is not None:
            d[key] = json.loads(d[key])
    return d
