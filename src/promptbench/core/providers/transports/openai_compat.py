"""The OpenAI streaming protocol (SSE) over httpx, timestamped at the socket read."""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from typing import AsyncIterator

if "httpx" not in sys.modules:
    # httpx imports its command-line client (rich, click, pygments: ~50 ms) at import when
    # they are installed, and falls back to a stub without them; nothing here runs it.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]
import httpx  # noqa: E402

from promptbench.core.providers.errorclass import ProviderError, class_for_status, parse_retry_after
from promptbench.core.providers.transports import Timeouts, WireRequest
from promptbench.core.providers.transports.sent_stamp import preload_http

_perf_ns = time.perf_counter_ns


def make_client(loopback: bool) -> httpx.AsyncClient:
    preload_http()  # what the first send would import: not inside the first TTFT
    # Loopback servers (local models, test servers) must never be sent through a proxy
    # from the environment; remote providers honour it.
    return httpx.AsyncClient(trust_env=not loopback, timeout=None, verify=_LazyCertifiContext() if loopback else True,
                             limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))


class _LazyCertifiContext(ssl.SSLContext):
    """httpx's default TLS set-up (certifi's CA bundle, as ``trust_env=False`` gives), loaded
    at the first TLS connection instead of when the client is made: loopback servers speak
    plain HTTP, and loading the bundle costs ~50 ms of every CLI start."""

    def __new__(cls) -> "_LazyCertifiContext":
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def _ensure_cas(self) -> None:
        if not getattr(self, "_cas_loaded", False):
            import certifi

            self.load_verify_locations(cafile=certifi.where())
            self._cas_loaded = True

    def wrap_socket(self, *args, **kwargs):
        self._ensure_cas()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args, **kwargs):
        self._ensure_cas()
        return super().wrap_bio(*args, **kwargs)


def is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def _body(req: WireRequest) -> dict:
    body = {"model": req.model, "stream": True, "stream_options": {"include_usage": True}}
    if req.chat:
        body["messages"] = req.messages
    else:
        body["prompt"] = req.prompt or ""
    body.update(req.params)
    return body


async def stream_openai(client: httpx.AsyncClient, req: WireRequest, timeouts: Timeouts,
                        on_sent=None) -> AsyncIterator[tuple]:
    """Yield ``("d", text, t_ns)``, ``("u", in, out)``, ``("f", reason)``, ``("t", timings)``
    (llama-server) and ``("l", [token logprobs])`` for one request.

    ``on_sent(t_ns)`` is called right before the request goes out, so TTFT starts there.
    """
    url = req.api_base.rstrip("/") + ("/chat/completions" if req.chat else "/completions")
    headers = {"Accept": "text/event-stream", **req.extra_headers}
    if req.api_key:
        headers["Authorization"] = f"Bearer {req.api_key}"
    request = client.build_request("POST", url, json=_body(req), headers=headers,
                                   timeout=httpx.Timeout(connect=timeouts.connect_s, read=None, write=timeouts.connect_s, pool=timeouts.connect_s))
    sent_ns = _perf_ns()
    if on_sent:
        on_sent(sent_ns)
    seen_content = False
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeouts.first_token_s) as deadline:
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectTimeout:
                raise ProviderError("timeout", f"could not connect to {req.api_base} within {timeouts.connect_s:g} s") from None
            except (httpx.ConnectError, OSError) as exc:
                raise ProviderError("connection", f"cannot connect to {req.api_base}: {exc or type(exc).__name__}") from None
            except httpx.RemoteProtocolError as exc:
                raise ProviderError("connection", f"{req.api_base} closed the connection before answering: {exc}") from None
            try:
                if response.status_code >= 400:
                    await _raise_for_status(response, req)
                buffer = b""
                done = False
                chunks = response.aiter_raw()
                async for raw in chunks:
                    t_ns = _perf_ns()
                    buffer += raw
                    if b"\n" not in raw:
                        continue
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if not line.startswith(b"data:"):
                            continue
                        payload = line[5:].strip()
                        if payload == b"[DONE]":
                            done = True
                            break
                        for item in _parse_event(payload, t_ns, req):
                            if item[0] == "d" and not seen_content:
                                seen_content = True
                            yield item
                    if done:
                        await _drain_rest(chunks)
                        break
                    if seen_content:  # between tokens the limit is the idle timeout
                        deadline.reschedule(loop.time() + timeouts.idle_s)
                if not done:
                    yield ("eof",)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                detail = str(exc) or type(exc).__name__
                raise ProviderError("connection", f"{req.api_base}: the connection broke mid-stream ({detail})") from None
            finally:
                await response.aclose()
    except TimeoutError:
        phase = "between tokens" if seen_content else "before the first token"
        limit = timeouts.idle_s if seen_content else timeouts.first_token_s
        raise ProviderError("timeout", f"{req.model}: no data for {limit:g} s {phase} (timeout)") from None


async def _drain_rest(chunks) -> None:
    """Read to the end of the body after [DONE] so the connection goes back to the pool.

    Breaking off at [DONE] closes the socket instead, and the next run to the same
    server pays a new TCP (and TLS) handshake inside its TTFT. A server that keeps the
    body open after [DONE] gets a second, then the connection is dropped.
    """
    try:
        async with asyncio.timeout(1.0):
            async for _ in chunks:
                pass
    except (TimeoutError, httpx.HTTPError):
        pass


def _parse_event(payload: bytes, t_ns: int, req: WireRequest) -> list[tuple]:
    try:
        event = json.loads(payload)
    except ValueError:
        raise ProviderError("server", f"{req.model}: the provider sent a malformed stream chunk: {payload[:120]!r}") from None
    if not isinstance(event, dict):
        raise ProviderError("server", f"{req.model}: unexpected stream chunk: {payload[:120]!r}")
    if "error" in event and not event.get("choices"):
        err = event["error"] if isinstance(event["error"], dict) else {"message": str(event["error"])}
        code = str(err.get("code", ""))
        raise ProviderError(class_for_status(int(code) if code.isdigit() else 500, json.dumps(err)),
                            f"{req.model}: {err.get('message', 'error in stream')}")
    items: list[tuple] = []
    for choice in event.get("choices") or ():
        if req.chat:
            text = (choice.get("delta") or {}).get("content")
        else:
            text = choice.get("text")
        if text:
            items.append(("d", text, t_ns))
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, dict) and logprobs.get("content"):
            items.append(("l", _token_logprobs(logprobs["content"])))
        reason = choice.get("finish_reason")
        if reason:
            items.append(("f", reason))
    usage = event.get("usage")
    if usage:
        items.append(("u", usage.get("prompt_tokens"), usage.get("completion_tokens")))
    timings = event.get("timings")  # llama-server's own measurements, in its last chunk
    if isinstance(timings, dict) and usage:
        items.append(("t", timings))
    return items


def _token_logprobs(content: list) -> list[dict]:
    """OpenAI's ``logprobs.content`` entries, kept to token, logprob and the alternatives."""
    out = []
    for entry in content:
        if not isinstance(entry, dict) or not isinstance(entry.get("logprob"), (int, float)):
            continue
        top = [{"token": t.get("token"), "logprob": t.get("logprob")}
               for t in entry.get("top_logprobs") or () if isinstance(t, dict)]
        out.append({"token": entry.get("token"), "logprob": float(entry["logprob"]), "top_logprobs": top})
    return out


async def _raise_for_status(response: httpx.Response, req: WireRequest) -> None:
    try:
        body = (await asyncio.wait_for(response.aread(), 5)).decode("utf-8", errors="replace")
    except (asyncio.TimeoutError, httpx.HTTPError):
        body = ""
    message = body
    try:
        data = json.loads(body)
        err = data.get("error", data)
        message = err.get("message", body) if isinstance(err, dict) else str(err)
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    raise ProviderError(class_for_status(status, body), f"{req.model}: HTTP {status}: {message.strip()[:500] or response.reason_phrase}",
                        status=status, retry_after_s=parse_retry_after(response.headers.get("retry-after")))
