"""``promptbench leaderboard`` and ``promptbench votes import|export`` through ``promptbench.cli.main``."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pytest

from promptbench import cli
from promptbench.commands import ranking as ranking_commands

P = "greet.prompt.yml"
ROW_KEYS = {"prompt", "version", "model", "rating", "ci_low", "ci_high", "rank", "votes", "wins", "ties", "losses"}


@pytest.fixture(autouse=True)
def _registered(monkeypatch):
    """Register the commands if cli.py does not yet (harmless once it does)."""
    original = cli.build_parser

    def build() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "leaderboard" not in sub.choices:
            ranking_commands.register(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    monkeypatch.setenv("PROMPTBENCH_VOTER", "ada")


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def run(ws: Path, *argv: str) -> int:
    return cli.main(["--workspace", str(ws), *argv])


def side(version: str, model: str, prompt: str = P) -> dict:
    return {"prompt": prompt, "version": version, "model": model}


STRONG, MIDDLE, WEAK = side("v2", "gpt"), side("v1", "gpt"), side("v1", "tiny")


def clear_winner_lines(n_cases: int = 12) -> list[str]:
    """STRONG beats both others on every test case; MIDDLE beats WEAK most of the time."""
    rng = random.Random(7)
    lines = []
    for t in range(n_cases):
        for other in (MIDDLE, WEAK):
            a, b, winner = (STRONG, other, "a") if rng.random() < 0.5 else (other, STRONG, "b")
            lines.append({"a": a, "b": b, "winner": winner, "test_case": str(t), "left": rng.choice("ab")})
        lines.append({"a": MIDDLE, "b": WEAK, "winner": "a" if t % 4 else "tie", "test_case": str(t)})
    lines.append({"a": WEAK, "b": MIDDLE, "winner": "both_bad", "test_case": "0"})
    return [json.dumps(x) for x in lines]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_leaderboard_json_on_imported_votes_with_a_clear_winner(ws, tmp_path, capsys):
    f = write(tmp_path / "votes.jsonl", clear_winner_lines())
    assert run(ws, "votes", "import", str(f)) == 0
    assert "imported 37 votes" in capsys.readouterr().out

    assert run(ws, "leaderboard", "--json", "--rounds", "100", "--seed", "3") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["version"], r["model"]) for r in rows] == [("v2", "gpt"), ("v1", "gpt"), ("v1", "tiny")]
    for r in rows:
        assert ROW_KEYS <= set(r)
        assert r["ci_low"] <= r["rating"] <= r["ci_high"]
        assert r["votes"] == r["wins"] + r["ties"] + r["losses"] + r["both_bad"]
    top = rows[0]
    assert (top["rank"], top["wins"], top["losses"], top["votes"]) == (1, 24, 0, 24)
    assert top["ci_low"] > rows[1]["ci_high"]  # a clear winner: intervals apart
    assert (rows[2]["both_bad"], rows[2]["ties"]) == (1, 3)

    assert run(ws, "leaderboard", "--json", "--rounds", "100", "--seed", "3") == 0
    assert json.loads(capsys.readouterr().out) == rows  # same votes, same seed: same numbers

    assert run(ws, "leaderboard", "--rounds", "50") == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["rank", "rating", "interval", "votes"]
    assert table[1].split()[0] == "1" and "v2" in table[1] and "gpt" in table[1]
    assert "37 battles" in table[-2] and "95% intervals" in table[-1]


def test_leaderboard_prompt_filter_and_rubric_means(ws, tmp_path, capsys):
    other = side("v1", "gpt", prompt="other.prompt.yml")
    lines = clear_winner_lines(4) + [json.dumps({"a": other, "b": {**other, "model": "tiny"}, "winner": "a"})]
    assert run(ws, "votes", "import", str(write(tmp_path / "v.jsonl", lines))) == 0
    from promptbench.core.ranking.leaderboard import Contestant
    from promptbench.core.db.runs import RunStore
    from promptbench.core.ranking.votes import VoteStore

    with RunStore(ws / ".promptbench" / "promptbench.db") as runs:
        VoteStore(runs).record_rubric(contestant=Contestant(P, "v2", "gpt"), criterion="accuracy", score=5)
    capsys.readouterr()
    assert run(ws, "leaderboard", "--json", "--prompt", "./other.prompt.yml", "--rounds", "20") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["prompt"] for r in rows} == {"other.prompt.yml"} and len(rows) == 2
    assert run(ws, "leaderboard", "--json", "--prompt", P, "--rounds", "20") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["rubric"] == {"accuracy": {"mean": 5.0, "n": 1}} and "rubric" not in rows[1]


def test_leaderboard_on_an_empty_workspace(ws, capsys):
    assert run(ws, "leaderboard", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(ws, "leaderboard") == 0
    out = capsys.readouterr().out
    assert "no votes yet" in out and "promptbench votes import" in out
    assert run(ws, "leaderboard", "--prompt", "x.prompt.yml") == 0
    assert "no votes on x.prompt.yml yet" in capsys.readouterr().out


def test_leaderboard_refusals(ws, tmp_path, capsys):
    assert run(ws, "leaderboard", "--rounds", "-1") == 2
    assert "--rounds must be 0 or more" in capsys.readouterr().err
    assert run(tmp_path / "missing", "leaderboard") == 2
    assert "does not exist" in capsys.readouterr().err


def test_import_with_malformed_lines_reports_them_and_exits_1(ws, tmp_path, capsys):
    lines = [json.dumps({"a": STRONG, "b": WEAK, "winner": "a"}), "{oops", json.dumps({"a": STRONG, "b": STRONG, "winner": "a"}),
             json.dumps({"a": STRONG, "b": WEAK, "winner": "maybe"})]  # fmt: skip
    f = write(tmp_path / "mixed.jsonl", lines)
    assert run(ws, "votes", "import", str(f)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"imported 1 vote from {f}",
        "skipped 3 lines (nothing of them was imported):",
        "  line 2: invalid JSON: Expecting property name enclosed in double quotes at column 2",
        "  line 3: a and b are the same contestant",
        '  line 4: unknown winner "maybe" (expected a, b, tie or both_bad)',
    ]
    assert run(ws, "votes", "import", "--json", str(f)) == 1  # again: the good line is a duplicate now
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 0 and [s["line"] for s in report["skipped"]] == [1, 2, 3, 4]
    assert report["skipped"][0]["reason"].startswith("duplicate: vote imp-")


@pytest.mark.parametrize("kind", ["missing", "folder", "latin-1"])
def test_import_file_errors_exit_2_and_change_nothing(ws, tmp_path, capsys, kind):
    f = tmp_path / "votes.jsonl"
    if kind == "folder":
        f.mkdir()
    elif kind == "latin-1":
        f.write_bytes(json.dumps({"a": STRONG, "b": WEAK, "winner": "a"}).encode() + b"\n" + '{"note": "café"}\n'.encode("latin-1"))
    assert run(ws, "votes", "import", str(f)) == 2
    err = capsys.readouterr().err
    assert str(f) in err
    assert {"missing": "no such file", "folder": "is a folder", "latin-1": "not UTF-8 text (line 2"}[kind] in err
    assert not (ws / ".promptbench").exists()  # the database was not even opened


def test_export_to_stdout_and_file_round_trips_through_import(ws, tmp_path, capsys):
    from promptbench.core.ranking.leaderboard import Contestant
    from promptbench.core.db.runs import RunStore
    from promptbench.core.ranking.votes import VoteStore

    assert run(ws, "votes", "import", str(write(tmp_path / "v.jsonl", clear_winner_lines(3)))) == 0
    with RunStore(ws / ".promptbench" / "promptbench.db") as runs:
        a, b, c = (Contestant(**s) for s in (STRONG, MIDDLE, WEAK))
        VoteStore(runs).record_ranking(order=[a, b, c], shown=[c, b, a], ties=[[1, 2]], test_case="9")
    capsys.readouterr()
    assert run(ws, "votes", "export") == 0
    text = capsys.readouterr().out
    assert len(text.splitlines()) == 10 + 3
    out_file = tmp_path / "out" / "all.jsonl"
    assert run(ws, "votes", "export", str(out_file)) == 0
    assert capsys.readouterr().out == f"exported 13 votes to {out_file}\n"
    assert out_file.read_text(encoding="utf-8") == text

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert run(fresh, "votes", "import", str(out_file)) == 0
    capsys.readouterr()
    assert run(fresh, "votes", "export") == 0
    assert capsys.readouterr().out == text
    boards = []
    for w in (ws, fresh):
        assert run(w, "leaderboard", "--json", "--rounds", "30") == 0
        boards.append(json.loads(capsys.readouterr().out))
    assert boards[0] == boards[1] and len(boards[0]) == 3
