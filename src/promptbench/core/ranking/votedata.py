"""Vote data without a database: the JSONL exchange format and N-way ranking expansion.

The JSONL format: each line is validated completely, before anything is written.

One battle per line::

    {"a": {"prompt": "p.prompt.yml", "version": "3f2a...", "model": "gpt-4o-mini"},
     "b": {"prompt": ..., "version": ..., "model": ...},
     "winner": "a" | "b" | "tie" | "both_bad", "test_case": "0"}

Optional: "left" ("a"|"b", default "a"), "voter", "created_at" (ISO 8601 with a time
zone), "note", "blind" (default false: an imported vote is blind only when it says so),
"prompt_path", "id" (kept, so re-importing a file adds nothing), "from_ranking" (the
id of the N-way ranking an exported pair came from). Unknown keys are ignored. Blank
lines are skipped. Each malformed line is reported with every problem found on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from promptbench.core.db import database as dbmod
from promptbench.core.errors import PromptbenchError
from promptbench.core.ranking.leaderboard import Battle, Contestant

WINNERS = ("a", "b", "tie", "both_bad")
SIDES = ("a", "b")
SIDE_COLUMNS = ("prompt", "version", "model")
VOTE_COLUMNS = (
    "id", "created_at", "voter", "session_id", "blind", "kind", "test_case", "prompt_path", "note",
    "source", "source_name", "from_ranking", "a_prompt", "a_version", "a_model", "b_prompt", "b_version",
    "b_model", "a_run_id", "b_run_id", "winner", "left_side", "contestants", "positions",
)  # fmt: skip
INSERT_VOTE_SQL = f"INSERT INTO votes ({', '.join(VOTE_COLUMNS)}) VALUES ({', '.join('?' * len(VOTE_COLUMNS))})"
FIELDS = ("prompt", "version", "model")


@dataclass(frozen=True)
class ImportReport:
    imported: int
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (1-based line number, reason)

    def to_json(self) -> dict:
        return {"imported": self.imported, "skipped": [{"line": n, "reason": r} for n, r in self.skipped]}


@dataclass(frozen=True)
class Item:
    a: Contestant
    b: Contestant
    winner: str
    left: str
    test_case: str | None
    voter: str | None
    created_at: str | None
    note: str | None
    blind: bool
    prompt_path: str | None
    id: str | None
    from_ranking: str | None


def contestant_json(c: Contestant) -> dict:
    return {"prompt": c.prompt, "version": c.version, "model": c.model}


def validate_contestant(value: Any, what: str) -> Contestant:
    if not isinstance(value, Contestant):
        raise PromptbenchError(f"{what} must be a Contestant(prompt, version, model), not {type(value).__name__}")
    for name in FIELDS:
        item = getattr(value, name)
        if not isinstance(item, str) or not item.strip():
            raise PromptbenchError(f"{what}.{name} must be a non-empty string, not {item!r}")
    return value


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)  # fmt: skip


def _side(obj: dict, key: str, problems: list[str]) -> Contestant | None:
    if key not in obj:
        problems.append(f'missing field "{key}"')
        return None
    value = obj[key]
    if not isinstance(value, dict):
        problems.append(f'wrong type: "{key}" must be an object with prompt, version and model, not {_type_name(value)}')
        return None
    parts = []
    for name in FIELDS:
        if name not in value:
            problems.append(f'missing field "{key}.{name}"')
        elif not isinstance(value[name], str):
            problems.append(f'wrong type: "{key}.{name}" must be a string, not {_type_name(value[name])}')
        elif not value[name].strip():
            problems.append(f'empty field "{key}.{name}"')
        else:
            parts.append(value[name])
    return Contestant(*parts) if len(parts) == 3 else None


def _optional_str(obj: dict, key: str, problems: list[str], *, allow_int: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    kind = "a string or a number" if allow_int else "a string"
    problems.append(f'wrong type: "{key}" must be {kind}, not {_type_name(value)}')
    return None


def parse_line(text: str) -> tuple[Item | None, str | None]:
    """One line -> (item, None) or (None, reason)."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"invalid JSON: {e.msg} at column {e.colno}"
    except (ValueError, RecursionError):  # a 5,000-digit number, nesting thousands deep
        return None, "invalid JSON: a value is too large or nested too deeply"
    if not isinstance(obj, dict):
        return None, f"not a JSON object (got {_type_name(obj)})"
    problems: list[str] = []
    a, b = _side(obj, "a", problems), _side(obj, "b", problems)
    winner = obj.get("winner")
    if "winner" not in obj:
        problems.append('missing field "winner"')
    elif not isinstance(winner, str):
        problems.append(f'wrong type: "winner" must be a string, not {_type_name(winner)}')
    elif winner not in WINNERS:
        problems.append(f'unknown winner "{winner}" (expected a, b, tie or both_bad)')
    left = obj.get("left", "a")
    if left not in ("a", "b"):
        problems.append(f"unknown left {json.dumps(left)} (expected a or b: the contestant shown on the left)")
    blind = obj.get("blind", False)
    if not isinstance(blind, bool):
        problems.append(f'wrong type: "blind" must be true or false, not {_type_name(blind)}')
    test_case = _optional_str(obj, "test_case", problems, allow_int=True)
    strs = {k: _optional_str(obj, k, problems) for k in ("voter", "note", "prompt_path", "id", "from_ranking")}
    for key in ("voter", "id", "from_ranking"):
        if strs[key] is not None and not strs[key].strip():
            problems.append(f'empty field "{key}"')
    created_at = _optional_str(obj, "created_at", problems)
    if created_at is not None:
        try:
            created_at = dbmod.to_utc_iso(created_at)
        except PromptbenchError as e:
            problems.append(f'bad "created_at": {e}')
    if a is not None and a == b:
        problems.append("a and b are the same contestant")
    if problems:
        return None, "; ".join(problems)
    item = Item(a=a, b=b, winner=winner, left=left, test_case=test_case, created_at=created_at, blind=blind,
                **strs)  # fmt: skip
    return item, None


def line_id(source_name: str, text: str, occurrence: int) -> str:
    """The id of a line that has none: the same file imported again gives the same ids."""
    digest = hashlib.sha256(f"{source_name}\n{occurrence}\n{text}".encode()).hexdigest()
    return f"imp-{digest[:16]}"


def parse_lines(lines: Iterable[str], source_name: str) -> tuple[list[tuple[int, Item]], list[tuple[int, str]]]:
    """Validate every line. Returns (good items, skipped (line, reason)). Blank lines are ignored.

    A line without "id" gets one from the source name, its text and how many identical
    lines came before it, so importing the same file twice is caught as duplicates.
    Lets UnicodeDecodeError from the file through (the caller names the file)."""
    good: list[tuple[int, Item]] = []
    skipped: list[tuple[int, str]] = []
    first_seen: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    for line_no, text in enumerate(lines, start=1):
        if line_no == 1:
            text = text.removeprefix("\ufeff")
        text = text.strip()
        if not text:
            continue
        item, reason = parse_line(text)
        if item is not None and item.id is None:
            occurrences[text] = occurrences.get(text, 0) + 1
            item = replace(item, id=line_id(source_name, text, occurrences[text]))
        elif item is not None:
            if item.id in first_seen:
                item, reason = None, f'duplicate id "{item.id}" (first on line {first_seen[item.id]})'
            else:
                first_seen[item.id] = line_no
        if item is None:
            skipped.append((line_no, reason))
        else:
            good.append((line_no, item))
    return good, skipped


# --- N-way rankings ------------------------------------------------------------------


def rank_numbers(n: int, ties: Sequence[Sequence[int]] | None) -> list[int]:
    """1-based ranks for ``n`` contestants in chosen order; a tied group shares its best rank.

    Each group lists indices into the chosen order; tied contestants must be adjacent
    (a contestant ranked between two tied ones would contradict the tie).
    """
    ranks = list(range(1, n + 1))
    seen: set[int] = set()
    for group in ties or []:
        if not isinstance(group, (list, tuple)) or len(group) < 2:
            raise PromptbenchError(f"ties: each group lists at least two indices into order, not {group!r}")
        if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in group):
            raise PromptbenchError(f"ties: group {list(group)} has an index outside 0..{n - 1}")
        members = sorted(set(group))
        if len(members) != len(group) or seen & set(members):
            raise PromptbenchError(f"ties: index repeated in {list(group)} or in another group")
        if members != list(range(members[0], members[-1] + 1)):
            raise PromptbenchError(
                f"ties: group {list(group)} is not adjacent in order; put tied contestants next to each other"
            )
        seen.update(members)
        for i in members:
            ranks[i] = members[0] + 1
    return ranks


def expand_ranking(order: Sequence[Contestant], ranks: Sequence[int], shown_at: Sequence[int],
                   test_case: str | None) -> list[Battle]:  # fmt: skip
    """The pairwise battles an N-way ranking implies: i above j -> i wins; same rank -> tie.

    ``shown_at[i]`` is where order[i] was shown (0 = leftmost); ``left`` of each battle says
    which of the two was shown further left.
    """
    battles = []
    for i in range(len(order)):
        for j in range(i + 1, len(order)):
            winner = "tie" if ranks[i] == ranks[j] else "a"
            left = "a" if shown_at[i] < shown_at[j] else "b"
            battles.append(Battle(a=order[i], b=order[j], winner=winner, test_case=test_case, left=left))
    return battles


def ranking_parts(row) -> tuple[list[Contestant], list[int], list[int]]:
    """A stored ranking row -> (contestants best first, their ranks, where each was shown)."""
    items = json.loads(row["contestants"])
    order = [Contestant(c["prompt"], c["version"], c["model"]) for c in items]
    shown = json.loads(row["positions"])["shown"]
    shown_at = [0] * len(order)
    for slot, index in enumerate(shown):
        shown_at[index] = slot
    return order, [c["rank"] for c in items], shown_at


def common_prompt(contestants: Iterable[Contestant]) -> str | None:
    prompts = {c.prompt for c in contestants}
    return prompts.pop() if len(prompts) == 1 else None
