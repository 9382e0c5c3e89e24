"""What a front knows about one run while it streams, built from engine events.

The app's compare panes and the command line's live table both use it, so they read the
same, down to the status words (:func:`shown_status`). The live figures are the engine's
own (core/engine/metrics.py): TTFT from the engine's FirstToken; tokens/s over the
generation phase, ``metrics.tokens_per_second``; cost counted up from
RunStarted's unit prices. Elapsed runs from the first request sent (RequestSent) to the
end (the terminal event's time): live and final agree, through retries too. When the run
ends, the engine's final RunMetrics replace the live figures.
"""

from __future__ import annotations

from dataclasses import fields

from promptbench.core.engine import events as ev
from promptbench.core.engine.events import RunMetrics
from promptbench.core.engine.metrics import tokens_per_second

TERMINAL_STATUSES = ("done", "error", "cancelled", "interrupted")


def shown_status(stored: str) -> str:
    """The word a person reads for a run that ended with the stored status ``stored``
    (``END_STATUS``, the runs table, JSON): "done" for "finished", else the same word."""
    return "done" if stored == "finished" else stored


class LiveRun:
    def __init__(self, model_name: str):
        self.model_name = model_name
        self.status = "queued"
        self.run_id: str | None = None
        self.started_ns: int | None = None   # its turn came (RunStarted)
        self.sent_ns: int | None = None      # the first request went out (RequestSent)
        self.ended_ns: int | None = None     # the terminal event's time
        self.first_ns: int | None = None
        self.last_ns: int | None = None
        self.ttft_ms: float | None = None
        self.output_tokens = 0
        self.tokens_reported = False
        self.input_tokens: int | None = None
        self.input_reported = False
        self.price_in: float | None = None
        self.price_out: float | None = None
        self.retries = 0
        self.retry_note = ""
        self.final: RunMetrics | None = None
        self.error_class: str | None = None
        self.error_message: str | None = None
        self.final_output: str | None = None

    # -- events ------------------------------------------------------------------------
    def apply(self, event) -> str:
        """Update from one event; returns text to append to the output ("" if none)."""
        if isinstance(event, ev.RunStarted):
            self.started_ns = event.t_ns
            self.input_tokens = event.input_tokens
            self.price_in, self.price_out = event.usd_per_input_token, event.usd_per_output_token
            if self.status == "queued":
                self.status = "waiting"
        elif isinstance(event, ev.RequestSent):
            if self.sent_ns is None:
                self.sent_ns = event.t_ns
        elif isinstance(event, ev.FirstToken):
            self.first_ns, self.ttft_ms = event.t_ns, event.ttft_ms
        elif isinstance(event, ev.TextDelta):
            self.status = "streaming"
            self.last_ns = event.t_ns
            if self.first_ns is None:
                self.first_ns = event.t_ns
            if not self.tokens_reported:
                self.output_tokens = event.output_tokens
            return event.text
        elif isinstance(event, ev.UsageReported):
            if event.output_tokens is not None:
                self.output_tokens, self.tokens_reported = event.output_tokens, True
            if event.input_tokens is not None:
                self.input_tokens, self.input_reported = event.input_tokens, True
        elif isinstance(event, ev.Retrying):
            if event.discard_output:  # the answer starts again: nothing of the first try counts
                self.first_ns = self.last_ns = self.ttft_ms = None
                self.output_tokens, self.tokens_reported = 0, False
            self.retries = event.attempt
            self.retry_note = f"retry {event.attempt} in {event.wait_s:.1f} s: {event.reason}"
            self.status = "retrying"
        elif isinstance(event, ev.TERMINAL):
            self._end(event)
        return ""

    def _end(self, event) -> None:
        self.final = event.metrics
        self.ended_ns = event.t_ns or None
        self.final_output = event.output
        self.output_tokens = event.metrics.output_tokens
        self.tokens_reported = event.metrics.tokens_reported
        if event.metrics.input_tokens is not None:
            self.input_tokens = event.metrics.input_tokens
            self.input_reported = event.metrics.input_tokens_reported
        self.retries = max(self.retries, event.metrics.retries)
        if event.metrics.ttft_ms is not None:
            self.ttft_ms = event.metrics.ttft_ms
        self.status = shown_status(ev.END_STATUS[type(event)])
        if isinstance(event, ev.RunFailed):
            self.error_class, self.error_message = event.error_class, event.message

    def load_record(self, run: dict) -> None:
        """A run as the RunStore returns it (read-only panes in the runs view)."""
        known = {f.name for f in fields(RunMetrics)}
        metrics = RunMetrics(**{k: run[k] for k in known if run.get(k) is not None})
        self.final = metrics
        self.run_id = run.get("id")
        self.final_output = run.get("output") or ""
        stored = run.get("status") or "running"
        self.status = "interrupted" if stored == "running" else shown_status(stored)  # a run left running ended with its app
        self.output_tokens, self.tokens_reported = metrics.output_tokens, metrics.tokens_reported
        self.input_tokens, self.input_reported = metrics.input_tokens, metrics.input_tokens_reported
        self.ttft_ms, self.retries = metrics.ttft_ms, metrics.retries
        if self.status in ("error", "interrupted"):
            self.error_class = run.get("error_class") or self.status
            self.error_message = run.get("error") or ("the app closed before this run ended" if self.status == "interrupted" else "")

    # -- figures -----------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def tokens_per_s(self) -> float | None:
        if self.final is not None:
            return self.final.tokens_per_s
        return tokens_per_second(self.output_tokens, self.first_ns, self.last_ns)

    @property
    def cost_usd(self) -> float | None:
        if self.final is not None and (self.final.cost_usd is not None or self.final.cost_note):
            return self.final.cost_usd
        if self.price_in is None or self.price_out is None:
            return None
        return (self.input_tokens or 0) * self.price_in + self.output_tokens * self.price_out

    @property
    def cost_note(self) -> str:
        if self.final is not None and self.final.cost_note:
            return self.final.cost_note
        return "" if self.price_in is not None else "no price known for this model"

    def elapsed_s(self, now_ns: int) -> float | None:
        """Seconds from the first request sent: to now while it runs, to its end after."""
        if self.terminal:
            if self.sent_ns is not None and self.ended_ns is not None:
                return max(0.0, (self.ended_ns - self.sent_ns) / 1e9)
            if self.final is not None and self.final.total_ms is not None:
                return self.final.total_ms / 1000
            return None
        if self.sent_ns is None:
            return None
        return max(0.0, (now_ns - self.sent_ns) / 1e9)

    @property
    def failed(self) -> bool:
        return self.status == "error"
