"""TTFT starts when the request leaves, not when we begin preparing it.

Two costs would otherwise sit inside the first TTFT of a process (issue 15, measured
here): httpx imports its async back end (anyio's asyncio back end, sniffio, anyio's
streams: ~35 ms) inside the first ``send``; and litellm spends ~100 ms of its own set-up
per provider (routing, request transformation, its HTTP client) between ``acompletion``
and the request going out. :func:`preload_http` imports the first ahead of time; for the
second, ``stamping_sends(on_sent)`` calls ``on_sent`` from inside httpx's
``AsyncClient.send`` - the moment litellm hands the request to the wire - for the one
task that set it (a context variable, so concurrent runs never take each other's stamp).
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import threading
import time
from collections.abc import Callable, Iterator

_ON_SEND: contextvars.ContextVar[_Stamp | None] = contextvars.ContextVar("promptbench_on_send", default=None)
_install_lock = threading.Lock()
_installed = False
_preloaded = False

# What httpx (0.27-0.28 with httpcore 1.x and anyio 4.x) imports at its first async send.
_FIRST_SEND_MODULES = ("sniffio", "anyio._backends._asyncio", "anyio.streams.tls", "anyio.streams.memory",
                       "anyio.streams.stapled", "anyio.to_thread", "anyio.lowlevel")


def preload_http() -> None:
    """Import what httpx's first async request would import (idempotent, ~35 ms once)."""
    global _preloaded
    if _preloaded:
        return
    for name in _FIRST_SEND_MODULES:
        with contextlib.suppress(ImportError):  # another version lays its modules out differently
            importlib.import_module(name)
    _preloaded = True


class _Stamp:
    __slots__ = ("on_sent", "fired")

    def __init__(self, on_sent: Callable[[int], None]):
        self.on_sent = on_sent
        self.fired = False

    def fire(self) -> None:
        if not self.fired:
            self.fired = True
            self.on_sent(time.perf_counter_ns())


@contextlib.contextmanager
def stamping_sends(on_sent: Callable[[int], None] | None) -> Iterator[_Stamp | None]:
    """Inside: the first httpx ``AsyncClient.send`` of this task calls ``on_sent(t_ns)``.
    The caller stamps by itself if nothing was sent through httpx (``stamp.fired`` False)."""
    if on_sent is None:
        yield None
        return
    _install()
    stamp = _Stamp(on_sent)
    token = _ON_SEND.set(stamp)
    try:
        yield stamp
    finally:
        _ON_SEND.reset(token)


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        import httpx

        original = httpx.AsyncClient.send

        async def send(self, request, **kwargs):
            stamp = _ON_SEND.get()
            if stamp is not None:
                stamp.fire()
            return await original(self, request, **kwargs)

        send.__wrapped__ = original  # type: ignore[attr-defined]
        httpx.AsyncClient.send = send  # one wrapper for the process: a context variable check per send
        _installed = True
