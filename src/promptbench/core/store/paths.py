"""Which prompt paths a workspace accepts.

A prompt path is always relative to the workspace root, uses forward slashes, ends
in ``.prompt.yml`` or ``.prompt.yaml`` and is a valid file name on Linux, Windows
and macOS, so a workspace can be cloned anywhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from promptbench.core.errors import StoreError
from promptbench.core.settings.globs import glob_regex

PROMPT_SUFFIXES = (".prompt.yml", ".prompt.yaml")
PRIVATE_DIRS = {".git", ".promptbench"}
SKIPPED_DIRS = PRIVATE_DIRS | {".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache"}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                     *(f"{dev}{d}" for dev in ("COM", "LPT") for d in "123456789\u00b9\u00b2\u00b3")}
_INVALID_CHARS = re.compile(r'[<>:"|?*\\\x00-\x1f\x7f]')


def is_prompt_name(name: str) -> bool:
    return name.endswith(PROMPT_SUFFIXES) and len(name) > len(".prompt.yml")


def check_component(part: str, shown: str) -> None:
    if part in ("", ".", ".."):
        raise StoreError(f"{shown}: '..' and empty path parts are not allowed; give a path inside the workspace")
    bad = _INVALID_CHARS.search(part)
    if bad:
        raise StoreError(f"{shown}: the character {bad.group()!r} is not allowed in file names on Windows/macOS; rename it")
    if part.endswith((" ", ".")):
        raise StoreError(f"{shown}: a name may not end with a space or a dot (invalid on Windows); rename it")
    if part.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise StoreError(f"{shown}: {part!r} is a reserved device name on Windows; choose another name")
    if len(part.encode()) > 255:
        raise StoreError(f"{shown}: a path part is longer than 255 bytes; choose a shorter name")


def _existing_yaml(root: Path, parts: tuple[str, ...]) -> bool:
    """A YAML file that exists, named explicitly: `gh models eval FILE` takes any name
    (its own examples are *_prompt.yml), so promptbench opens it too; it is not listed
    with the workspace's prompts, and new prompts still get a .prompt.yml name."""
    return parts[-1].endswith((".yml", ".yaml")) and (root.joinpath(*parts)).is_file()


def normalize_prompt_path(root: Path, path: str | os.PathLike[str]) -> str:
    """Return the workspace-relative posix path for ``path`` or raise StoreError.

    Refuses absolute paths outside the workspace, ``..``, names that are invalid on
    other systems, private folders, and symlinks that lead out of the workspace.
    """
    shown = str(path)
    raw = Path(path)
    if raw.is_absolute():
        try:
            raw = raw.relative_to(root)
        except ValueError:
            try:
                raw = raw.resolve().relative_to(root.resolve())
            except ValueError:
                raise StoreError(f"{shown}: path is outside the workspace {root}; prompts must live inside it") from None
    text = str(raw)
    if text.startswith("/"):
        raise StoreError(f"{shown}: path is outside the workspace {root}")
    parts = PurePosixPath(text).parts
    if not parts:
        raise StoreError(f"{shown!r}: empty path; give a prompt file name ending in .prompt.yml")
    for part in text.split("/"):
        check_component(part, shown)
    private = next((p for p in parts[:-1] if p.casefold() in PRIVATE_DIRS), None)
    if private is not None:  # at any depth, and .Git is .git on macOS and Windows
        raise StoreError(f"{shown}: {private}/ is private to git/promptbench; put prompts elsewhere in the workspace")
    if not is_prompt_name(parts[-1]) and not _existing_yaml(root, parts):
        raise StoreError(f"{shown}: prompt files must end in .prompt.yml or .prompt.yaml")
    rel = "/".join(parts)
    _refuse_escaping_symlinks(root, rel, shown)
    return rel


def _refuse_escaping_symlinks(root: Path, rel: str, shown: str) -> None:
    real_root = root.resolve()
    current = root
    parts = rel.split("/")
    for depth, part in enumerate(parts):
        current = current / part
        if current.is_symlink():
            target = current.resolve()
            if target != real_root and real_root not in target.parents:
                raise StoreError(f"{shown}: {current.relative_to(root)} is a symlink leading out of the workspace; refusing to follow it")
            if depth < len(parts) - 1:  # git does not follow symlinked folders either
                raise StoreError(f"{shown}: {current.relative_to(root)} is a symlinked folder; save the prompt at its real path")


def iter_prompt_files(root: Path, globs: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Every prompt file under ``root`` (sorted, workspace-relative), skipping private folders:
    ``*.prompt.yml|yaml``, and the .yml/.yaml files ``globs`` match ([workspace] prompt_globs)."""
    matchers = [glob_regex(g) for g in globs]
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS and not d.startswith("."))
        base = Path(dirpath)
        for name in sorted(filenames):
            rel = (base / name).relative_to(root).as_posix()
            if is_prompt_name(name) or (name.endswith((".yml", ".yaml")) and any(m.match(rel) for m in matchers)):
                full = base / name
                if full.is_symlink():
                    target = full.resolve()
                    if root.resolve() not in target.parents:
                        continue
                found.append(rel)
    return found
