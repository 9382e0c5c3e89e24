"""The patterns of ``[workspace] prompt_globs``: which more files a workspace lists as prompts.

A pattern is written from the workspace root with forward slashes: ``**`` is any number
of folders (also none), ``*`` and ``?`` stay within one name, ``[abc]`` is a character
class. :func:`glob_problem` says why a pattern cannot be used (settings refuse it);
:func:`glob_regex` is what the store matches paths with (core/store/paths.py).
"""

from __future__ import annotations

import re


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a workspace glob (``[workspace] prompt_globs``), or None."""
    if not pattern.strip():
        return "an empty pattern matches nothing; remove it"
    if pattern.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", pattern):
        return f"{pattern!r} is not relative to the workspace; write it from the workspace root, e.g. \"evals/*.yml\""
    if ".." in re.split(r"[/\\]", pattern):
        return f"{pattern!r} leads out of the workspace ('..'); prompts are listed from inside it only"
    try:
        glob_regex(pattern)
    except re.error:
        return f"{pattern!r} is not a valid pattern (a [...] class?); use *, ** and ? only"
    return None


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A workspace glob over posix paths relative to the root: ``**`` is any number of folders
    (also none), ``*`` and ``?`` stay within one name, ``[abc]`` is a character class."""
    parts = pattern.strip("/").split("/")
    out = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            out += ".*" if last else "(?:[^/]+/)*"
        else:
            out += _glob_part(part) + ("" if last else "/")
    return re.compile(out + r"\Z")


def _glob_part(part: str) -> str:
    out, i = "", 0
    while i < len(part):
        ch = part[i]
        close = part.find("]", i + 2) if ch == "[" else -1
        if ch == "*":
            out += "[^/]*"
            while i + 1 < len(part) and part[i + 1] == "*":
                i += 1
        elif ch == "?":
            out += "[^/]"
        elif close != -1:
            body = part[i + 1:close]
            out += "[" + ("^" + body[1:] if body[0] in "!^" else body).replace("\\", "\\\\") + "]"
            i = close
        else:
            out += re.escape(ch)
        i += 1
    return out
