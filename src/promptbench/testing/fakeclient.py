"""Run the fake OpenAI server in a subprocess and control it from tests and benchmarks.

A subprocess, so the server's CPU never shares a GIL with the code being measured::

    with FakeOpenAIServer() as server:
        server.set_scenario("slow", first_token_delay_s=0.2, chunk_interval_s=0.004)
        litellm.acompletion(model="openai/slow", api_base=server.base_url, ...)
        records = server.log()

The child exits when its stdin pipe closes, which also happens when this process dies
for any reason; ``stop()`` (and ``atexit``) close it and kill it if it lingers.
"""

from __future__ import annotations

import atexit
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

_SRC = str(Path(__file__).resolve().parents[2])  # the folder that holds `promptbench`


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for "connection refused" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeOpenAIServer:
    """The fake server in a child process; a context manager."""

    def __init__(self, python: str = sys.executable, *, spin_us: float | None = None, startup_timeout_s: float = 20.0):
        self.python = python
        self.spin_us = spin_us
        self.startup_timeout_s = startup_timeout_s
        self.port: int = 0
        self.base_url: str = ""  # "http://127.0.0.1:PORT/v1"
        self.pid: int | None = None
        self._proc: subprocess.Popen | None = None
        self._http: httpx.Client | None = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FakeOpenAIServer:
        if self._proc is not None:
            return self
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, env.get("PYTHONPATH")) if p)
        cmd = [self.python, "-u", "-m", "promptbench.testing.fakeserver", "--port", "0"]
        if self.spin_us is not None:
            cmd += ["--spin-us", str(self.spin_us)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.pid = self._proc.pid
        atexit.register(self.stop)
        lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=lambda: lines.put(self._proc.stdout.readline()), daemon=True).start()
        try:
            first = lines.get(timeout=self.startup_timeout_s).decode().strip()
        except queue.Empty:
            first = ""
        if not first.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"fake server did not start (first line {first!r}); see its stderr")
        self.port = int(first.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        # trust_env=False: a proxy from the environment must never see these calls
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10.0, trust_env=False)
        return self

    def stop(self) -> int | None:
        """Stop the server; its exit code (0 on a clean stdin-EOF exit), None if not running."""
        atexit.unregister(self.stop)
        if self._http is not None:
            self._http.close()
            self._http = None
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        try:
            proc.stdin.close()  # the server exits on stdin EOF
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=5)
        finally:
            proc.stdout.close()
        return proc.returncode

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        if self._http is None:
            raise RuntimeError("the fake server is not running; call start() first")
        response = self._http.request(method, path, **kw)
        if response.status_code != 200:
            raise ValueError(f"fake server: {method} {path} -> {response.status_code}: {response.text}")
        return response.json()

    def set_scenario(self, model: str | None, **fields: Any) -> None:
        """Answer requests whose ``model`` is ``model`` (None: the default) with these
        :class:`~promptbench.testing.scenario.Scenario` fields; others keep defaults."""
        self._call("POST", "/_admin/scenario", json={"model": model, "scenario": fields})

    def reset(self) -> None:
        """Forget scenarios, fault counters and the request log."""
        self._call("POST", "/_admin/reset")

    def log(self, since: int = 0) -> list[dict]:
        """Request records (id > since), oldest first; see fakeserver's docstring."""
        return self._call("GET", "/_admin/log", params={"since": since})
