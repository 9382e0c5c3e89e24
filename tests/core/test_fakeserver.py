"""The fake OpenAI server: protocol, timing, faults, and the clients that will use it.

Every network call has a bounded timeout; nothing here can hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

import httpx
import pytest

from promptbench.testing.fakeclient import FakeOpenAIServer, free_port
from promptbench.testing.scenario import LOREM

TIMEOUT = httpx.Timeout(10.0)
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to the bench"}]


@pytest.fixture
def client():
    with httpx.Client(timeout=TIMEOUT, trust_env=False) as c:
        yield c


def chat(model="fake-model", stream=True, usage=True, **extra):
    body = {"model": model, "messages": MESSAGES, "stream": stream, **extra}
    if stream and usage:
        body["stream_options"] = {"include_usage": True}
    return body


def stream_events(client, server, body, path="/chat/completions", timeout=TIMEOUT):
    """(response, the data payloads in order) of one streamed request."""
    with client.stream("POST", server.base_url + path, json=body, timeout=timeout) as r:
        events = [line[len("data: ") :] for line in r.iter_lines() if line.startswith("data: ")]
    return r, events


def contents(events):
    out = []
    for e in events:
        if e == "[DONE]":
            continue
        for choice in json.loads(e)["choices"]:
            out.append(choice["delta"].get("content") if "delta" in choice else choice["text"])
    return [c for c in out if c]


def wait_for(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()):
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def raw_exchange(server, request: bytes, timeout=5.0) -> bytes:
    """Send raw bytes, read until the server closes (or timeout); return what came back."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


# -- the happy path, three clients ------------------------------------------------------


def test_stream_follows_openai_chunk_format(openai_server, client):
    r, events = stream_events(client, openai_server, chat())
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    first, *middle, finish, usage, done = events
    assert json.loads(first)["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(json.loads(e)["object"] == "chat.completion.chunk" for e in events[:-1])
    assert "".join(contents(middle)) == LOREM
    assert json.loads(finish)["choices"][0]["finish_reason"] == "stop"
    u = json.loads(usage)
    assert u["choices"] == [] and u["usage"]["completion_tokens"] == len(middle)
    assert u["usage"]["total_tokens"] == u["usage"]["prompt_tokens"] + len(middle)
    assert done == "[DONE]"


def test_usage_chunk_only_when_asked(openai_server, client):
    _, events = stream_events(client, openai_server, chat(usage=False))
    assert all(json.loads(e)["choices"] for e in events[:-1])
    openai_server.set_scenario("fake-model", include_usage=True)
    _, events = stream_events(client, openai_server, chat(usage=False))
    assert json.loads(events[-2])["choices"] == []


def test_non_streaming_completion_has_usage(openai_server, client):
    r = client.post(openai_server.base_url + "/chat/completions", json=chat(stream=False))
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == LOREM
    assert body["usage"]["completion_tokens"] > 0


def test_openai_sdk_streams(openai_server):
    openai = pytest.importorskip("openai")
    sdk = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0, timeout=10)
    openai_server.set_scenario("sdk", chunks=["Hel", "lo", "!"], prompt_tokens=7)
    stream = sdk.chat.completions.create(
        model="sdk", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello!"
    assert chunks[-1].usage.prompt_tokens == 7 and chunks[-1].usage.completion_tokens == 3
    sdk.close()


def test_litellm_acompletion_streams_with_usage(openai_server):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before the import
    litellm = pytest.importorskip("litellm")
    openai_server.set_scenario("x", n_chunks=50, chunk_text=" tok")

    async def run():
        response = await litellm.acompletion(
            model="openai/x", api_base=openai_server.base_url, api_key="sk-test", messages=MESSAGES,
            stream=True, stream_options={"include_usage": True}, timeout=10,
        )
        text, usage = [], None
        async for c in response:
            if c.choices and c.choices[0].delta.content:
                text.append(c.choices[0].delta.content)
            usage = getattr(c, "usage", None) or usage
        return "".join(text), usage

    text, usage = asyncio.run(asyncio.wait_for(run(), 30))
    assert text == " tok" * 50
    assert usage.completion_tokens == 50
    [record] = openai_server.log()
    assert record["model"] == "x" and record["headers"]["authorization"] == "Bearer sk-test"


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, "ContextWindowExceededError"), (401, "AuthenticationError"), (429, "RateLimitError"), (503, "ServiceUnavailableError")],
)
def test_litellm_classifies_status_faults(openai_server, status, error):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before the import
    litellm = pytest.importorskip("litellm")
    openai_server.set_scenario("e", fault="status", status_code=status)
    call = litellm.acompletion(
        model="openai/e", api_base=openai_server.base_url, api_key="sk-test", messages=MESSAGES,
        stream=True, timeout=10, max_retries=0,
    )
    with pytest.raises(Exception) as info:
        asyncio.run(asyncio.wait_for(call, 30))
    assert type(info.value).__name__ == error


def test_legacy_completions_stream(openai_server, client):
    openai_server.set_scenario("c", chunks=["a", "b"])
    body = {"model": "c", "prompt": "hi", "stream": True, "stream_options": {"include_usage": True}}
    _, events = stream_events(client, openai_server, body, path="/completions")
    assert json.loads(events[0])["object"] == "text_completion"
    assert contents(events) == ["a", "b"]
    assert json.loads(events[-3])["choices"][0]["finish_reason"] == "stop"
    assert json.loads(events[-2])["usage"]["completion_tokens"] == 2 and events[-1] == "[DONE]"


def test_models_and_admin(openai_server, client):
    openai_server.set_scenario("alpha", n_chunks=3)
    ids = [m["id"] for m in client.get(openai_server.base_url + "/models").json()["data"]]
    assert "alpha" in ids
    with pytest.raises(ValueError, match="unknown scenario field"):
        openai_server.set_scenario("alpha", chunk_size=3)
    with pytest.raises(ValueError, match="unknown fault"):
        openai_server.set_scenario("alpha", fault="explode")
    assert client.post(openai_server.base_url + "/nope", json={}).status_code == 404
    assert client.post(openai_server.base_url + "/chat/completions", content=b"{oops").status_code == 400


# -- content, log and timing ------------------------------------------------------------


def test_echo_and_log_record_what_was_sent(openai_server, client):
    openai_server.set_scenario(None, echo=True)
    _, events = stream_events(client, openai_server, chat(model="any"))
    assert "".join(contents(events)) == "Say hello to the bench"
    [rec] = openai_server.log()
    assert rec["body"]["messages"] == MESSAGES and rec["stream"] and rec["outcome"] == "complete"
    assert [c["text"] for c in rec["chunks"]] == [f"data: {e}\n\n" for e in events]
    times = [rec["received_ns"], rec["head_ns"], *(c["t_ns"] for c in rec["chunks"]), rec["ended_ns"]]
    assert times == sorted(times)


def test_keep_alive_reuses_the_connection(openai_server, client):
    for _ in range(3):
        stream_events(client, openai_server, chat())
    assert len({r["peer"] for r in openai_server.log()}) == 1


def test_first_token_delay_and_interval_follow_the_schedule(openai_server, client):
    openai_server.set_scenario("t", n_chunks=20, first_token_delay_s=0.2, chunk_interval_s=0.01)
    t0 = time.perf_counter_ns()
    stream_events(client, openai_server, chat(model="t"))
    [rec] = openai_server.log()
    assert rec["received_ns"] > t0  # perf_counter is comparable across processes
    sent = [c["t_ns"] for c in rec["chunks"] if '"content":" tok"' in c["text"]]
    late_ms = [(t - rec["received_ns"] - 200e6 - i * 10e6) / 1e6 for i, t in enumerate(sent)]
    assert all(0 <= ms < 30 for ms in late_ms), late_ms


def test_scenario_per_model_falls_back_to_default(openai_server, client):
    openai_server.set_scenario(None, chunks=["default"])
    openai_server.set_scenario("m", chunks=["named"])
    assert contents(stream_events(client, openai_server, chat(model="m"))[1]) == ["named"]
    assert contents(stream_events(client, openai_server, chat(model="other"))[1]) == ["default"]


def test_client_disconnect_is_logged(openai_server, client):
    openai_server.set_scenario("slow", n_chunks=100, chunk_interval_s=0.05)
    with client.stream("POST", openai_server.base_url + "/chat/completions", json=chat(model="slow")) as r:
        next(r.iter_lines())
    rec = wait_for(lambda: [x for x in openai_server.log() if x["outcome"]])[0]
    assert rec["outcome"] == "client_disconnected"


# -- faults -------------------------------------------------------------------------------


def test_status_faults_use_openai_error_bodies(openai_server, client):
    openai_server.set_scenario("e", fault="status", status_code=429, retry_after="2")
    r = client.post(openai_server.base_url + "/chat/completions", json=chat(model="e"))
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert r.json()["error"]["code"] == "rate_limit_exceeded"
    openai_server.set_scenario("e", fault="status", status_code=400)
    assert client.post(openai_server.base_url + "/chat/completions", json=chat(model="e")).json()["error"]["code"] == (
        "context_length_exceeded"
    )


def test_status_fault_fail_times_then_serves(openai_server, client):
    openai_server.set_scenario("flaky", fault="status", status_code=503, fail_times=2)
    codes = [stream_events(client, openai_server, chat(model="flaky"))[0].status_code for _ in range(3)]
    assert codes == [503, 503, 200]


def test_reset_mid_stream_sends_rst(openai_server, client):
    openai_server.set_scenario("r", fault="reset_mid_stream", fault_after_chunks=3, chunk_interval_s=0.01)
    got = []
    with pytest.raises(httpx.ReadError):
        with client.stream("POST", openai_server.base_url + "/chat/completions", json=chat(model="r")) as r:
            got.extend(line for line in r.iter_lines() if line.startswith("data: "))
    assert len(got) <= 1 + 3
    assert openai_server.log()[0]["outcome"] == "cut"


def test_close_mid_stream_ends_without_finish_or_done(openai_server, client):
    openai_server.set_scenario("c", fault="close_mid_stream", fault_after_chunks=3)
    got = []
    with pytest.raises(httpx.RemoteProtocolError):  # the chunked body never ends
        with client.stream("POST", openai_server.base_url + "/chat/completions", json=chat(model="c")) as r:
            got.extend(line[6:] for line in r.iter_lines() if line.startswith("data: "))
    assert len(got) == 4 and len(contents(got)) == 3
    assert all(json.loads(e)["choices"][0]["finish_reason"] is None for e in got)


def test_stall_before_first_token_times_out_and_frees_the_server(openai_server, client):
    openai_server.set_scenario("s", fault="stall_before_first_token")
    timeout = httpx.Timeout(5.0, read=0.5)
    with pytest.raises(httpx.ReadTimeout):
        with client.stream("POST", openai_server.base_url + "/chat/completions", json=chat(model="s"), timeout=timeout) as r:
            assert r.status_code == 200  # headers came; then nothing
            list(r.iter_lines())
    assert wait_for(lambda: openai_server.log()[0]["outcome"]) == "client_disconnected"


def test_short_stall_delays_first_token(openai_server, client):
    openai_server.set_scenario("s", fault="stall_before_first_token", stall_s=0.3, chunks=["x"])
    start = time.perf_counter()
    _, events = stream_events(client, openai_server, chat(model="s"))
    assert contents(events) == ["x"] and time.perf_counter() - start >= 0.3


def test_stall_mid_stream(openai_server, client):
    openai_server.set_scenario("s", fault="stall_mid_stream", fault_after_chunks=2)
    got = []
    with pytest.raises(httpx.ReadTimeout):
        with client.stream(
            "POST", openai_server.base_url + "/chat/completions", json=chat(model="s"), timeout=httpx.Timeout(5.0, read=0.5)
        ) as r:
            got.extend(line[6:] for line in r.iter_lines() if line.startswith("data: "))
    assert len(contents(got)) == 2


@pytest.mark.parametrize("then", ["continue", "stop"])
def test_malformed_chunk(openai_server, client, then):
    openai_server.set_scenario("m", fault="malformed_chunk", fault_after_chunks=1, chunks=["a", "b"], then=then)
    _, events = stream_events(client, openai_server, chat(model="m"))
    assert events[2] == "{not json"
    if then == "continue":
        assert events[-1] == "[DONE]" and contents([e for e in events if e != "{not json"]) == ["a", "b"]
    else:
        assert len(events) == 3


def test_no_done(openai_server, client):
    openai_server.set_scenario("n", fault="no_done", chunks=["a"])
    r, events = stream_events(client, openai_server, chat(model="n"))
    assert "[DONE]" not in events and r.headers["connection"] == "close"
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "stop"


def test_empty_completion(openai_server, client):
    openai_server.set_scenario("e", fault="empty_completion")
    _, events = stream_events(client, openai_server, chat(model="e"))
    assert contents(events) == []
    assert json.loads(events[-2])["usage"]["completion_tokens"] == 0 and events[-1] == "[DONE]"


def test_content_filter(openai_server, client):
    openai_server.set_scenario("f", fault="content_filter", fault_after_chunks=2)
    _, events = stream_events(client, openai_server, chat(model="f"))
    assert len(contents(events)) == 2
    assert json.loads(events[-3])["choices"][0]["finish_reason"] == "content_filter"


def test_huge_completion(openai_server, client):
    openai_server.set_scenario("h", fault="huge")
    _, events = stream_events(client, openai_server, chat(model="h"), timeout=httpx.Timeout(30.0))
    text = "".join(contents(events))
    assert len(text) == 5_000_000 and events[-1] == "[DONE]"


def test_slow_drip_sends_one_byte_at_a_time(openai_server):
    openai_server.set_scenario("d", fault="slow_drip", drip_interval_s=0.05)
    body = json.dumps(chat(model="d")).encode()
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with socket.create_connection(("127.0.0.1", openai_server.port), timeout=5) as s:
        s.sendall(request)
        start, got = time.perf_counter(), b""
        for _ in range(8):
            got += s.recv(65536)
        elapsed = time.perf_counter() - start
    assert got == b"HTTP/1.1"[: len(got)] and len(got) == 8
    assert 0.3 <= elapsed < 3


def test_close_mid_header(openai_server, client):
    openai_server.set_scenario("h", fault="close_mid_header")
    body = json.dumps(chat(model="h")).encode()
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    data = raw_exchange(openai_server, request)
    assert data.startswith(b"HTTP/1.1 200") and b"\r\n\r\n" not in data
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(openai_server.base_url + "/chat/completions", json=chat(model="h"))


@pytest.mark.parametrize(
    ("fault", "error"), [("reset_mid_stream", httpx.ReadError), ("close_mid_stream", httpx.RemoteProtocolError)]
)
def test_faults_apply_to_non_streaming_requests(openai_server, client, fault, error):
    openai_server.set_scenario("w", fault=fault)
    with pytest.raises(error):
        client.post(openai_server.base_url + "/chat/completions", json=chat(model="w", stream=False))


# -- HTTP details and process lifetime ---------------------------------------------------


def test_pipelined_and_chunked_requests(openai_server):
    openai_server.set_scenario(None, chunks=["ok"])
    body = json.dumps(chat(stream=False)).encode()
    one = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    two = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )
    data = raw_exchange(openai_server, one + two)
    assert data.count(b"HTTP/1.1 200 OK") == 2 and data.count(b'"content":"ok"') == 2


def test_free_port_refuses_connections():
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{free_port()}/v1/models", timeout=2, trust_env=False)


def test_server_stops_promptly_with_a_stalled_stream():
    server = FakeOpenAIServer().start()
    body = json.dumps(chat(stream=True)).encode()
    try:
        server.set_scenario(None, fault="stall_before_first_token")
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            start = time.perf_counter()
            assert server.stop() == 0
            assert time.perf_counter() - start < 3
            while sock.recv(65536):  # the stalled stream gets closed (a hang would time out)
                pass
    finally:
        server.stop()
