"""Reading and checking a prompt's text for the editor (plain Python: runs in tasks)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from promptbench.core.errors import Problem, PromptFileError
from promptbench.core.promptfile import PromptFile, parse_prompt_bytes
from promptbench.core.store import Fingerprint, PromptStore


@dataclass
class Checked:
    """A text's parse: the prompt when valid, else None, with what is wrong."""

    prompt: PromptFile | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class Loaded:
    rel: str
    text: str
    fingerprint: Fingerprint | None
    checked: Checked


def check_text(text: str, rel: str) -> Checked:
    """Parse and validate *text* exactly as a save would (size limit included)."""
    try:
        prompt = parse_prompt_bytes(text.encode("utf-8", errors="surrogatepass"), rel)
    except PromptFileError as exc:
        return Checked(None, list(exc.problems))
    return Checked(prompt, [], list(prompt.warnings))


def read_for_edit(store: PromptStore, rel: str) -> Loaded:
    """The file's text and the fingerprint of exactly those bytes (retried if it changes
    between the two reads), and its check. A file that is not UTF-8 is shown decoded
    with replacement characters and a problem saying so."""
    for _attempt in range(3):
        fingerprint = store.fingerprint(rel)
        data = store.read_bytes(rel)
        if fingerprint is None or fingerprint.sha1 == hashlib.sha1(data).hexdigest():
            break
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        problem = Problem(rel, None, "", "not a UTF-8 text file: shown with replacement characters; saving writes UTF-8")
        return Loaded(rel, text, fingerprint, Checked(None, [problem]))
    return Loaded(rel, text, fingerprint, check_text(text, rel))
