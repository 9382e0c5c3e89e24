"""The streaming engine: many runs at once on one asyncio loop in one background thread.

Fronts call ``compare()`` from any thread and get a :class:`Comparison` handle whose
run ids exist before its first event. Typed events (core/engine/events.py) reach
listeners on the engine thread: ones subscribed to every event (``subscribe``; the GUI's
bridge re-emits them through one Qt signal) and the comparison's own
(``compare(request, listener=fn)``; the CLI, batches and judges). A provider failure
becomes a RunFailed event for that run only; nothing is raised to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from promptbench.core.engine import events as ev
from promptbench.core.engine.comparison import Comparison, ComparisonRequest, Listener, Listeners
from promptbench.core.ids import new_id
from promptbench.core.settings.config import ModelConfig, Settings
from promptbench.core.providers.errorclass import ProviderError
from promptbench.core.providers.litellm_setup import streams_without_litellm
from promptbench.core.engine.metrics import StreamClock, server_timings, tokens_per_second
from promptbench.core.providers.pricing import cost_usd, unit_prices
from promptbench.core.redaction import redact, remember_secret
from promptbench.core.settings.secrets import get_api_key, missing_key
from promptbench.core.providers.tokens import StreamingTokenCounter, count_message_tokens
from promptbench.core.providers.transports import Timeouts, WireRequest
from promptbench.core.providers.transports.openai_compat import is_loopback, make_client, stream_openai

MAX_RETRY_WAIT_S = 60.0

__all__ = ["Comparison", "ComparisonRequest", "Engine"]


@dataclass
class _Run:
    run_id: str
    comparison_id: str
    model: ModelConfig
    task: asyncio.Task | None = None
    parts: list[str] = field(default_factory=list)
    clock: StreamClock = field(default_factory=StreamClock)
    metrics: ev.RunMetrics = field(default_factory=ev.RunMetrics)
    logprobs: list[dict] = field(default_factory=list)  # per generated token, when asked for


class Engine:
    def __init__(self, settings: Settings, listener: Listener | None = None, *, local=None, runs=None,
                 key_lookup: Callable[[ModelConfig], str | None] = get_api_key):
        """``listener`` (optional) hears every event, as if passed to ``subscribe``."""
        self.settings = settings
        self._listeners = Listeners(listener)
        self.local = local        # LocalServerManager or None
        self.runs = runs          # RunStore or None
        self.key_lookup = key_lookup
        self.timeouts = Timeouts(settings.connect_timeout_s, settings.first_token_timeout_s, settings.idle_timeout_s)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="promptbench-engine", daemon=True)
        self._thread.start()
        self._active: dict[str, _Run] = {}
        self._comparisons: dict[str, set[str]] = {}   # comparison id -> run ids not ended (engine thread)
        self._handles: dict[str, Comparison] = {}     # comparison id -> its handle, until it finished
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._clients: dict[bool, object] = {}
        self._closed = False

    # -- public API (any thread) -----------------------------------------------------------
    def update_settings(self, settings: Settings) -> None:
        """New timeouts, retries and limits apply to runs started from now on."""
        self.settings = settings
        self.timeouts = Timeouts(settings.connect_timeout_s, settings.first_token_timeout_s, settings.idle_timeout_s)

    def subscribe(self, fn: Listener, comparison_id: str | None = None) -> None:
        """``fn(event)`` hears every event from now on, or only one comparison's."""
        self._listeners.add(fn, comparison_id)

    def unsubscribe(self, fn: Listener, comparison_id: str | None = None) -> None:
        self._listeners.remove(fn, comparison_id)

    def compare(self, request: ComparisonRequest, *, listener: Listener | None = None) -> Comparison:
        """Start every model of ``request``; returns at once with the handle. ``listener``
        hears this comparison's events, from its first to its ComparisonFinished."""
        if self._closed:
            raise RuntimeError("engine is shut down")
        comparison = Comparison(request.comparison_id or new_id(), tuple(new_id() for _ in request.models),
                                request, self)
        self._handles[comparison.id] = comparison
        if listener is not None:
            self._listeners.add(listener, comparison.id)
        try:
            if self.runs is not None:
                self.runs.create_comparison(id=comparison.id, prompt_path=request.prompt_path,
                                            prompt_version=request.prompt_version, test_case=request.test_case,
                                            variables=request.variables, local_mode=request.local_mode,
                                            models=[m.name for m in request.models], kind=request.kind)
            future = asyncio.run_coroutine_threadsafe(self._start(comparison, request), self._loop)
            try:
                future.result(timeout=30)  # _start only creates tasks; a stopped loop must not hang the caller
            except Exception:
                future.cancel()
                raise RuntimeError("the engine is shutting down; the comparison was not started") from None
        except BaseException:
            self._handles.pop(comparison.id, None)
            self._listeners.drop(comparison.id)
            raise
        return comparison

    def score_text(self, model: ModelConfig, messages: list[dict], text: str):
        """Log-probability of each token of ``text`` as ``model``'s answer to ``messages``
        (a :class:`~promptbench.core.local.scoring.TextScore`, with ``perplexity``).

        Local models only: hosted APIs do not report the probabilities of a given text.
        Blocking (starts the model's server if needed): call it from a worker thread.
        Raises ProviderError naming the model and what to do.
        """
        if not model.is_local:
            raise ProviderError("bad_request", f"{model.name}: scoring a given text needs a local model "
                                               "(hosted APIs report log-probabilities only of what they generate)")
        if self.local is None:
            raise ProviderError("connection", f"{model.name}: local models are not available in this session")
        from promptbench.core.local.catalog import get_local_model
        from promptbench.core.local.scoring import ServerClient, score_text

        try:
            spec = get_local_model(model.model)
            base = self.local.ensure(model.model)
            return score_text(ServerClient(base, model.model), messages, text, chat=spec.chat)
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError("connection", f"{model.name}: could not score the text: {exc}") from None

    def cancel(self, run_id: str) -> None:
        self._loop.call_soon_threadsafe(self._cancel, run_id)

    def cancel_all(self, comparison_id: str | None = None) -> None:
        def go():
            ids = self._comparisons.get(comparison_id, set()) if comparison_id else list(self._active)
            for run_id in list(ids):
                self._cancel(run_id)
        self._loop.call_soon_threadsafe(go)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every run, close connections, stop the loop thread."""
        if self._closed:
            return
        self._closed = True
        self.cancel_all()
        fut = asyncio.run_coroutine_threadsafe(self._drain(), self._loop)
        try:
            fut.result(timeout)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():  # closed now, not by the garbage collector at exit (which warns)
            self._loop.close()
        if self.runs is not None:
            self.runs.flush()

    # -- engine thread ---------------------------------------------------------------------
    async def _drain(self) -> None:
        tasks = [r.task for r in self._active.values() if r.task]
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        for client in self._clients.values():
            await client.aclose()

    def _cancel(self, run_id: str) -> None:
        run = self._active.get(run_id)
        if run and run.task and not run.task.done():
            run.task.cancel()

    async def _start(self, comparison: Comparison, request: ComparisonRequest) -> None:
        comparison_id, run_ids = comparison.id, comparison.run_ids
        self._comparisons[comparison_id] = set(run_ids)
        # Imports that take seconds (litellm for prices, tiktoken's tables) must not stall
        # the loop that is streaming other runs: each run first awaits this worker thread.
        warm = self._loop.run_in_executor(None, self._warm_for, request.models)
        for run_id, model in zip(run_ids, request.models):
            run = _Run(run_id, comparison_id, model)
            self._active[run_id] = run
            run.task = self._loop.create_task(self._run(run, request, warm))

    @staticmethod
    def _warm_for(models: list[ModelConfig]) -> None:
        from promptbench.core.providers.tokens import get_encoding

        for model in models:
            get_encoding(model.model)
            unit_prices(model)  # litellm is imported only for a price its map alone cannot settle

    def _semaphore(self, model: ModelConfig, local_mode: str) -> asyncio.Semaphore:
        if model.is_local:
            if local_mode == "sequential":
                key, limit = "local", 1
            elif local_mode == "batched":  # several sequences at once on the model's server
                key, limit = f"local-batch:{model.model}", (self.local.slots if self.local is not None else 1)
            else:
                key, limit = f"local:{model.model}", 1
        else:
            key = f"provider:{model.provider}"
            limit = model.max_concurrency or self.settings.provider_concurrency.get(model.provider, 8)
        if key not in self._semaphores:
            self._semaphores[key] = asyncio.Semaphore(limit)
        return self._semaphores[key]

    @contextlib.asynccontextmanager
    async def _local_run(self, model: ModelConfig):
        """While a local run goes on, the model manager starts no other server in the background."""
        tracked = model.is_local and self.local is not None
        if tracked:
            self.local.run_started()
        try:
            yield
        finally:
            if tracked:
                self.local.run_ended()

    def _emit(self, event, comparison_id: str) -> None:
        self._listeners.emit(event, comparison_id)

    async def _run(self, run: _Run, request: ComparisonRequest, warm: asyncio.Future) -> None:
        model = run.model
        started_at = datetime.now(timezone.utc)  # stored in the database's one form (core/db/database.to_utc_iso)
        error: ProviderError | None = None
        status = "finished"
        if self.runs is not None:  # first, so that any end (even a cancel during warm-up) has a row to update
            self.runs.run_started(id=run.run_id, comparison_id=run.comparison_id, prompt_path=request.prompt_path,
                                  prompt_version=request.prompt_version, test_case=request.test_case,
                                  model_name=model.name, model=model.model, provider=model.provider,
                                  params=request.params, messages=request.messages, started_at=started_at,
                                  kind=request.kind)
        try:
            await asyncio.shield(warm)
            run.metrics.input_tokens = count_message_tokens(request.messages, model.model)
            price_in, price_out = unit_prices(model)
            queued_ns = time.perf_counter_ns()
            async with self._semaphore(model, request.local_mode), self._local_run(model):
                # Started means "its turn came": a run queued behind the concurrency limit
                # (or the one-at-a-time local mode) has not started yet.
                if model.is_local:  # the wait for a free slot of the model's server
                    run.metrics.queue_ms = (time.perf_counter_ns() - queued_ns) / 1e6
                self._emit(ev.RunStarted(run.run_id, run.comparison_id, model.name, time.perf_counter_ns(),
                                         run.metrics.input_tokens, price_in, price_out), run.comparison_id)
                wire, stream_fn = await self._prepare(model, request)
                try:
                    await self._stream_with_retries(run, wire, stream_fn)
                except ProviderError as exc:
                    death = await self._local_server_death(model, exc)
                    if death is None:
                        raise
                    await self._rerun_after_restart(run, request, exc, death)
        except ProviderError as exc:
            error, status = exc, "error"
        except asyncio.CancelledError:
            status = "cancelled"
        except Exception as exc:  # a bug or an unexpected library error: still a run result
            error, status = ProviderError("unknown", f"{type(exc).__name__}: {exc}"), "error"
        finally:
            self._finish(run, status, error, request)

    async def _prepare(self, model: ModelConfig, request: ComparisonRequest):
        params = {**model.params, **request.params}  # catalog params are defaults; the prompt's win
        api_key = remember_secret(self.key_lookup(model))  # custom lookups are redacted too
        if model.is_local:
            if self.local is None:
                raise ProviderError("connection", f"{model.name}: local models are not available in this session")
            from promptbench.core.local.catalog import get_local_model
            try:
                spec = get_local_model(model.model)
                base = await self.local.aensure(model.model)
            except Exception as exc:
                raise ProviderError("connection", f"{model.name}: could not start the local model: {exc}") from None
            wire = WireRequest(model=model.model, messages=request.messages, params=params, api_base=base, chat=spec.chat,
                               extra_headers={"Connection": "close"},  # see core/local/servers.py
                               count_text_tokens=True)
            if not spec.chat:
                from promptbench.core.local.catalog import format_completion_prompt
                wire.prompt = format_completion_prompt(request.messages)
                params.pop("response_format", None)
                if getattr(spec, "stop", None):
                    from promptbench.core.local.transcript import completion_stop

                    params["stop"] = completion_stop(params.get("stop"), spec.stop)  # the prompt's own stop adds to them
            return wire, self._compat
        if api_key is None:
            missing = missing_key(model)
            if missing:  # known to be missing: nothing is sent, nothing is charged
                raise ProviderError("auth", f"{model.name}: no key: {missing}. Set it, or store a key in "
                                            "Settings → Models; nothing was sent")
        name = model.model.split("/", 1)[1] if "/" in model.model else model.model
        wire = WireRequest(model=name, messages=request.messages, params=params,
                           api_base=model.api_base, api_key=api_key)
        if streams_without_litellm(model):  # an OpenAI-compatible api_base
            return wire, self._compat
        from promptbench.core.providers.transports.litellm_stream import stream_litellm

        async def via_litellm(w, timeouts, on_sent):
            async for item in stream_litellm(model.model, w, timeouts, on_sent):
                yield item
        return wire, via_litellm

    def _compat(self, wire: WireRequest, timeouts: Timeouts, on_sent):
        loopback = is_loopback(wire.api_base)
        if loopback not in self._clients:
            self._clients[loopback] = make_client(loopback)
        return stream_openai(self._clients[loopback], wire, timeouts, on_sent)

    async def _local_server_death(self, model: ModelConfig, exc: ProviderError) -> str | None:
        """When a local run failed because its server died: the server's last log lines."""
        if not model.is_local or self.local is None or exc.error_class not in ("connection", "timeout", "server"):
            return None
        return await asyncio.to_thread(self.local.died, model.model)

    async def _rerun_after_restart(self, run: _Run, request: ComparisonRequest, exc: ProviderError, death: str) -> None:
        """A local model's server died while serving this run (and maybe others of a batch):
        restart it and run this one again from the start, once. A second failure names the
        server log's last lines."""
        model = run.model
        run.parts.clear()
        run.logprobs.clear()
        run.metrics = ev.RunMetrics(input_tokens=run.metrics.input_tokens, queue_ms=run.metrics.queue_ms,
                                    retries=run.metrics.retries + 1)
        self._emit(ev.Retrying(run.run_id, run.metrics.retries, 0.0,
                               f"the local server for {model.name} stopped ({exc.message}); restarting it and "
                               "running this answer again", discard_output=True), run.comparison_id)
        try:
            wire, stream_fn = await self._prepare(model, request)  # restarts the server (new port)
            await self._stream_with_retries(run, wire, stream_fn)
        except ProviderError as again:
            last = await self._local_server_death(model, again) or death
            raise ProviderError(again.error_class, f"{again.message}. The local server for {model.name} stopped while "
                                                   f"serving this run and failed again after a restart; {last}") from None

    async def _stream_with_retries(self, run: _Run, wire: WireRequest, stream_fn) -> None:
        attempt = 0
        while True:
            try:
                await self._stream_once(run, wire, stream_fn)
                return
            except ProviderError as exc:
                if not exc.retryable or run.parts or attempt >= self.settings.max_retries:
                    raise
                attempt += 1
                run.metrics.retries = attempt
                wait = exc.retry_after_s if exc.retry_after_s is not None else min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.8 + 0.4 * random.random())
                wait = min(wait, MAX_RETRY_WAIT_S)
                self._emit(ev.Retrying(run.run_id, attempt, wait, exc.message), run.comparison_id)
                await asyncio.sleep(wait)

    async def _stream_once(self, run: _Run, wire: WireRequest, stream_fn) -> None:
        clock = run.clock = StreamClock()
        counter = StreamingTokenCounter(run.model.model)
        metrics = run.metrics
        run_id, parts, cid = run.run_id, run.parts, run.comparison_id
        listeners = self._listeners

        def emit(event) -> None:
            listeners.emit(event, cid)

        def on_sent(t_ns: int) -> None:
            clock.sent_ns = t_ns
            emit(ev.RequestSent(run_id, t_ns, run.metrics.retries))

        eof = False
        chunks = 0
        # A plain-transcript model's answer never shows the transcript: an echoed
        # "Assistant:" and anything from the next turn's marker on are dropped.
        transcript = None
        if not wire.chat:
            from promptbench.core.local.transcript import TranscriptFilter
            transcript = TranscriptFilter()
        last_ns = 0

        def shown(text: str, t_ns: int) -> None:
            if not text:
                return
            parts.append(text)
            if clock.content(t_ns):
                emit(ev.FirstToken(run_id, t_ns, clock.ttft_ms))
            emit(ev.TextDelta(run_id, text, t_ns, metrics.output_tokens))

        async for item in stream_fn(wire, self.timeouts, on_sent):
            kind = item[0]
            if kind == "d":
                _, text, t_ns = item
                chunks += 1
                last_ns = t_ns
                metrics.output_tokens = counter.add(text)
                shown(transcript.feed(text) if transcript is not None else text, t_ns)
            elif kind == "u":
                _, prompt_tokens, completion_tokens = item
                if prompt_tokens is not None:
                    metrics.input_tokens, metrics.input_tokens_reported = prompt_tokens, True
                if completion_tokens is not None:
                    metrics.output_tokens, metrics.tokens_reported = completion_tokens, True
                    if wire.count_text_tokens:  # counted from the answer's text below
                        completion_tokens = None
                emit(ev.UsageReported(run_id, prompt_tokens, completion_tokens))
            elif kind == "f":
                metrics.finish_reason = item[1]
            elif kind == "t":
                server_timings(metrics, item[1])
            elif kind == "l":
                run.logprobs.extend(item[1])
            elif kind == "eof":
                eof = True
        if transcript is not None:
            shown(transcript.finish(), last_ns)
        clock.ended_ns = time.perf_counter_ns()
        if wire.count_text_tokens:
            from promptbench.core.local.scoring import count_text_tokens

            counted = await count_text_tokens(self._clients[True], wire.api_base, "".join(parts))
            if counted is not None:
                metrics.output_tokens, metrics.tokens_reported = counted, True
        if metrics.finish_reason == "content_filter":
            raise ProviderError("content_filter", f"{run.model.name}: the provider stopped the answer (content filter)")
        if eof and metrics.finish_reason is None:
            raise ProviderError("connection", f"{run.model.name}: the stream ended before the answer was complete (no finish reason, no [DONE])")

    def _finish(self, run: _Run, status: str, error: ProviderError | None, request: ComparisonRequest) -> None:
        metrics, clock = run.metrics, run.clock
        if clock.ended_ns is None and clock.sent_ns:
            clock.ended_ns = time.perf_counter_ns()
        metrics.ttft_ms = clock.ttft_ms
        metrics.total_ms = clock.total_ms()
        metrics.itl_p50_ms, metrics.itl_p95_ms = clock.itl()
        metrics.tokens_per_s = tokens_per_second(metrics.output_tokens, clock.first_ns, clock.last_ns)
        reported = metrics.input_tokens_reported or (metrics.tokens_reported and not run.model.is_local)
        if status == "error" and not reported and not run.parts:
            # Nothing came back and the provider reported no usage: a failed call is not billed.
            metrics.cost_usd, metrics.cost_note = 0.0, "not charged: the call failed and no usage was reported"
        elif metrics.input_tokens is not None:
            metrics.cost_usd, metrics.cost_note = cost_usd(run.model, metrics.input_tokens, metrics.output_tokens)
            if status == "error" and not reported:
                metrics.cost_note = ("estimated: the stream failed part way and the provider reported no usage"
                                     + (f"; {metrics.cost_note}" if metrics.cost_note else ""))
        output = "".join(run.parts)
        cid = run.comparison_id
        end_ns = clock.ended_ns or time.perf_counter_ns()
        if status == "finished":
            event = ev.RunFinished(run.run_id, output, metrics, cid, end_ns, tuple(run.logprobs))
        elif status == "cancelled":
            event = ev.RunCancelled(run.run_id, output, metrics, cid, end_ns)
        else:
            event = ev.RunFailed(run.run_id, error.error_class, redact(error.message), output, metrics, cid, end_ns)
        if self.runs is not None:
            self.runs.run_ended(run.run_id, status=status, output=output, metrics=metrics,
                                error_class=error.error_class if error else ("cancelled" if status == "cancelled" else None),
                                error=redact(error.message) if error else None)  # ended_at: the store stamps it now
        self._active.pop(run.run_id, None)
        self._emit(event, cid)
        ids = self._comparisons.get(cid)
        if ids is not None:
            ids.discard(run.run_id)
            if not ids:
                del self._comparisons[cid]
                self._emit(ev.ComparisonFinished(cid), cid)
                self._listeners.drop(cid)
                handle = self._handles.pop(cid, None)
                if handle is not None:
                    handle.mark_finished()
