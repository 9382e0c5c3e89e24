"""Typed events the engine emits while it streams. Every event carries its run id.

Fronts subscribe to these and nothing else: the CLI prints them, the GUI bridges
them into one queued Qt signal. Timestamps are ``time.perf_counter_ns()`` taken as
close to the socket read as the transport allows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RunMetrics:
    ttft_ms: float | None = None          # request sent -> first non-empty content read off the wire
    tokens_per_s: float | None = None     # output tokens / generation time (first token -> last token)
    itl_p50_ms: float | None = None       # inter-token (inter-chunk) latency
    itl_p95_ms: float | None = None
    total_ms: float | None = None         # request sent -> stream ended
    input_tokens: int | None = None
    input_tokens_reported: bool = False   # True: the provider's (or the local model's own tokenizer's) count
    output_tokens: int = 0
    tokens_reported: bool = False         # False: estimated with tiktoken while streaming
    cost_usd: float | None = None
    cost_note: str | None = None          # why cost is None (unknown price), or where the price came from
    retries: int = 0
    finish_reason: str | None = None
    # Local models: the wait for a free slot of the model's server (before the request is
    # sent, so outside TTFT), and what llama-server itself measured for this request.
    queue_ms: float | None = None
    server_prompt_ms: float | None = None            # prompt processing, inside TTFT
    server_prompt_tokens_per_s: float | None = None
    server_decode_tokens_per_s: float | None = None
    server_cached_tokens: int | None = None          # prompt tokens taken from the slot's cache

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    comparison_id: str
    model_name: str
    t_ns: int
    input_tokens: int | None = None           # estimated before sending; replaced by reported usage
    usd_per_input_token: float | None = None  # None: price unknown; fronts count cost up live with these
    usd_per_output_token: float | None = None


@dataclass(frozen=True)
class RequestSent:
    run_id: str
    t_ns: int          # when the request went out (each attempt sends one)
    attempt: int = 0   # 0 for the first try, then 1, 2, ... for retries


@dataclass(frozen=True)
class FirstToken:
    run_id: str
    t_ns: int
    ttft_ms: float


@dataclass(frozen=True)
class TextDelta:
    run_id: str
    text: str
    t_ns: int
    output_tokens: int            # running count, estimated until the provider reports usage
    tokens_reported: bool = False


@dataclass(frozen=True)
class UsageReported:
    run_id: str
    input_tokens: int | None
    output_tokens: int | None


@dataclass(frozen=True)
class Retrying:
    run_id: str
    attempt: int
    wait_s: float
    reason: str
    # True when the text streamed so far is dropped: the answer starts again from its
    # first token (a local model's server died mid-answer and was restarted).
    discard_output: bool = False


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    output: str
    metrics: RunMetrics
    comparison_id: str | None = None
    t_ns: int = 0      # when the run ended (perf_counter_ns, like every event's time)
    # Per generated token when the request asked for them (``logprobs: true`` in its
    # params; local models and OpenAI-compatible servers): {"token", "logprob",
    # "top_logprobs": [{"token", "logprob"}, ...]}, natural logs.
    logprobs: tuple = ()


@dataclass(frozen=True)
class RunFailed:
    run_id: str
    error_class: str   # auth rate_limit timeout connection bad_request server content_filter unknown
    message: str       # the provider's message, keys redacted
    output: str        # partial output kept
    metrics: RunMetrics = field(default_factory=RunMetrics)
    comparison_id: str | None = None
    t_ns: int = 0


@dataclass(frozen=True)
class RunCancelled:
    run_id: str
    output: str
    metrics: RunMetrics = field(default_factory=RunMetrics)
    comparison_id: str | None = None
    t_ns: int = 0


@dataclass(frozen=True)
class ComparisonFinished:
    comparison_id: str


TERMINAL = (RunFinished, RunFailed, RunCancelled)
# The status a run that ended this way is stored with (core/db/runs.RUN_STATUSES) and
# that JSON output reports; a person reads "done" for "finished" (core/engine/live_run.py).
END_STATUS = {RunFinished: "finished", RunFailed: "error", RunCancelled: "cancelled"}
