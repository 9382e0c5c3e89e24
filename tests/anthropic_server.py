"""A loopback server speaking Anthropic's Messages API (streaming), in its own process.

``python -m tests.anthropic_server DELAY_S`` prints ``PORT <n>`` and serves until stdin
closes. ``POST /v1/messages`` with ``stream: true`` answers with the event sequence of
Anthropic's streaming format (message_start, content_block_start, content_block_delta
..., content_block_stop, message_delta with usage, message_stop); its first text leaves
DELAY_S seconds after the request was read, and each reply says when (server clock is
not ours: the test compares TTFTs, not stamps).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WORDS = ["Hello", " from", " a", " loopback", " Claude", "."]
INPUT_TOKENS, OUTPUT_TOKENS = 25, 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay_s = 0.15

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        arrived = time.perf_counter()
        if self.path.rstrip("/") != "/v1/messages" or not body.get("stream"):
            self.send_response(404)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()

        def event(name: str, data: dict) -> None:
            self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        event("message_start", {"type": "message_start", "message": {
            "id": "msg_loop", "type": "message", "role": "assistant", "model": body.get("model", "claude"),
            "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": {"input_tokens": INPUT_TOKENS, "output_tokens": 1}}})
        event("content_block_start", {"type": "content_block_start", "index": 0,
                                      "content_block": {"type": "text", "text": ""}})
        time.sleep(max(0.0, arrived + self.delay_s - time.perf_counter()))
        for word in WORDS:
            event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                          "delta": {"type": "text_delta", "text": word}})
        event("content_block_stop", {"type": "content_block_stop", "index": 0})
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": OUTPUT_TOKENS}})
        event("message_stop", {"type": "message_stop"})
        self.close_connection = True


def main() -> None:
    Handler.delay_s = float(sys.argv[1]) if len(sys.argv) > 1 else 0.15
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test closes our stdin
    server.shutdown()


if __name__ == "__main__":
    main()
