"""Building a comparison request, and the estimate shown before running it.

Both run in tasks: building renders the prompt and asks git for its version; the
estimate counts tokens and looks prices up (pricing may import litellm the first time).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

ESTIMATE_DELAY_MS = 250
LOCAL_RECOUNT_MS = 1000


def build_request(services, source, names: list[str], local_mode: str):
    """The ComparisonRequest for ``source`` (see CompareView.set_source) and model ``names``."""
    from promptbench.core.engine.requests import build_request as build, resolve_models

    rel, content, prompt, test_case, values = source
    settings = services.settings()
    models = resolve_models(settings, names)
    return build(services.store, rel, prompt, models, settings=settings, test_case=test_case,
                 values=values, content=content, local_mode=local_mode)


class Estimator(QObject):
    """Per-model input tokens and max cost in the picker, recomputed (debounced) on change."""

    def __init__(self, services, picker, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.picker = picker
        self.source = None
        self._stopped = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ESTIMATE_DELAY_MS)
        self._timer.timeout.connect(self._estimate)

    def schedule(self) -> None:
        if not self._stopped:
            self._timer.start()

    def stop(self) -> None:
        self._stopped = True
        self._timer.stop()

    def _estimate(self) -> None:
        picker = self.picker
        names = picker.selected_names()
        if self.source is None or not names or not picker.is_loaded():
            picker.show_estimates(None)
            return
        try:
            source = self.source()
        except Exception as exc:  # the editor's text does not parse, etc.
            picker.show_estimates(None, f"No estimate: {exc}")
            return
        if source is None:
            picker.show_estimates(None)
            return
        services, mode = self.services, picker.local_mode()
        local = services.local()

        def work():
            from promptbench.core.engine.requests import estimate

            request = build_request(services, source, names, mode)
            return estimate(request, local), describe(request)
        services.tasks.run(work, on_done=self._on_estimated, on_error=self._on_estimate_failed,
                           key=f"compare.estimate:{id(self)}")

    def _on_estimated(self, result) -> None:
        if not self._stopped:
            rows, what = result
            self.picker.show_estimates(rows, for_what=what)
            if any(r["local"] and not r["input_tokens_exact"] for r in rows) and self.services.local().warming():
                # a local model's server is starting: once it runs, it counts the input exactly
                QTimer.singleShot(LOCAL_RECOUNT_MS, self.schedule)

    def _on_estimate_failed(self, exc: Exception) -> None:
        if not self._stopped:
            self.picker.show_estimates(None, f"No estimate yet: {exc}")


def describe(request) -> str:
    """What a request runs, as the compare header says it: "summarize.prompt.yml · Test case 1"."""
    parts = [request.prompt_path or "this prompt"]
    if request.test_case is not None:
        parts.append(f"Test case {request.test_case + 1}")
    elif request.variables:
        parts.append("typed values")
    return " · ".join(parts)
