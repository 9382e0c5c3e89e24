"""Prompt and version subcommands: init, list, history, diff, rollback, label, render."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from promptbench.core.errors import PromptbenchError
from promptbench.core.prompts.promptfile import render
from promptbench.core.store.promptstore import PromptStore
from promptbench.core.store.workspace import init_workspace


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="make a folder a promptbench workspace (git init if needed)")
    p.add_argument("dir", nargs="?", help="folder (default: --workspace or the current directory)")
    p.add_argument("--samples", action="store_true", help="copy the sample prompts in")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("list", help="list the prompts of the workspace")
    p.add_argument("--deleted", action="store_true", help="list deleted prompts that can be restored")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("history", help="versions of a prompt, newest first (follows renames)")
    p.add_argument("prompt")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("diff", help="diff two versions of a prompt (REV: sha, label, ~N, HEAD, WORKTREE)")
    p.add_argument("prompt")
    p.add_argument("rev_a")
    p.add_argument("rev_b", nargs="?", default="WORKTREE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_diff)

    p = sub.add_parser("rollback", help="restore a prompt to a version, as a new commit")
    p.add_argument("prompt")
    p.add_argument("rev")
    p.add_argument("-m", "--message")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_rollback)

    p = sub.add_parser("label", help="set (promote), move or delete a label such as production; without NAME list labels")
    p.add_argument("prompt")
    p.add_argument("name", nargs="?")
    p.add_argument("rev", nargs="?", default="HEAD")
    p.add_argument("--delete", action="store_true", help="remove the label")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_label)

    p = sub.add_parser("restore", help="bring back a deleted prompt")
    p.add_argument("prompt")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("render", help="render a prompt's messages with a test case and/or values")
    p.add_argument("prompt")
    p.add_argument("--test", type=int, metavar="INDEX",
                   help="use the test case at INDEX of the prompt's testData, counted from 0: the app's Test case 1 is --test 0")
    p.add_argument("--var", action="append", default=[], metavar="K=V", help="set a variable (repeatable)")
    p.add_argument("--rev", help="render the prompt as of this version instead of the file on disk")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_render)


def parse_vars(items: list[str]) -> dict:
    """``--var NAME=VALUE`` options as a dict, read as gh models reads its ``--var``
    (pkg/util ParseTemplateVariables): an empty option is skipped, the name is trimmed (the
    value is not), and an empty or repeated name is refused."""
    values: dict[str, str] = {}
    for item in items:
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise PromptbenchError(f"--var {item!r}: expected NAME=VALUE")
        key = key.strip()
        if not key:
            raise PromptbenchError(f"--var {item!r}: the variable's name is empty; write NAME=VALUE")
        if key in values:
            raise PromptbenchError(f"--var {item!r}: {key!r} is given twice; give each variable once")
        values[key] = value
    return values


def open_store(args: argparse.Namespace, prompt: str | None = None, *, anywhere: bool = False,
               runs: bool = True) -> PromptStore:
    """The workspace: --workspace DIR, else the current directory.

    ``anywhere`` is for the commands that take any file, as ``gh models eval FILE`` does (render,
    eval, compare): a current directory that is no git repository means the per-user workspace
    (core/workspace.py), and ``prompt``, when it is an existing file outside the workspace, is
    opened read-only (core/outside.py), which stderr says."""
    from promptbench.commands._common import workspace_dir
    from promptbench.core.store.workspace import open_workspace

    if not anywhere:
        return PromptStore(workspace_dir(args))
    store, fell_back = open_workspace(workspace_dir(args), explicit=bool(args.workspace))
    try:
        rel = store.outside.open(prompt) if prompt else None
        if fell_back and prompt and rel is None:  # no workspace to find a prompt name in
            raise PromptbenchError(f"{prompt}: no such file ({workspace_dir(args)} is no workspace, so prompts cannot "
                                   "be found by name; give a file's path, or --workspace DIR)")
    except PromptbenchError:
        store.close()
        raise
    if rel is not None:
        where = "any workspace" if fell_back else "the workspace"
        stored = f", runs stored as {rel} in {'the per-user workspace ' if fell_back else ''}{store.root}" if runs else ""
        print(f"note: {prompt} is outside {where}: read-only{stored}", file=sys.stderr)
    return store


def _print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_init(args) -> int:
    from promptbench.commands._common import workspace_dir

    root = Path(args.dir).expanduser() if args.dir else workspace_dir(args)
    store = init_workspace(root, samples=args.samples)
    print(f"workspace ready: {store.root} ({len(store.list_prompts())} prompts)")
    return 0


def cmd_list(args) -> int:
    from promptbench.core.settings.config import read_prompt_globs

    store = open_store(args)
    read_prompt_globs(store.root)  # a bad [workspace] prompt_globs is an error here (the app lists *.prompt.yml meanwhile)
    if args.deleted:
        items = [{"path": d.path, "deleted_in": d.sha} for d in store.deleted_prompts()]
    else:
        paths = store.list_prompts()
        modified = store.modified(paths)
        items = [{"path": p, "modified": p in modified} for p in paths]
    if args.json:
        _print_json(items)
    else:
        for item in items:
            print(item["path"] + (f"  (deleted in {item['deleted_in'][:8]})" if args.deleted else ("  *modified" if item["modified"] else "")))
    return 0


def cmd_history(args) -> int:
    store = open_store(args)
    rel = store.resolve(args.prompt)
    versions = store.history(rel)
    if not versions:
        raise PromptbenchError(f"{rel}: no committed versions yet")
    if args.json:
        _print_json([v.to_json() for v in versions])
        return 0
    for v in versions:
        labels = f" [{', '.join(v.labels)}]" if v.labels else ""
        moved = f" ({v.path})" if v.path != rel else ""
        print(f"{v.short}  {v.date[:16].replace('T', ' ')}  {v.author:<18.18}  {v.subject}{labels}{moved}")
    return 0


def cmd_diff(args) -> int:
    store = open_store(args)
    rel = store.resolve(args.prompt)
    diff = store.diff(rel, args.rev_a, args.rev_b)
    if args.json:
        _print_json({"path": rel, "rev_a": args.rev_a, "rev_b": args.rev_b, "unified": diff.unified, "structured": diff.structured})
    else:
        sys.stdout.write(diff.unified or "(no difference)\n")
        summary = diff.structured.get("summary") or diff.structured.get("error")
        if summary:
            print(f"# {summary}")
    return 0


def cmd_rollback(args) -> int:
    store = open_store(args)
    rel = store.resolve(args.prompt)
    result = store.rollback(rel, args.rev, args.message)
    data = {"path": rel, "snapshot": result.snapshot.to_json() if result.snapshot else None,
            "version": result.version.to_json() if result.version else None}
    if args.json:
        _print_json(data)
    else:
        if result.snapshot:
            print(f"saved uncommitted edits first as {result.snapshot.short}")
        if result.version:
            print(f"rolled back {rel}: new version {result.version.short} ({result.version.subject}); undo with: promptbench rollback {rel} ~1")
        else:
            print(f"{rel} already has that content; nothing to do")
    return 0


def cmd_label(args) -> int:
    store = open_store(args)
    rel = store.resolve(args.prompt)
    if args.name is None:
        labels = store.labels(rel)
        if args.json:
            _print_json(labels)
        else:
            for name, sha in sorted(labels.items()):
                print(f"{name:<12} {sha[:8]}")
        return 0
    if args.delete:
        removed = store.remove_label(rel, args.name)
        print(f"label {args.name} {'removed from' if removed else 'was not set on'} {rel}")
        return 0
    sha = store.set_label(rel, args.name, args.rev)
    if args.json:
        _print_json({"path": rel, "label": args.name, "sha": sha})
    else:
        print(f"{rel}: {args.name} -> {sha[:8]}")
    return 0


def cmd_restore(args) -> int:
    store = open_store(args)
    version = store.restore(args.prompt)
    print(f"restored {version.path} as {version.short}")
    return 0


def cmd_render(args) -> int:
    store = open_store(args, args.prompt, anywhere=True, runs=False)
    rel = store.resolve(args.prompt)
    values = parse_vars(args.var)
    if args.rev:
        from promptbench.core.prompts.promptfile import parse_prompt_bytes

        prompt = parse_prompt_bytes(store.read_at(rel, args.rev), f"{rel}@{args.rev}")
    else:
        prompt = store.read(rel)
    rendered = render(prompt, args.test, values)
    # As `gh models eval` sends it: a variable without a value stays as written. What GitHub
    # would do that may surprise is said on stderr (and in "warnings" with --json).
    warnings = [str(w) for w in [*prompt.warnings, *rendered.warnings]]
    if args.json:
        _print_json({"path": rel, "messages": rendered.messages, "missing": rendered.missing,
                     "unused": rendered.unused, "values": rendered.values, "warnings": warnings})
        return 0
    for message in rendered.messages:
        print(f"--- {message['role']}")
        print(message["content"])
    if rendered.unused:
        print(f"# unused values: {', '.join(rendered.unused)}", file=sys.stderr)
    for warning in warnings:
        print(f"# warning: {warning}", file=sys.stderr)
    return 0
