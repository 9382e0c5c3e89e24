"""Streaming through litellm, for every provider that is not an OpenAI-compatible base URL.

TTFT starts when litellm's HTTP request leaves (core/providers/transports/sent_stamp.py),
not before litellm's own per-provider set-up. Chunks are timestamped when litellm hands
them over (it parses them first, ~0.5-1 ms per chunk here), so TTFT through this path
includes litellm's own parsing time.
"""

from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator

from promptbench.core.providers.errorclass import ProviderError, class_for_status
from promptbench.core.providers.litellm_setup import import_litellm, is_imported
from promptbench.core.providers.transports import Timeouts, WireRequest
from promptbench.core.providers.transports.sent_stamp import preload_http, stamping_sends

_perf_ns = time.perf_counter_ns


_CREDENTIAL_WORDS = ("missing credentials", "api key", "api_key", "apikey", "unauthorized", "authentication",
                     "invalid x-api-key", "no auth", "credential")


# litellm wraps a provider it never reached (no network, DNS, refused) in InternalServerError
_UNREACHABLE_WORDS = ("cannot connect to host", "name or service not known", "temporary failure in name resolution",
                      "nodename nor servname", "connection refused", "network is unreachable",
                      "all connection attempts failed", "connecterror", "connection reset by peer",
                      "exception - connection error")  # the openai SDK's APIConnectionError, as litellm words it


def classify_litellm_error(exc: Exception) -> ProviderError:
    litellm = import_litellm()
    status = getattr(exc, "status_code", None)
    text = str(exc).lower()
    pairs = [
        ("AuthenticationError", "auth"), ("PermissionDeniedError", "auth"), ("RateLimitError", "rate_limit"),
        ("Timeout", "timeout"), ("APIConnectionError", "connection"), ("ContextWindowExceededError", "bad_request"),
        ("ContentPolicyViolationError", "content_filter"), ("BadRequestError", "bad_request"), ("NotFoundError", "bad_request"),
        ("ServiceUnavailableError", "server"), ("InternalServerError", "server"), ("APIError", "server"),
    ]
    error_class = "unknown"
    for name, klass in pairs:
        cls = getattr(litellm, name, None)
        if cls is not None and isinstance(exc, cls):
            error_class = klass
            break
    else:
        if isinstance(status, int):
            error_class = class_for_status(status, str(exc))
    if error_class in ("server", "unknown", "bad_request") and any(w in text for w in _CREDENTIAL_WORDS) \
            and not ("context" in text and "length" in text):
        error_class = "auth"  # e.g. litellm's InternalServerError "Missing credentials" for a missing key
    elif error_class in ("server", "unknown") and any(w in text for w in _UNREACHABLE_WORDS):
        error_class = "connection"  # e.g. InternalServerError "Cannot connect to host …" without a network
    retry_after = None
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        from promptbench.core.providers.errorclass import parse_retry_after
        retry_after = parse_retry_after(headers.get("retry-after"))
    return ProviderError(error_class, str(exc), status=status if isinstance(status, int) else None, retry_after_s=retry_after)


async def stream_litellm(model: str, req: WireRequest, timeouts: Timeouts, on_sent=None) -> AsyncIterator[tuple]:
    # The first import takes seconds: on a worker thread, so the loop keeps streaming other runs.
    litellm = import_litellm() if is_imported() else await asyncio.to_thread(import_litellm)
    kwargs = dict(model=model, messages=req.messages, stream=True, stream_options={"include_usage": True},
                  timeout=timeouts.first_token_s, max_retries=0, **req.params)
    if req.api_base:
        kwargs["api_base"] = req.api_base
    if req.api_key:
        kwargs["api_key"] = req.api_key
    preload_http()
    prepared_ns = _perf_ns()
    try:
        with stamping_sends(on_sent) as stamp:  # TTFT starts when litellm's request leaves
            response = await litellm.acompletion(**kwargs)
        if stamp is not None and not stamp.fired:  # not sent through httpx: from before litellm's set-up
            on_sent(prepared_ns)
        async for chunk in response:
            t_ns = _perf_ns()
            for choice in getattr(chunk, "choices", None) or ():
                delta = getattr(choice, "delta", None)
                text = getattr(delta, "content", None) if delta is not None else None
                if text:
                    yield ("d", text, t_ns)
                if getattr(choice, "finish_reason", None):
                    yield ("f", choice.finish_reason)
            usage = getattr(chunk, "usage", None)
            if usage:
                yield ("u", getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None))
    except ProviderError:
        raise
    except Exception as exc:  # litellm raises its own exception types for every provider
        raise classify_litellm_error(exc) from None
