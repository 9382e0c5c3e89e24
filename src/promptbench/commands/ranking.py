"""``promptbench leaderboard`` and ``promptbench votes import|export``: votes -> ratings, JSONL exchange."""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from promptbench.core.errors import PromptbenchError
from promptbench.core.figures import plural

DB_NAME = "promptbench.db"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="ratings with confidence intervals from the votes of the workspace")
    p.add_argument("--prompt", metavar="P", help="only votes that involve this prompt (workspace-relative path)")
    p.add_argument("--json", action="store_true", help="print a JSON list of rows")
    p.add_argument("--rounds", type=int, default=200, metavar="N", help="bootstrap rounds for the intervals (default 200)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="bootstrap seed (default 0: the same votes give the same table)")
    p.set_defaults(handler=cmd_leaderboard)

    p = sub.add_parser("votes", help="import or export votes (one JSON battle per line)")
    actions = p.add_subparsers(dest="votes_action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="import battles from a JSONL file; malformed lines are skipped and reported")
    imp.add_argument("file", metavar="FILE.jsonl")
    imp.add_argument("--voter", help="voter for lines that name none (default: $PROMPTBENCH_VOTER or your user name)")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.set_defaults(handler=cmd_import)
    exp = actions.add_parser("export", help="export every vote as JSONL (rankings as their pairs); stdout without FILE")
    exp.add_argument("file", nargs="?", metavar="FILE")
    exp.add_argument("--prompt", metavar="P", help="only votes that involve this prompt")
    exp.set_defaults(handler=cmd_export)


@contextmanager
def open_votes(args, voter: str | None = None):
    """The workspace's RunStore and a VoteStore over it; closed on exit."""
    from promptbench.commands._common import workspace_dir
    from promptbench.core.db.runs import RunStore
    from promptbench.core.store.private_dir import ensure_private_dir
    from promptbench.core.ranking.votes import VoteStore

    root = workspace_dir(args)
    if not root.is_dir():
        raise PromptbenchError(f"workspace {root} does not exist or is not a folder; pass --workspace DIR")
    try:
        data = ensure_private_dir(root)
    except OSError as e:
        raise PromptbenchError(f"cannot create {root / '.promptbench'}: {e.strerror}; check the workspace folder is writable") from None
    runs = RunStore(data / DB_NAME)
    try:
        yield VoteStore(runs, voter=voter)
    finally:
        runs.close()


def _prompt_arg(value: str | None) -> str | None:
    return None if value is None else value.removeprefix("./")


def cmd_leaderboard(args) -> int:
    from promptbench.core.ranking.leaderboard import Contestant, fit

    if args.rounds < 0:
        raise PromptbenchError(f"--rounds must be 0 or more, not {args.rounds}")
    prompt = _prompt_arg(args.prompt)
    with open_votes(args) as votes:
        battles = votes.battles(prompt=prompt)
        rubric = votes.rubric_means(prompt=prompt)
    board = fit(battles, bootstrap_rounds=args.rounds, seed=args.seed) if battles else None
    rows = board.to_json() if board else []
    for row in rows:
        means = rubric.get(Contestant(row["prompt"], row["version"], row["model"]))
        if means:
            row["rubric"] = {c: {"mean": round(m, 3), "n": n} for c, (m, n) in sorted(means.items())}
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    elif not rows:
        where = f" on {prompt}" if prompt else ""
        print(f"no votes{where} yet: vote in the app, or import some with: promptbench votes import FILE.jsonl")
    else:
        print(format_table(rows))
        low, high = board.left_advantage_ci
        print(f"\n{plural(board.n_battles, 'battle')} (an N-way ranking counts as its pairs), "
              f"{plural(board.n_test_cases, 'test case')} (a vote without one counts as its own)")
        print(f"{board.confidence:.0%} intervals: bootstrap over test cases, {board.rounds} rounds, seed {board.seed}; "
              f"left-position advantage x{board.left_advantage:.2f} [{low:.2f}, {high:.2f}]")  # fmt: skip
    return 0


def _num(x) -> str:
    if x is None:
        return "-"
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.3f}"


def format_table(rows: list[dict]) -> str:
    header = ["rank", "rating", "interval", "votes", "W/T/L", "bad", "model", "version", "prompt"]
    body = [[str(r["rank"]), _num(r["rating"]), f"[{_num(r['ci_low'])}, {_num(r['ci_high'])}]", str(r["votes"]),
             f"{r['wins']}/{r['ties']}/{r['losses']}", str(r.get("both_bad", "-")), r["model"], r["version"][:12],
             r["prompt"]] for r in rows]  # fmt: skip
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    right = {0, 1, 2, 3, 4, 5}
    lines = []
    for line in [header, *body]:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def read_text(path: Path) -> str:
    """The whole file as text; a file error names the file and what to do."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PromptbenchError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise PromptbenchError(f"{path} is a folder; pass a .jsonl file") from None
    except OSError as e:
        raise PromptbenchError(f"{path}: cannot read it ({e.strerror}); check its permissions") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise PromptbenchError(
            f"{path}: not UTF-8 text (line {line}, byte {e.start}: {e.reason}); save it as UTF-8 and import again"
        ) from None


def cmd_import(args) -> int:
    path = Path(args.file).expanduser()
    text = read_text(path)  # before the database is opened: a file error changes nothing
    lines = re.split(r"\r\n|\r|\n", text)  # not str.splitlines: JSON strings may hold U+2028
    with open_votes(args, voter=args.voter) as votes:
        report = votes.import_jsonl(lines, source_name=path.name)
    if args.json:
        json.dump({"file": str(path), **report.to_json()}, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(f"imported {plural(report.imported, 'vote')} from {path}")
        if report.skipped:
            print(f"skipped {plural(len(report.skipped), 'line')} (nothing of them was imported):")
            for line_no, reason in report.skipped:
                print(f"  line {line_no}: {reason}")
    return 1 if report.skipped else 0


def cmd_export(args) -> int:
    prompt = _prompt_arg(args.prompt)
    buffer = io.StringIO()
    with open_votes(args) as votes:
        n = votes.export_jsonl(buffer, prompt=prompt)
    if args.file is None:
        sys.stdout.write(buffer.getvalue())
        return 0
    from promptbench.core.atomic import write_file

    path = Path(args.file).expanduser()
    write_file(path, buffer.getvalue().encode("utf-8"), str(path))
    print(f"exported {plural(n, 'vote')} to {path}")
    return 0
