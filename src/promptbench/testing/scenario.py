"""What the fake OpenAI server answers: a :class:`Scenario` per model name.

A scenario is plain data (JSON round-trips through :meth:`Scenario.to_dict` /
:meth:`Scenario.from_dict`) so tests in another process can set it over HTTP.
:func:`plan` turns a scenario plus a request body into the content pieces and token
counts one response will use; the server adds timing and faults on top.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

LOREM = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure "
    "dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur."
)

FAULTS = frozenset(
    {
        "status",  # an HTTP error with an OpenAI-style JSON body (status_code, fail_times ...)
        "reset_mid_stream",  # TCP RST after fault_after_chunks content chunks
        "close_mid_stream",  # clean FIN after fault_after_chunks chunks: no finish chunk, no [DONE]
        "stall_before_first_token",  # headers sent, then nothing for stall_s
        "stall_mid_stream",  # stall_s of silence after fault_after_chunks chunks
        "malformed_chunk",  # `data: {not json` after fault_after_chunks chunks; then continue|stop
        "no_done",  # every chunk incl. finish_reason, body ends, but no `data: [DONE]`
        "empty_completion",  # zero content chunks, finish_reason "stop", completion_tokens 0
        "content_filter",  # finish_reason "content_filter" after fault_after_chunks chunks
        "huge",  # a huge_bytes completion in huge_chunk_chars pieces
        "slow_drip",  # the whole HTTP response, one byte per drip_interval_s
        "close_mid_header",  # half of the status line + headers, then FIN
    }
)

# Realistic bodies for status faults: (type, code, message). litellm classifies on these.
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: (
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens. However, your messages "
        "resulted in 9000 tokens. Please reduce the length of the messages.",
    ),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: ("invalid_request_error", "model_not_found", "The model does not exist or you do not have access to it."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in 1s."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}


@dataclass
class Scenario:
    """How the server answers requests for one model name. Every field has a default.

    Content comes from the first that applies: ``echo`` (the last user message),
    ``chunks`` (explicit deltas), ``n_chunks`` x ``chunk_text``, then ``text`` (split into
    word-sized deltas, each keeping its leading space, like tokens).
    """

    text: str = LOREM
    chunks: list[str] | None = None
    n_chunks: int | None = None
    chunk_text: str = " tok"
    echo: bool = False
    first_token_delay_s: float = 0.0  # request received -> role chunk + first content chunk
    chunk_interval_s: float = 0.0  # between content chunks, on an absolute schedule
    prompt_tokens: int | None = None  # None: ~len/4 of the request's messages
    completion_tokens: int | None = None  # None: the number of content chunks sent
    include_usage: bool | None = None  # None: honour stream_options.include_usage
    finish_reason: str = "stop"
    fault: str | None = None  # one of FAULTS
    status_code: int = 500  # fault "status"
    error_message: str | None = None  # None: a realistic message for status_code
    error_type: str | None = None
    error_code: str | None = None
    retry_after: str | None = None  # the Retry-After header value
    fail_times: int | None = None  # fail the first N requests for this model; None: all
    fault_after_chunks: int = 2  # content chunks sent before a mid-stream fault
    stall_s: float = 3600.0  # ends early when the client disconnects or the server stops
    then: str = "stop"  # malformed_chunk: "continue" the stream or "stop" (end the body)
    drip_interval_s: float = 1.0
    huge_bytes: int = 5_000_000
    huge_chunk_chars: int = 1000
    extra_headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}; expected one of {sorted(FAULTS)}")
        if self.then not in ("continue", "stop"):
            raise ValueError(f"then must be 'continue' or 'stop', not {self.then!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown scenario field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    def error_body(self) -> dict[str, Any]:
        etype, code, message = _ERRORS.get(self.status_code, ("server_error", None, "Error."))
        return {
            "error": {
                "message": self.error_message if self.error_message is not None else message,
                "type": self.error_type if self.error_type is not None else etype,
                "param": None,
                "code": self.error_code if self.error_code is not None else code,
            }
        }


@dataclass
class Plan:
    """One response worked out: its content pieces and usage figures."""

    pieces: list[str]
    prompt_tokens: int
    completion_tokens: int | None  # None: count the pieces actually sent
    include_usage: bool
    finish_reason: str

    def usage(self, sent: int) -> dict[str, int]:
        completion = self.completion_tokens if self.completion_tokens is not None else sent
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def split_words(text: str) -> list[str]:
    """Split into token-like pieces that keep their leading whitespace; joins back exactly."""
    return re.findall(r"\s*\S+|\s+$", text)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def request_text(body: dict[str, Any]) -> tuple[str, str]:
    """(all prompt text, the text to echo) of a chat or legacy completions request."""
    if "messages" in body:
        messages = body.get("messages") or []
        texts = [_text_of(m.get("content")) for m in messages if isinstance(m, dict)]
        users = [_text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        return "\n".join(texts), (users[-1] if users else "")
    prompt = body.get("prompt", "")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt and isinstance(prompt[0], str) else ""
    return str(prompt), str(prompt)


def plan(scenario: Scenario, body: dict[str, Any]) -> Plan:
    prompt, echo = request_text(body)
    if scenario.fault == "empty_completion":
        pieces: list[str] = []
    elif scenario.fault == "huge":
        size, step = scenario.huge_bytes, max(1, scenario.huge_chunk_chars)
        filler = (LOREM + " ") * (step // len(LOREM) + 2)
        pieces = [filler[: min(step, size - start)] for start in range(0, size, step)]
    elif scenario.echo:
        pieces = split_words(echo)
    elif scenario.chunks is not None:
        pieces = list(scenario.chunks)
    elif scenario.n_chunks is not None:
        pieces = [scenario.chunk_text] * scenario.n_chunks
    else:
        pieces = split_words(scenario.text)
    if scenario.fault == "content_filter":
        pieces = pieces[: scenario.fault_after_chunks]
    n_messages = len(body.get("messages") or [])
    prompt_tokens = scenario.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = max(1, math.ceil(len(prompt) / 4) + 4 * n_messages + (3 if n_messages else 0))
    completion_tokens = scenario.completion_tokens
    if scenario.fault == "empty_completion":
        completion_tokens = 0
    include = scenario.include_usage
    if include is None:
        include = bool((body.get("stream_options") or {}).get("include_usage"))
    finish = "content_filter" if scenario.fault == "content_filter" else scenario.finish_reason
    return Plan(pieces, prompt_tokens, completion_tokens, include, finish)
