"""A real HTTP server on 127.0.0.1 that speaks OpenAI's streaming protocol, with faults.

Run it as ``python -m promptbench.testing.fakeserver --port 0``: the first stdout line
is ``PORT <n>``; it serves until killed, SIGTERM/SIGINT, or its stdin closes (so it
dies with the parent that holds the pipe). Use :mod:`promptbench.testing.fakeclient`
to drive it from tests.

Endpoints: ``POST /v1/chat/completions``, ``POST /v1/completions`` (legacy),
``GET /v1/models``; admin: ``POST /_admin/scenario`` ``{"model": name|null,
"scenario": {...}}``, ``POST /_admin/reset``, ``GET /_admin/scenario``,
``GET /_admin/log[?since=<id>]``.

Each ``/v1`` request leaves a log record: ``id``, ``method``, ``path``, ``model``,
``peer`` (client address: equal peers mean a reused connection), ``received_ns``,
``headers`` (all of them, names lower-cased), ``body`` (parsed JSON), ``stream``,
``scenario`` (the one used), ``status``, ``head_ns`` (status line + headers sent),
``chunks`` (``[{"t_ns", "text"}]``: each SSE event exactly as sent, without the HTTP
chunk framing; for a non-streamed answer, the body), ``ended_ns`` and ``outcome``.

Timestamps in the log are ``time.perf_counter_ns()``. On Linux that is
CLOCK_MONOTONIC, system-wide, so they compare directly with ``perf_counter_ns()``
taken in another process on the same machine (e.g. the client under test). Each
chunk's ``t_ns`` is taken right after its bytes were written to the socket and drained.

Content chunks follow an absolute schedule: chunk *i* is due at
``received_ns + first_token_delay_s + i * chunk_interval_s``. The wait is an
``asyncio.sleep`` to within ``spin_s`` of the deadline (epoll only has millisecond
resolution), then yields to the loop until ``perf_counter`` reaches it.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import threading
import time
import traceback
from typing import Any

from promptbench.testing import _wire
from promptbench.testing._http import LAST_CHUNK, BadRequest, ClientGone, Connection, Request, chunk, head
from promptbench.testing.scenario import Scenario, plan

HOST = "127.0.0.1"  # the only address this server ever binds
_MID_FAULTS = {"reset_mid_stream", "close_mid_stream", "stall_mid_stream", "malformed_chunk"}
_CLOSING_FAULTS = _MID_FAULTS | {"no_done", "slow_drip", "close_mid_header"}


async def sleep_until(deadline_ns: int, spin_ns: int) -> None:
    """Sleep to within spin_ns of the deadline, then yield until it passes. Always
    yields at least once, so streams with no interval still take turns."""
    await asyncio.sleep(0)
    while (remaining := deadline_ns - time.perf_counter_ns()) > 0:
        await asyncio.sleep((remaining - spin_ns) / 1e9 if remaining > spin_ns else 0)


class FakeServer:
    def __init__(self, spin_s: float = 0.001):
        self.spin_ns = int(spin_s * 1e9)
        self.default = Scenario()
        self.scenarios: dict[str, Scenario] = {}
        self.failures: dict[str, int] = {}  # model -> status faults served so far
        self.records: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._server: asyncio.Server | None = None

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._on_connect, HOST, port, limit=1 << 20)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- connections ---------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._tasks.add(task)
        conn = Connection(reader, writer)
        try:
            while (req := await conn.read_request()) is not None:
                keep = await self._dispatch(conn, req)
                if not (keep and req.keep_alive):
                    break
        except BadRequest as e:
            try:
                await self._send_json(conn, 400, _error(str(e), "invalid_request_error"), close=True)
            except (ClientGone, ConnectionError):
                pass
        except (ClientGone, ConnectionError, asyncio.CancelledError):
            pass
        except Exception:  # a bug here: say so on stderr, drop this connection, keep serving
            traceback.print_exc()
        finally:
            self._tasks.discard(task)
            await conn.close()

    async def _dispatch(self, conn: Connection, req: Request) -> bool:
        route = (req.method, req.path.rstrip("/"))
        if route in (("POST", "/v1/chat/completions"), ("POST", "/v1/completions")):
            return await self._completion(conn, req, chat=route[1].endswith("chat/completions"))
        if route == ("GET", "/v1/models"):
            names = sorted({"fake-model", *self.scenarios})
            data = [{"id": n, "object": "model", "created": 0, "owned_by": "promptbench"} for n in names]
            return await self._send_json(conn, 200, {"object": "list", "data": data})
        if req.path.startswith("/_admin/"):
            try:
                status, obj = self._admin(req)
            except (ValueError, TypeError) as e:
                status, obj = 400, _error(str(e), "invalid_request_error")
            return await self._send_json(conn, status, obj)
        error = _error(f"no route {req.method} {req.path}", "invalid_request_error")
        return await self._send_json(conn, 404, error)

    async def _send_json(self, conn: Connection, status: int, obj: Any, headers=(), close=False) -> bool:
        body = _wire.dumps(obj)
        hs = [("content-type", "application/json"), ("content-length", str(len(body))), *headers]
        hs.append(("connection", "close" if close else "keep-alive"))
        await conn.send(head(status, hs) + body)
        return not close

    # -- admin ---------------------------------------------------------------------

    def _admin(self, req: Request) -> tuple[int, Any]:
        route = (req.method, req.path)
        if route == ("POST", "/_admin/scenario"):
            data = json.loads(req.body or b"{}")
            scenario = Scenario.from_dict(data.get("scenario") or {})
            model = data.get("model")
            if model is None:
                self.default = scenario
                self.failures.clear()
            else:
                self.scenarios[model] = scenario
                self.failures.pop(model, None)
            return 200, {"model": model, "scenario": scenario.to_dict()}
        if route == ("GET", "/_admin/scenario"):
            named = {k: v.to_dict() for k, v in self.scenarios.items()}
            return 200, {"default": self.default.to_dict(), "models": named}
        if route == ("POST", "/_admin/reset"):
            self.default, self.scenarios = Scenario(), {}
            self.failures.clear()
            self.records.clear()
            return 200, {"ok": True}
        if route == ("GET", "/_admin/log"):
            since = int(req.query.get("since", 0))
            return 200, [r for r in self.records if r["id"] > since]
        return 404, _error(f"no admin route {req.method} {req.path}", "invalid_request_error")

    # -- completions ---------------------------------------------------------------

    async def _completion(self, conn: Connection, req: Request, chat: bool) -> bool:
        try:
            body = json.loads(req.body)
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
        except ValueError as e:
            return await self._send_json(conn, 400, _error(f"invalid JSON body: {e}", "invalid_request_error"))
        model = str(body.get("model", ""))
        scenario = self.scenarios.get(model, self.default)
        record: dict[str, Any] = {
            "id": next(self._ids),
            "method": req.method,
            "path": req.path,
            "model": model,
            "peer": "%s:%d" % conn.writer.get_extra_info("peername")[:2],  # same peer: same connection
            "received_ns": req.received_ns,
            "headers": {k.lower(): req.header(k) for k, _ in req.headers},
            "body": body,
            "stream": bool(body.get("stream")),
            "scenario": scenario.to_dict(),
            "status": None,
            "head_ns": None,
            "chunks": [],  # {"t_ns": ..., "text": SSE event or body bytes, as sent}
            "ended_ns": None,
            # complete: sent to its end (faults like huge or no_done included) | error_status |
            # cut: ended early on purpose (reset, close, close_mid_header, malformed+stop) |
            # client_disconnected: the client went away first
            "outcome": None,
        }
        self.records.append(record)
        respond = asyncio.ensure_future(self._respond(conn, record, scenario, body, chat))
        watch = asyncio.ensure_future(conn.watch_disconnect())
        try:
            await asyncio.wait({respond, watch}, return_when=asyncio.FIRST_COMPLETED)
            if respond.done():
                return respond.result()
            record["outcome"] = "client_disconnected"
            return False
        except (ClientGone, ConnectionError):
            record["outcome"] = "client_disconnected"
            return False
        finally:
            for task in (respond, watch):
                task.cancel()
            await asyncio.gather(respond, watch, return_exceptions=True)
            if record["ended_ns"] is None:
                record["ended_ns"] = time.perf_counter_ns()
            conn.drip_s = None

    async def _respond(self, conn: Connection, rec: dict, sc: Scenario, body: dict, chat: bool) -> bool:
        model = rec["model"]
        if sc.fault == "status" and (sc.fail_times is None or self.failures.get(model, 0) < sc.fail_times):
            self.failures[model] = self.failures.get(model, 0) + 1
            rec["status"], rec["outcome"] = sc.status_code, "error_status"
            hs = [("x-request-id", f"req_fake{rec['id']}"), *sc.extra_headers.items()]
            if sc.retry_after is not None:
                hs.append(("retry-after", sc.retry_after))
            keep = await self._send_json(conn, sc.status_code, sc.error_body(), hs)
            rec["head_ns"] = rec["ended_ns"] = time.perf_counter_ns()
            return keep
        if sc.fault == "slow_drip":
            conn.drip_s = sc.drip_interval_s
        p = plan(sc, body)
        shapes = _wire.Shapes(
            chat, f"{'chatcmpl' if chat else 'cmpl'}-fake{rec['id']}", int(time.time()), model,
            usage_field=rec["stream"] and p.include_usage,
        )
        rec["status"] = 200
        if rec["stream"]:
            return await _Stream(self, conn, rec, sc, p, shapes).run()
        return await self._whole(conn, rec, sc, p, shapes)

    async def _whole(self, conn: Connection, rec: dict, sc: Scenario, p, shapes: _wire.Shapes) -> bool:
        """A non-streamed answer: sent once the last chunk would have been due."""
        done_s = sc.first_token_delay_s + max(0, len(p.pieces) - 1) * sc.chunk_interval_s
        if sc.fault == "stall_before_first_token":
            await asyncio.sleep(sc.stall_s)
        await sleep_until(rec["received_ns"] + int(done_s * 1e9), self.spin_ns)
        data = _wire.dumps(shapes.whole("".join(p.pieces), p.finish_reason, p.usage(len(p.pieces))))
        if sc.fault == "malformed_chunk":
            data = b"{not json"
        closing = sc.fault in _CLOSING_FAULTS
        h = head(200, [
            ("content-type", "application/json"),
            ("content-length", str(len(data))),
            ("x-request-id", f"req_fake{rec['id']}"),
            *sc.extra_headers.items(),
            ("connection", "close" if closing else "keep-alive"),
        ])
        if sc.fault == "close_mid_header":
            await conn.send(h[: len(h) // 2])
            rec["outcome"] = "cut"
            return False
        parts = [data[: len(data) // 2], data[len(data) // 2 :]] if sc.fault in _MID_FAULTS else [data]
        await conn.send(h + parts[0])
        rec["head_ns"] = time.perf_counter_ns()
        rec["chunks"].append({"t_ns": rec["head_ns"], "text": parts[0].decode("utf-8", "replace")})
        if sc.fault in ("reset_mid_stream", "close_mid_stream"):
            rec["outcome"] = "cut"
            if sc.fault == "reset_mid_stream":
                conn.reset()
            return False
        if sc.fault == "stall_mid_stream":
            await asyncio.sleep(sc.stall_s)
            await conn.send(parts[1])
            rec["chunks"].append({"t_ns": time.perf_counter_ns(), "text": parts[1].decode("utf-8", "replace")})
        rec["outcome"] = "complete"
        rec["ended_ns"] = time.perf_counter_ns()
        return not closing


class _Stream:
    """One SSE response, event by event, with the scenario's timing and fault."""

    def __init__(self, server: FakeServer, conn: Connection, rec: dict, sc: Scenario, p, shapes):
        self.server, self.conn, self.rec, self.sc, self.p, self.shapes = server, conn, rec, sc, p, shapes

    async def event(self, data: bytes) -> None:
        await self.conn.send(chunk(data))
        self.rec["chunks"].append({"t_ns": time.perf_counter_ns(), "text": data.decode()})

    async def run(self) -> bool:
        sc, rec, p, conn = self.sc, self.rec, self.p, self.conn
        closing = sc.fault in _CLOSING_FAULTS
        h = head(200, [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("transfer-encoding", "chunked"),
            ("cache-control", "no-cache"),
            ("x-request-id", f"req_fake{rec['id']}"),
            *sc.extra_headers.items(),
            ("connection", "close" if closing else "keep-alive"),
        ])
        if sc.fault == "close_mid_header":
            await conn.send(h[: len(h) // 2])
            rec["outcome"] = "cut"
            return False
        await conn.send(h)
        rec["head_ns"] = time.perf_counter_ns()
        t0 = rec["received_ns"] + int(sc.first_token_delay_s * 1e9)
        interval = int(sc.chunk_interval_s * 1e9)
        if sc.fault == "stall_before_first_token":
            await asyncio.sleep(sc.stall_s)
            t0 = max(t0, time.perf_counter_ns())
        await sleep_until(t0, self.server.spin_ns)
        if (first := self.shapes.first()) is not None:
            await self.event(_wire.sse(first))
        fault_at = min(sc.fault_after_chunks, len(p.pieces)) if sc.fault in _MID_FAULTS else -1
        sent = 0
        for i in range(len(p.pieces) + 1):
            if i == fault_at:
                shift = await self.mid_fault()
                if shift is None:
                    return False
                t0 += shift
            if i == len(p.pieces):
                break
            await sleep_until(t0 + i * interval, self.server.spin_ns)
            await self.event(_wire.sse(self.shapes.delta(p.pieces[i])))
            sent += 1
        await self.event(_wire.sse(self.shapes.finish(p.finish_reason)))
        if p.include_usage:
            await self.event(_wire.sse(self.shapes.usage(p.usage(sent))))
        if sc.fault != "no_done":
            await self.event(_wire.SSE_DONE)
        await conn.send(LAST_CHUNK)
        rec["ended_ns"] = time.perf_counter_ns()
        rec["outcome"] = "complete"
        return not closing

    async def mid_fault(self) -> int | None:
        """Apply the mid-stream fault; the schedule shift in ns, or None if the stream ended."""
        sc, rec = self.sc, self.rec
        if sc.fault != "stall_mid_stream" and not (sc.fault == "malformed_chunk" and sc.then == "continue"):
            rec["outcome"] = "cut"
        if sc.fault == "reset_mid_stream":
            self.conn.reset()
            return None
        if sc.fault == "close_mid_stream":
            return None  # the caller's close sends the FIN; no finish chunk, no [DONE]
        if sc.fault == "stall_mid_stream":
            start = time.perf_counter_ns()
            await asyncio.sleep(sc.stall_s)
            return time.perf_counter_ns() - start
        await self.event(b"data: {not json\n\n")  # malformed_chunk
        if sc.then == "stop":
            await self.conn.send(LAST_CHUNK)
            return None
        return 0


def _error(message: str, etype: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


async def _amain(port: int, spin_s: float, watch_stdin: bool) -> None:
    server = FakeServer(spin_s=spin_s)
    bound = await server.start(port)
    print(f"PORT {bound}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if watch_stdin:

        def wait_for_eof() -> None:
            while sys.stdin.buffer.read(65536):
                pass
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_eof, name="stdin-eof", daemon=True).start()
    await stop.wait()
    await server.close()


def main(argv: list[str] | None = None) -> None:
    prog = "python -m promptbench.testing.fakeserver"
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--spin-us", type=float, default=1000.0, help="yield-spin this close to each chunk deadline")
    ap.add_argument("--no-stdin-watch", action="store_true", help="keep serving when stdin closes")
    args = ap.parse_args(argv)
    asyncio.run(_amain(args.port, args.spin_us / 1e6, not args.no_stdin_watch))


if __name__ == "__main__":
    main()
