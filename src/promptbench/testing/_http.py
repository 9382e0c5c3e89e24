"""HTTP/1.1 by hand over asyncio streams, so a fault can be placed at any byte.

Only what the fake server needs: keep-alive, ``Content-Length`` and chunked request
bodies, ``Expect: 100-continue``, chunked responses, and three ways to end a
connection (clean FIN, TCP RST, or letting the caller keep it alive).
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
LAST_CHUNK = b"0\r\n\r\n"


class BadRequest(Exception):
    """The client sent something that is not HTTP/1.x; answered with 400 and a close."""


class ClientGone(Exception):
    """The client closed or reset its connection while we were answering."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    version: str
    headers: list[tuple[str, str]]  # as sent, in order
    body: bytes
    received_ns: int  # perf_counter_ns() once the whole request (head + body) was read

    def header(self, name: str) -> str | None:
        name = name.lower()
        values = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


def chunk(data: bytes) -> bytes:
    """One piece of a ``Transfer-Encoding: chunked`` body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def head(status: int, headers: list[tuple[str, str]]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Connection:
    """One accepted TCP connection: read requests, write bytes, end it some way."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()  # bytes read but not yet parsed (also pipelined ones)
        self.eof = False
        self.drip_s: float | None = None  # when set, send() writes one byte per drip_s

    async def _more(self) -> bool:
        if self.eof:
            return False
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def _read_line(self) -> bytes:
        while (i := self.buf.find(b"\r\n")) < 0:
            if len(self.buf) > MAX_HEAD or not await self._more():
                raise BadRequest("truncated chunked body")
        line = bytes(self.buf[:i])
        del self.buf[: i + 2]
        return line

    async def _read_exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._more():
                raise BadRequest("truncated body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def read_request(self) -> Request | None:
        """The next request; None when the client closed cleanly between requests."""
        while True:
            while self.buf.startswith(b"\r\n"):  # tolerated before a request line
                del self.buf[:2]
            if (end := self.buf.find(b"\r\n\r\n")) >= 0:
                break
            if len(self.buf) > MAX_HEAD:
                raise BadRequest("request head too large")
            if not await self._more():
                if self.buf:
                    raise BadRequest("connection closed mid-request")
                return None
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise BadRequest(f"bad request line {lines[0]!r}") from None
        if not version.startswith("HTTP/1."):
            raise BadRequest(f"unsupported version {version!r}")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest(f"bad header line {line!r}")
            headers.append((name, value.strip()))
        url = urlsplit(target)
        req = Request(method, url.path, dict(parse_qsl(url.query)), version, headers, b"", 0)
        if (req.header("expect") or "").lower() == "100-continue":
            await self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in (req.header("transfer-encoding") or "").lower():
            req.body = await self._read_chunked()
        elif (length := req.header("content-length")) is not None:
            if not length.isdigit() or int(length) > MAX_BODY:
                raise BadRequest(f"bad Content-Length {length!r}")
            req.body = await self._read_exactly(int(length))
        req.received_ns = time.perf_counter_ns()
        return req

    async def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_text = (await self._read_line()).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(f"bad chunk size {size_text!r}") from None
            if size == 0:
                while await self._read_line():  # trailers, up to the empty line
                    pass
                return bytes(body)
            body += await self._read_exactly(size)
            if len(body) > MAX_BODY:
                raise BadRequest("body too large")
            if await self._read_exactly(2) != b"\r\n":
                raise BadRequest("chunk not followed by CRLF")

    async def watch_disconnect(self) -> None:
        """Return once the client has closed its side; bytes it sends meanwhile are kept.

        Cancelling this loses nothing: StreamReader.read only consumes data it returns.
        """
        while await self._more():
            pass

    async def send(self, data: bytes) -> None:
        if self.writer.transport.is_closing():
            raise ClientGone("connection closed")
        if self.drip_s is None:
            self.writer.write(data)
            await self.writer.drain()
            return
        for i in range(len(data)):
            self.writer.write(data[i : i + 1])
            await self.writer.drain()
            await asyncio.sleep(self.drip_s)

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), dropping anything unsent."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.writer.transport.abort()

    async def close(self) -> None:
        """A clean close: flush what was written, then FIN."""
        if not self.writer.transport.is_closing():
            self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 5)
        except (OSError, asyncio.TimeoutError):
            self.writer.transport.abort()
