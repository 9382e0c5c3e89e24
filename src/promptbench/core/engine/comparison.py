"""What ``Engine.compare()`` hands back, and who hears the engine's events.

A :class:`Comparison` is a started comparison: its id and its run ids (one per model,
in the request's order) exist before its first event, so a front binds them to what it
shows before anything can arrive. Listeners hear either every event
(``engine.subscribe(fn)``) or one comparison's (``engine.compare(request, listener=fn)``,
subscribed before the comparison starts and dropped after its ``ComparisonFinished``).
Listeners run on the engine thread and must be quick; one that raises is logged and
does not stop the others or the stream.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol

from promptbench.core.settings.config import ModelConfig

log = logging.getLogger(__name__)

Listener = Callable[[object], None]


@dataclass
class ComparisonRequest:
    """What to run: the messages, the models (one run each) and where they came from."""

    messages: list[dict]
    models: list[ModelConfig]
    params: dict = field(default_factory=dict)      # OpenAI-style, from the prompt file
    prompt_path: str | None = None
    prompt_version: str | None = None                # git sha, or "draft:<sha1>"
    test_case: int | None = None
    variables: dict = field(default_factory=dict)
    local_mode: str = "sequential"                   # or "parallel"
    comparison_id: str | None = None
    kind: str = "comparison"                         # RUN_KINDS (core/engine/run_kinds.py): what the runs are for


class _Canceller(Protocol):
    def cancel_all(self, comparison_id: str | None = None) -> None: ...


@dataclass(eq=False)
class Comparison:
    id: str
    run_ids: tuple[str, ...]
    request: ComparisonRequest
    _engine: _Canceller = field(repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def done(self) -> bool:
        """Every run of it has ended (its ComparisonFinished was emitted)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every run ended; False if ``timeout`` passed first."""
        return self._done.wait(timeout)

    def mark_finished(self) -> None:
        """Called by the engine after the comparison's ComparisonFinished reached its listeners."""
        self._done.set()

    def cancel(self) -> None:
        """Cancel the runs still going; each ends with a RunCancelled."""
        self._engine.cancel_all(self.id)

    def run_for(self, model_name: str) -> str | None:
        """The run id of the first model of this name."""
        for model, run_id in zip(self.request.models, self.run_ids):
            if model.name == model_name:
                return run_id
        return None


class Listeners:
    """Thread-safe listener lists: ``add``/``remove`` from any thread; ``emit`` (the engine
    thread) reads immutable tuples and takes no lock."""

    def __init__(self, *initial: Listener):
        self._lock = threading.Lock()
        self._all: tuple[Listener, ...] = tuple(fn for fn in initial if fn is not None)
        self._by_comparison: dict[str, tuple[Listener, ...]] = {}

    def add(self, fn: Listener, comparison_id: str | None = None) -> None:
        with self._lock:
            if comparison_id is None:
                self._all = (*self._all, fn)
            else:
                self._by_comparison[comparison_id] = (*self._by_comparison.get(comparison_id, ()), fn)

    def remove(self, fn: Listener, comparison_id: str | None = None) -> None:
        with self._lock:
            if comparison_id is None:
                self._all = _without(self._all, fn)
            elif comparison_id in self._by_comparison:
                left = _without(self._by_comparison[comparison_id], fn)
                if left:
                    self._by_comparison[comparison_id] = left
                else:
                    del self._by_comparison[comparison_id]

    def drop(self, comparison_id: str) -> None:
        """Forget a comparison's listeners (it finished)."""
        with self._lock:
            self._by_comparison.pop(comparison_id, None)

    def emit(self, event, comparison_id: str | None) -> None:
        """Every listener of ``event``, in the order added (once per streamed chunk: kept lean)."""
        listeners = self._all
        if comparison_id is not None:
            own = self._by_comparison.get(comparison_id)
            if own:
                listeners = listeners + own
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - one broken listener must not starve the others or the stream
                log.exception("event listener %r failed", fn)


def _without(listeners: tuple[Listener, ...], fn: Listener) -> tuple[Listener, ...]:
    items = list(listeners)
    if fn in items:
        items.remove(fn)
    return tuple(items)

