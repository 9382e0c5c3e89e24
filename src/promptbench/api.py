"""The public Python API: open a workspace, read, edit and version prompts, run comparisons.

Scripts and other tools use this (``import promptbench``); everything else in the package
is internal and may move. A :class:`Workspace` is the same :class:`Workbench` the app and
the CLI use, opened lazily: reading or saving a prompt imports no engine and starts no
model server; the first :meth:`Workspace.compare` does. Errors are
:class:`promptbench.PromptbenchError` subclasses whose message says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING

from promptbench.core.errors import PromptbenchError
from promptbench.core.workbench import Workbench

if TYPE_CHECKING:
    from promptbench.core.prompts.promptfile import PromptFile
    from promptbench.core.store.history import Version
    from promptbench.core.store.promptstore import PromptStore, RollbackResult


@dataclass
class ComparisonResult:
    """A finished comparison: one run per model, in the order the models were given.

    Each run is the row stored in the workspace's run database: ``id``, ``model_name``,
    ``status`` ("finished", "error", "cancelled"), ``output``, ``input_tokens``,
    ``output_tokens``, ``tokens_reported`` (False: counted locally), ``ttft_ms``,
    ``tokens_per_s``, ``total_ms``, ``cost_usd``, ``error_class``, ``error``, ...
    """

    id: str
    prompt: str                  # the prompt's path in the workspace
    prompt_version: str          # the commit it ran at ("draft:<sha1>" for uncommitted edits)
    test_case: int | None
    runs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every run finished."""
        return bool(self.runs) and all(r["status"] == "finished" for r in self.runs)


class Prompts:
    """The workspace's prompt files, by name ("summarize") or path ("summarize.prompt.yml")."""

    def __init__(self, store: PromptStore):
        self._store = store

    def list(self) -> list[str]:
        """The prompt files' paths, relative to the workspace."""
        return self._store.list_prompts()

    def path(self, name: str) -> str:
        """The workspace-relative path *name* stands for."""
        return self._store.resolve(name)

    def read(self, name: str, rev: str | None = None) -> PromptFile:
        """The prompt as on disk, or as of *rev* (a commit, "~1" for the version before the
        last, or a label). Edit it with its setters (``set_message``, ``set_model_parameter``,
        ``set_field``, ``set_test_case``, ``set([...path], value)``) and :meth:`save` it: only
        the lines of what changed change in the file."""
        from promptbench.core.prompts.promptfile import parse_prompt_bytes

        rel = self._store.resolve(name)
        if rev is None:
            return self._store.read(rel)
        return parse_prompt_bytes(self._store.read_at(rel, rev), f"{rel}@{rev}")

    def save(self, name: str, prompt: PromptFile | str | bytes, message: str | None = None) -> Version | None:
        """Write the prompt and commit it; returns the new version, or None when the content
        did not change (no commit is made). Without *message* the commit says what changed."""
        return self._store.save(self._store.resolve(name), prompt, message)

    def history(self, name: str) -> list[Version]:
        """The prompt's committed versions, newest first (``sha``, ``short``, ``subject``,
        ``date``, ``author``, ``labels``, ``path``)."""
        return self._store.history(self._store.resolve(name))

    def rollback(self, name: str, rev: str, message: str | None = None) -> RollbackResult:
        """Make *rev* the current content again, as a new commit (history is kept; uncommitted
        edits are committed first as a snapshot). Returns ``.version`` (None when the file
        already had that content) and ``.snapshot``."""
        return self._store.rollback(self._store.resolve(name), rev, message)


class Workspace:
    """A promptbench workspace: a folder in a git repository.

    >>> with promptbench.Workspace("path/to/repo") as ws:
    ...     p = ws.prompts.read("summarize")
    ...     p.set_model_parameter("temperature", 0.5)
    ...     ws.prompts.save("summarize", p, message="Warmer")
    """

    def __init__(self, path: str | PathLike[str]):
        self.workbench = Workbench(path)
        self.prompts = Prompts(self.workbench.store)

    @property
    def root(self):
        """The workspace folder (a pathlib.Path)."""
        return self.workbench.store.root

    def compare(self, prompt: str, models: list[str] | None = None, *, test: int | None = None,
                variables: dict[str, str] | None = None, timeout: float | None = None) -> ComparisonResult:
        """Run the prompt (the file on disk) on every model at once, wait, and return the runs.

        *models* are catalog names, ``local/<id>`` or litellm model strings (default: the
        workspace's ``default_models``); *test* is the 0-based index of a test case (the
        app's "Test case 1" is ``test=0``), as with ``promptbench compare --test``;
        *variables* set or override template values. A model that fails makes a run with
        ``status="error"``, not an exception. After *timeout* seconds the runs are cancelled.
        """
        from promptbench.core.engine.requests import build_request, resolve_models

        wb = self.workbench
        rel = wb.store.resolve(prompt)
        settings = wb.settings()
        request = build_request(wb.store, rel, wb.store.read(rel), resolve_models(settings, models),
                                settings=settings, test_case=test, values=variables)
        engine = wb.engine()
        comparison = engine.compare(request)
        try:
            if not comparison.wait(timeout):
                comparison.cancel()
                comparison.wait(30)
        except KeyboardInterrupt:
            comparison.cancel()
            comparison.wait(10)
            raise
        order = {run_id: i for i, run_id in enumerate(comparison.run_ids)}
        runs = sorted(self.comparison(comparison.id)["runs"], key=lambda r: order.get(r["id"], len(order)))
        return ComparisonResult(comparison.id, rel, request.prompt_version, test, runs)

    def score(self, prompt: str, text: str, model: str = "local/smollm2-135m-instruct", *, test: int | None = None,
              variables: dict[str, str] | None = None) -> dict:
        """How likely *text* is as *model*'s answer to the prompt (rendered as :meth:`compare`
        renders it): ``perplexity``, ``total_logprob``, ``text_tokens``, ``prompt_tokens`` and
        ``tokens`` (each with ``id``, ``token``, ``logprob``, natural logs). Local models only:
        hosted APIs report log-probabilities only of what they generate themselves.
        """
        from promptbench.core.engine.requests import build_request, resolve_models
        from promptbench.core.providers.errorclass import ProviderError

        wb = self.workbench
        rel = wb.store.resolve(prompt)
        settings = wb.settings()
        (config,) = resolve_models(settings, [model])
        request = build_request(wb.store, rel, wb.store.read(rel), [config], settings=settings, test_case=test,
                                values=variables)
        try:
            return wb.engine().score_text(config, request.messages, text).to_json()
        except ProviderError as exc:
            raise PromptbenchError(exc.message) from None

    def comparison(self, comparison_id: str) -> dict:
        """A stored comparison (``prompt_path``, ``prompt_version``, ``test_case``, ``models``,
        ``created_at``, ``runs``) as the run database holds it, also from an earlier session."""
        runs = self.workbench.runs()
        runs.flush()
        found = runs.get_comparison(comparison_id)
        if found is None:
            raise PromptbenchError(f"no comparison {comparison_id!r} in {runs.path}")
        return found

    def close(self) -> None:
        """Cancel what still runs, stop local model servers, flush the database, end git helpers."""
        self.workbench.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"promptbench.Workspace({str(self.root)!r})"
