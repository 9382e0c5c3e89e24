"""What more than one command needs."""

from __future__ import annotations

import argparse
from pathlib import Path


def workspace_dir(args: argparse.Namespace) -> Path:
    """The workspace a command works in: ``--workspace DIR``, else the current directory."""
    return Path(args.workspace).expanduser() if args.workspace else Path.cwd()
