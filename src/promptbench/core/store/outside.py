"""Prompt files outside the workspace, named explicitly (``promptbench eval FILE``, as
``gh models eval FILE`` works on any file anywhere).

Such a file is read, never written: nothing is put next to it or in its folder. It stands
for itself by its absolute path, which is also the prompt path its runs are stored with;
it is not in the workspace's git, so its version is always a ``draft:<sha1>`` of its bytes.
Any file name is accepted (gh's own examples are ``*_prompt.yml``).
"""

from __future__ import annotations

import os
from pathlib import Path

from promptbench.core.errors import StoreError


def given_path(name: str | os.PathLike[str]) -> Path:
    """``name`` as typed, made absolute from the current directory (``~`` expanded, no symlink followed)."""
    return Path(os.path.abspath(Path(name).expanduser()))


def is_outside(root: Path, name: str | os.PathLike[str]) -> bool:
    """True when ``name`` points out of the workspace ``root``, as written and once symlinks are followed."""
    path = given_path(name)
    if path.is_relative_to(Path(root).absolute()):
        return False  # inside as written: the workspace's own rules apply (symlinks out are refused there)
    return not path.resolve().is_relative_to(Path(root).resolve())


class OutsideFiles:
    """The outside files one PromptStore was asked to read, by absolute posix path."""

    def __init__(self, root: Path):
        self.root = root
        self._paths: set[str] = set()

    def __contains__(self, rel: object) -> bool:
        return rel in self._paths

    def open(self, name: str | os.PathLike[str]) -> str | None:
        """Accept ``name`` if it is an existing file outside the workspace and return its absolute path;
        None if it is inside the workspace or does not exist (the workspace's resolution then decides)."""
        path = given_path(name)
        if not path.exists() or not is_outside(self.root, path):
            return None
        real = path.resolve()
        if real.is_dir():
            raise StoreError(f"{name}: is a folder, not a prompt file; give the path of a .yml file in it")
        if not real.is_file():
            raise StoreError(f"{name}: not a regular file; give a prompt file")
        if not os.access(real, os.R_OK):
            raise StoreError(f"{name}: permission denied reading the file")
        rel = real.as_posix()
        self._paths.add(rel)
        return rel

    def lookup(self, name: str | os.PathLike[str]) -> str | None:
        """The absolute path of an opened outside file that ``name`` (as typed, or absolute) names."""
        if str(name) in self._paths:
            return str(name)
        path = given_path(name)
        rel = path.resolve().as_posix() if path.exists() else None
        return rel if rel in self._paths else None

    def read_bytes(self, rel: str) -> bytes:
        try:
            return Path(rel).read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{rel}: no such file (it was there when promptbench started)") from None
        except IsADirectoryError:
            raise StoreError(f"{rel}: is a folder, not a prompt file") from None
        except PermissionError:
            raise StoreError(f"{rel}: permission denied reading the file") from None

    @staticmethod
    def refuse(rel: str, what: str) -> StoreError:
        return StoreError(f"{rel}: outside the workspace (read-only, not in its git): {what}")
