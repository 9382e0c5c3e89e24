"""Which pane each engine event feeds (plain Python, no Qt).

Every event carries its run id; a run id maps to the pane currently showing it.
Events of runs no longer shown (replaced or re-run) find no pane and are dropped.
``engine.compare()`` is called on the GUI thread and its run ids are bound at once,
before the bridge (which delivers on the GUI thread) can hand over any of its events.
"""

from __future__ import annotations

from promptbench.core.engine import events as ev


class Launch:
    """One ``engine.compare()`` call: the panes it feeds, in model order."""

    def __init__(self, panes: list, full: bool):
        self.panes = list(panes)
        self.full = full  # a whole comparison (True) or one pane's re-run


class EventRouter:
    def __init__(self):
        self._panes: dict[str, object] = {}
        self._comparisons: set[str] = set()
        self.inflight = 0  # launches whose request is still being prepared

    def launching(self) -> None:
        self.inflight += 1

    def launch_failed(self) -> None:
        self.inflight = max(0, self.inflight - 1)

    def launched(self, comparison_id: str, bound: dict[str, object]) -> None:
        """Bind a started comparison's run ids to their panes."""
        self._comparisons.add(comparison_id)
        self._panes.update(bound)
        self.inflight = max(0, self.inflight - 1)

    def unbind(self, run_id: str | None) -> None:
        if run_id:
            self._panes.pop(run_id, None)

    def route(self, batch: list) -> tuple[dict, list[str]]:
        """(pane -> its events in order, comparison ids that finished)."""
        groups: dict[object, list] = {}
        finished: list[str] = []
        for event in batch:
            if isinstance(event, ev.ComparisonFinished):
                if event.comparison_id in self._comparisons:
                    self._comparisons.discard(event.comparison_id)
                    finished.append(event.comparison_id)
                continue
            run_id = getattr(event, "run_id", None)
            pane = self._panes.get(run_id)
            if pane is not None:
                groups.setdefault(pane, []).append(event)
                if isinstance(event, ev.TERMINAL):
                    del self._panes[run_id]
        return groups, finished
