"""Reading and checking a prompt's text for the editor (plain Python: runs in tasks)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from promptbench.core.store.drafts import Draft, DraftStore, blob_sha
from promptbench.core.errors import Problem, PromptFileError, StoreError
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt_bytes
from promptbench.core.store.promptstore import Fingerprint, PromptStore


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
    blob: str | None = None          # git blob id of the bytes read (None: no file)
    draft: Draft | None = None       # unsaved edits recovered for this prompt, when they differ from the file
    missing: bool = False            # the file is gone; only its draft is left


def check_text(text: str, rel: str) -> Checked:
    """Parse and validate *text* exactly as a save would (size limit included)."""
    try:
        prompt = parse_prompt_bytes(text.encode("utf-8", errors="surrogatepass"), rel)
    except PromptFileError as exc:
        return Checked(None, list(exc.problems))
    return Checked(prompt, [], list(prompt.warnings))


def read_for_edit(store: PromptStore, rel: str, drafts: DraftStore | None = None) -> Loaded:
    """The file's text and the fingerprint of exactly those bytes (retried if it changes
    between the two reads), its check, and this instance's draft of it if that differs.
    A file that is not UTF-8 is shown decoded with replacement characters and a problem
    saying so. A file that is gone but has a draft opens as that draft (``missing``)."""
    draft = drafts.get(rel) if drafts is not None else None
    for _attempt in range(3):
        fingerprint = store.fingerprint(rel)
        try:
            data = store.read_bytes(rel)
        except StoreError:
            if draft is None or store.path(rel).exists():
                raise
            return Loaded(rel, "", None, Checked(None), None, draft, missing=True)
        if fingerprint is None or fingerprint.sha1 == hashlib.sha1(data).hexdigest():
            break
    if draft is not None and not draft.differs_from(data):
        drafts.remove(rel)  # it holds what the file holds: nothing to recover
        draft = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        problem = Problem(rel, None, "", "not a UTF-8 text file: shown with replacement characters; saving writes UTF-8")
        return Loaded(rel, text, fingerprint, Checked(None, [problem]), blob_sha(data), draft)
    return Loaded(rel, text, fingerprint, check_text(text, rel), blob_sha(data), draft)
