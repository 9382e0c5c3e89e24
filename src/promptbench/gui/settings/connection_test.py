"""Test a model's connection: one tiny completion through the engine, off the GUI thread.

The request goes through ``services.engine()`` like any comparison (so keys, api_base,
retries and timeouts are exactly what a real run uses); it is started on the GUI thread
and its run id is known before the bridge delivers its events. When the key is known to be
missing (its environment variable is unset, its keyring entry is absent, there is no
keyring) the test says so at once: no request is sent and no run is stored.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from promptbench.core.engine import events as ev
from promptbench.core.settings.config import ModelConfig
from promptbench.core.redaction import redact
from promptbench.core.settings.secrets import key_status, keyring_available
from promptbench.gui.settings.common import guarded

TEST_MESSAGES = [{"role": "user", "content": "Say OK."}]
TEST_PARAMS = {"max_tokens": 5}


class ConnectionTester(QObject):
    test_finished = Signal(str, bool, str)  # model name, ok, what to show (redacted)

    def __init__(self, services, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self._starting: dict[int, str] = {}  # start number -> model name, until its run id is known
        self._runs: dict[str, str] = {}  # run id -> model name
        self._next = 0
        self._ttft: dict[str, float] = {}
        services.bridge.events_arrived.connect(self._on_events_arrived)

    def start(self, cfg: ModelConfig) -> None:
        self._next += 1
        start = self._next
        self._starting[start] = cfg.name
        services = self.services

        def prepare():
            missing = missing_key_text(cfg)  # keyring look-ups may talk to D-Bus: here, off the GUI thread
            if missing:
                return missing, None
            from promptbench.core.engine.engine import ComparisonRequest

            services.engine()  # the first call imports and starts it: not on the GUI thread
            return None, ComparisonRequest(messages=list(TEST_MESSAGES), models=[cfg], params=dict(TEST_PARAMS),
                                           local_mode=services.settings().local_mode, kind="connection_test")

        services.tasks.run(prepare, on_done=guarded(self, lambda result: self._on_prepared(start, *result)),
                           on_error=guarded(self, lambda exc: self._on_start_failed(start, exc)))

    def is_running(self, name: str) -> bool:
        return name in self._starting.values() or name in self._runs.values()

    def cancel_all(self) -> None:
        """Cancel the tests still running (the dialog closes); their results are dropped."""
        if self.services.has_engine():
            for run_id in list(self._runs):
                self.services.engine().cancel(run_id)
        self._starting.clear()
        self._runs.clear()

    # -- results -------------------------------------------------------------------------------
    def _on_prepared(self, start: int, missing: str | None, request) -> None:
        name = self._starting.pop(start, None)
        if name is None:
            return  # cancelled while preparing
        if missing is not None:
            self.test_finished.emit(name, False, missing)
            return
        try:
            comparison = self.services.engine().compare(request)
        except Exception as exc:  # noqa: BLE001 - the engine is shutting down
            self.test_finished.emit(name, False, redact(f"{type(exc).__name__}: {exc}"))
            return
        self._runs[comparison.run_ids[0]] = name  # its events tell the rest

    def _on_start_failed(self, start: int, exc: Exception) -> None:
        name = self._starting.pop(start, None)
        if name is not None:
            self.test_finished.emit(name, False, redact(f"{type(exc).__name__}: {exc}"))

    def _on_events_arrived(self, events: list) -> None:
        for event in events:
            name = self._runs.get(getattr(event, "run_id", None))
            if name is None:
                continue
            if isinstance(event, ev.FirstToken):
                self._ttft[event.run_id] = event.ttft_ms
            elif isinstance(event, ev.RunFinished):
                self._finish(event.run_id, True, _ok_text(event.metrics.ttft_ms or self._ttft.get(event.run_id), event.output))
            elif isinstance(event, ev.RunFailed):
                self._finish(event.run_id, False, f"{event.error_class}: {redact(event.message)}")
            elif isinstance(event, ev.RunCancelled):
                self._finish(event.run_id, False, "cancelled")

    def _finish(self, run_id: str, ok: bool, text: str) -> None:
        name = self._runs.pop(run_id)
        self._ttft.pop(run_id, None)
        self.test_finished.emit(name, ok, text)


def missing_key_text(cfg: ModelConfig) -> str | None:
    """What to say instead of testing when ``cfg`` needs a key that is not there; None to test.

    A model with no key source (a custom server that may need none) is tested."""
    status = key_status(cfg)
    source = status.get("source") or ""
    if status.get("available") or not source:
        return None
    has_keyring = keyring_available()
    if source.startswith("env:"):
        env = source[len("env:"):]
        return f"No key: set {env} (environment) or store a key" if has_keyring else \
            f"No key: set {env} (environment); this system has no keyring"
    if not has_keyring:
        return "No key: this system has no keyring; use an environment variable"
    return f"No key: store a key for {source[len('keyring:'):]} (paste it below) or use an environment variable"


def _ok_text(ttft_ms: float | None, output: str) -> str:
    answer = " ".join(output.split())[:40]
    said = f" · answered “{answer}”" if answer else " · no text in the answer"
    ttft = f"first token after {ttft_ms:.0f} ms" if ttft_ms is not None else "no first-token time"
    return f"OK · {ttft}{said}"
