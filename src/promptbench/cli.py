"""The one entry point: no arguments opens the app; subcommands run headless.

Every failure ends as a non-zero exit and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path

from promptbench.core.errors import PromptbenchError


def build_parser() -> argparse.ArgumentParser:
    from promptbench.commands import compare as compare_commands
    from promptbench.commands import eval as eval_commands
    from promptbench.commands import export as export_commands
    from promptbench.commands import models as model_commands
    from promptbench.commands import prompts as prompt_commands
    from promptbench.commands import ranking as ranking_commands

    parser = argparse.ArgumentParser(prog="promptbench", description="A desktop workbench for iterating on LLM prompts. Without a command, opens the app.")
    parser.add_argument("--workspace", "-w", metavar="DIR", help="workspace folder (default: the current directory; the app opens the sample workspace)")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    app = sub.add_parser("app", help="open the desktop app")
    app.set_defaults(handler=_run_app)
    prompt_commands.register(sub)
    compare_commands.register(sub)
    model_commands.register(sub)
    ranking_commands.register(sub)
    export_commands.register(sub)
    eval_commands.register(sub)
    _accept_workspace_anywhere(sub)
    return parser


def _accept_workspace_anywhere(sub: argparse._SubParsersAction) -> None:
    """``promptbench history P --workspace DIR`` works as well as ``promptbench --workspace DIR history P``."""
    seen = set()
    stack = list(sub.choices.values())
    while stack:
        parser = stack.pop()
        if id(parser) in seen:
            continue
        seen.add(id(parser))
        if not any("--workspace" in a.option_strings for a in parser._actions):
            parser.add_argument("--workspace", "-w", metavar="DIR", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack.extend(action.choices.values())


def _version() -> str:
    from promptbench._version import __version__

    return f"promptbench {__version__}"


def main(argv: list[str] | None = None) -> int:
    ending = _EndWithoutTeardown() if argv is None else None  # first registered: its callback runs last
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = _run_app
    code = _run(handler, args)
    if ending is not None and handler is not _run_app:
        ending.code = code
    return code


class _EndWithoutTeardown:
    """A headless command run as the process (``promptbench ...``, not ``main([...])`` from
    Python) ends as soon as the atexit callbacks registered while it ran are done: with its
    exit code and flushed stdout/stderr, but without Python's teardown of every module and
    object, ~50-100 ms of a CLI run here (the ``atexit.register(os._exit, 0)`` Instagram's
    servers use). Everything of ours is closed by then; nothing registered an atexit
    callback before ``main`` started (checked in tests/core/test_cli_startup.py). Not under
    a tracer or coverage, whose own callbacks must run."""

    def __init__(self) -> None:
        self.code: int | None = None  # set once the command returned
        atexit.register(self._end)

    def _end(self) -> None:
        if self.code is None or sys.gettrace() is not None or "coverage" in sys.modules:
            return
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe: what was written is all there is
                pass
        os._exit(self.code)


def _run(handler, args: argparse.Namespace) -> int:
    try:
        return int(handler(args) or 0)
    except PromptbenchError as exc:
        print(f"promptbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("promptbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: still one line, with where to look
        from promptbench.core.applog import write_crash_report
        from promptbench.core.redaction import redact

        command = " ".join(["promptbench", *filter(None, [getattr(args, "command", None)])])
        report = write_crash_report(exc, f"running `{command}`")
        where = f"details in {report}" if report else "run with PROMPTBENCH_DEBUG=1 for the traceback"
        print(f"promptbench: internal error: {type(exc).__name__}: {redact(str(exc))} (please report this; {where})", file=sys.stderr)
        if os.environ.get("PROMPTBENCH_DEBUG"):
            raise
        return 3


def _run_app(args: argparse.Namespace) -> int:
    from promptbench.gui.app import run_app

    return run_app(Path(args.workspace).expanduser() if args.workspace else None)


def gui_main() -> int:
    return main(["app", *sys.argv[1:]])
