"""promptbench.toml: parsing, refusing keys, resolving models, atomic rewrites, Ollama detection."""

from __future__ import annotations

import socket
import time

import pytest

from promptbench.core.settings import config
from promptbench.core.settings.config import (
    ConfigError, ModelConfig, Settings, detect_ollama_models, list_all_models, load_settings, resolve_model,
)
from promptbench.core.settings.write import remove_model, save_model
from promptbench.core.errors import PromptbenchError

GOOD = """\
# workspace settings (committed)
[local]
mode = "parallel"            # how local models share the CPU

[compare]
default_models = ["local/smollm2-135m-instruct", "gpt-mini"]

[models.gpt-mini]
model = "openai/gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"

# a gateway in front of a local llama
[models.my-gateway]
model = "openai/llama-3.1-8b"
api_base = "http://127.0.0.1:4000/v1"
api_key_env = "GATEWAY_KEY"
input_cost_per_mtok = 0.05
output_cost_per_mtok = 0.08
params = { temperature = 0.2 }
max_concurrency = 4

[models.claude]
model = "anthropic/claude-3-5-haiku-latest"
keyring = "promptbench/anthropic"

[providers.openai]
max_concurrency = 8

[timeouts]
connect_s = 5
first_token_s = 45.5
idle_s = 20

[retries]
max = 1

[ui]   # a section another part of the app owns
theme = "dark"
"""


def write(tmp_path, text):
    (tmp_path / "promptbench.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_missing_file_gives_defaults(tmp_path):
    s = load_settings(tmp_path)
    assert s == Settings()
    assert s.local_mode == "sequential" and s.max_retries == 3 and s.models == {}
    assert s.default_models == ["local/smollm2-135m-instruct", "local/gemma3-270m"]


def test_good_file(tmp_path):
    s = load_settings(write(tmp_path, GOOD))
    assert s.local_mode == "parallel"
    assert s.default_models == ["local/smollm2-135m-instruct", "gpt-mini"]
    assert set(s.models) == {"gpt-mini", "my-gateway", "claude"}
    gw = s.models["my-gateway"]
    assert gw == ModelConfig(
        name="my-gateway", model="openai/llama-3.1-8b", provider="openai", api_base="http://127.0.0.1:4000/v1",
        api_key_env="GATEWAY_KEY", keyring=None, input_cost_per_mtok=0.05, output_cost_per_mtok=0.08,
        params={"temperature": 0.2}, max_concurrency=4, source="catalog", is_local=False,
    )
    assert s.models["claude"].provider == "anthropic" and s.models["claude"].keyring == "promptbench/anthropic"
    assert s.provider_concurrency == {"openai": 8}
    assert (s.connect_timeout_s, s.first_token_timeout_s, s.idle_timeout_s, s.max_retries) == (5.0, 45.5, 20.0, 1)


BAD = [
    ("[local\nmode = 1\n", "promptbench.toml:1", "invalid TOML"),
    ('[local]\nmode = "fast"\n', "promptbench.toml:2", "local.mode"),
    ("[local]\nmode = 3\n", "promptbench.toml:2", "expected str"),
    ('[compare]\ndefault_models = "gpt"\n', "promptbench.toml:2", "compare.default_models"),
    ('[compare]\ndefault_models = [1, 2]\n', "promptbench.toml:2", "list of model names"),
    ('[models.x]\napi_key_env = "X_KEY"\n', "promptbench.toml:1", "missing model"),
    ('[models.x]\nmodel = "openai/gpt-4o"\nmodle = "y"\n', "promptbench.toml:3", "models.x.modle: unknown field"),
    ('[models.x]\nmodel = "openai/gpt-4o"\nmax_concurrency = "4"\n', "promptbench.toml:3", "expected int"),
    ('[models.x]\nmodel = "openai/gpt-4o"\nmax_concurrency = 0\n', "promptbench.toml:3", "must be > 0"),
    ('[models.x]\nmodel = "openai/gpt-4o"\ninput_cost_per_mtok = true\n', "promptbench.toml:3", "expected a number"),
    ('[models.x]\nmodel = "openai/gpt-4o"\napi_key_env = "my key"\n', "promptbench.toml:3", "NAME of an environment variable"),
    ("[timeouts]\nidle_s = -1\n", "promptbench.toml:2", "timeouts.idle_s: must be > 0"),
    ("[retries]\nmax = 1.5\n", "promptbench.toml:2", "retries.max"),
    ('[providers.openai]\nmax_concurrency = 2\nrate = 3\n', "promptbench.toml:1", "providers.openai"),
    ('models = "x"\n', "promptbench.toml:1", "expected a table [models]"),
]


@pytest.mark.parametrize("text,where,what", BAD)
def test_bad_input_names_file_line_and_field(tmp_path, text, where, what):
    write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert message.startswith(where), message
    assert what in message
    assert isinstance(info.value, PromptbenchError)


KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"


@pytest.mark.parametrize("line,field", [
    (f'api_key = "{KEY}"', "models.x.api_key"),
    ('api_key = "not-even-key-shaped"', "models.x.api_key"),
    (f'api_key_env = "{KEY}"', "models.x.api_key_env"),
    ('api_key_env = "a8f7d6e5c4b3a2918f7e6d5c4b3a2910"', "models.x.api_key_env"),
    ('keyring = "sk-ant-api03-abcdefghijklmnop"', "models.x.keyring"),
    ('params = { api_key = "whatever123" }', "models.x.params.api_key"),
    ('api_base = "https://example.com/v1?key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv"', "models.x.api_base"),
])
def test_keys_are_refused_and_never_echoed(tmp_path, line, field):
    text = f'[models.x]\nmodel = "openai/gpt-4o"\n{line}\n'
    write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    message = str(info.value)
    assert message.startswith(f"promptbench.toml:3: {field}"), message
    assert "api_key_env" in message and "keyring" in message  # says what to do
    value = line.split("=", 1)[1].strip().strip('"{} ')
    assert value.split('"')[-1] not in message or len(value) < 8
    assert KEY not in message and "a8f7d6e5" not in message and "AIzaSy" not in message
    assert (tmp_path / "promptbench.toml").read_text() == text  # untouched


def test_env_var_names_are_not_mistaken_for_keys(tmp_path):
    write(tmp_path, '[models.x]\nmodel = "openai/gpt-4o"\napi_key_env = "MY_COMPANY_GATEWAY_API_KEY_PROD_2024"\n')
    assert load_settings(tmp_path).models["x"].api_key_env == "MY_COMPANY_GATEWAY_API_KEY_PROD_2024"


def test_resolve_each_kind(tmp_path):
    s = load_settings(write(tmp_path, GOOD))
    assert resolve_model(s, "gpt-mini") is s.models["gpt-mini"]
    local = resolve_model(s, "local/smollm2-135m-instruct")
    assert (local.provider, local.source, local.is_local) == ("local", "local", True)
    assert (local.input_cost_per_mtok, local.output_cost_per_mtok) == (0.0, 0.0)
    ollama = resolve_model(s, "ollama/llama3.2")
    assert (ollama.provider, ollama.source, ollama.api_base, ollama.is_local) == ("ollama", "ollama", "http://127.0.0.1:11434", False)
    adhoc = resolve_model(s, "anthropic/claude-sonnet-4-5")
    assert (adhoc.name, adhoc.model, adhoc.provider, adhoc.source) == ("anthropic/claude-sonnet-4-5",) * 2 + ("anthropic", "ad-hoc")
    assert resolve_model(s, "gpt-4o").provider == "openai"
    assert resolve_model(s, "o3-mini").provider == "openai"
    assert resolve_model(s, "claude-3-opus").provider == "anthropic"
    assert resolve_model(s, "gemini-2.5-flash").provider in ("gemini", "vertex_ai")  # from the bundled map
    assert resolve_model(s, "deepseek-chat").provider == "deepseek"
    assert resolve_model(s, "something-nobody-knows").provider == "unknown"
    with pytest.raises(ConfigError):
        resolve_model(s, "  ")


def test_resolving_does_not_import_litellm():
    import subprocess
    import sys

    code = ("import sys; from promptbench.core.settings.config import resolve_model, Settings; "
            "[resolve_model(Settings(), m) for m in ('gpt-4o', 'gemini-2.5-flash', 'whatever', 'local/x')]; "
            "import promptbench.core.providers.tokens, promptbench.core.providers.pricing, promptbench.commands.models; "
            "print('litellm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_save_model_round_trip_keeps_other_sections(tmp_path):
    write(tmp_path, GOOD)
    before = (tmp_path / "promptbench.toml").read_text()
    cfg = ModelConfig(name="new one", model="groq/llama-3.1-8b-instant", provider="groq", api_key_env="GROQ_API_KEY",
                      input_cost_per_mtok=0.05, output_cost_per_mtok=0.08, params={"temperature": 0.5, "stop": ["\n\n", "é\""]},
                      max_concurrency=2, source="catalog")
    save_model(tmp_path, cfg)
    after = (tmp_path / "promptbench.toml").read_text()
    block = ('[models."new one"]\nmodel = "groq/llama-3.1-8b-instant"\napi_key_env = "GROQ_API_KEY"\n'
             'input_cost_per_mtok = 0.05\noutput_cost_per_mtok = 0.08\nmax_concurrency = 2\n'
             'params = { temperature = 0.5, stop = ["\\n\\n", "é\\""] }\n\n')
    assert block in after  # added after the last [models.*] table, before [providers.openai]
    assert after.replace(block, "") == before, "existing text changed"
    s = load_settings(tmp_path)
    assert s.models["new one"] == cfg
    assert s.models["my-gateway"].params == {"temperature": 0.2} and s.local_mode == "parallel"

    # replace in place: the block changes, everything else stays byte-for-byte
    save_model(tmp_path, ModelConfig(name="gpt-mini", model="openai/gpt-4.1-mini", provider="openai", keyring="promptbench/openai", source="catalog"))
    text = (tmp_path / "promptbench.toml").read_text()
    assert "[models.gpt-mini]\nmodel = \"openai/gpt-4.1-mini\"\nkeyring = \"promptbench/openai\"\n\n# a gateway" in text
    assert text.replace('model = "openai/gpt-4.1-mini"\nkeyring = "promptbench/openai"', 'model = "openai/gpt-4o-mini"\napi_key_env = "OPENAI_API_KEY"') == after
    s = load_settings(tmp_path)
    assert list(s.models) == ["gpt-mini", "my-gateway", "claude", "new one"]

    remove_model(tmp_path, "new one")
    assert (tmp_path / "promptbench.toml").read_text() == text.replace(block, "")
    remove_model(tmp_path, "my-gateway")
    s = load_settings(tmp_path)
    assert list(s.models) == ["gpt-mini", "claude"] and s.provider_concurrency == {"openai": 8}
    assert "# workspace settings (committed)" in (tmp_path / "promptbench.toml").read_text()
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(ConfigError, match="no model named 'nope'"):
        remove_model(tmp_path, "nope")


def test_save_into_missing_file_and_refuse_keys(tmp_path, monkeypatch):
    save_model(tmp_path, ModelConfig(name="m", model="openai/gpt-4o-mini", provider="openai", api_key_env="OPENAI_API_KEY"))
    assert (tmp_path / "promptbench.toml").read_text() == '[models.m]\nmodel = "openai/gpt-4o-mini"\napi_key_env = "OPENAI_API_KEY"\n'
    with pytest.raises(ConfigError):
        save_model(tmp_path, ModelConfig(name="bad", model="openai/gpt-4o", provider="openai", api_key_env=KEY))
    with pytest.raises(ConfigError):
        save_model(tmp_path, ModelConfig(name="bad", model="openai/gpt-4o", provider="openai", params={"api_key": "x" * 20}))
    assert KEY not in (tmp_path / "promptbench.toml").read_text() and "bad" not in (tmp_path / "promptbench.toml").read_text()


def test_save_refuses_to_clobber_an_invalid_file(tmp_path):
    write(tmp_path, "[local\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        save_model(tmp_path, ModelConfig(name="m", model="openai/gpt-4o", provider="openai"))
    assert (tmp_path / "promptbench.toml").read_text() == "[local\n"


def test_model_written_as_inline_table_is_not_rewritten(tmp_path):
    write(tmp_path, '[models]\nm = { model = "openai/gpt-4o" }\n')
    with pytest.raises(ConfigError, match="edit it by hand"):
        save_model(tmp_path, ModelConfig(name="m", model="openai/gpt-4o-mini", provider="openai"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_detect_ollama_with_nothing_listening_is_fast_and_empty(monkeypatch):
    monkeypatch.setattr(config, "OLLAMA_BASE", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # trust_env=False: must not be used
    start = time.perf_counter()
    assert detect_ollama_models() == []
    assert time.perf_counter() - start < 1.0


def test_detect_ollama_reads_tags(monkeypatch):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Tags(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"models": [{"name": "llama3.2:1b"}, {"name": "qwen2.5:0.5b"}]}).encode()
            self.send_response(200 if self.path == "/api/tags" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Tags)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(config, "OLLAMA_BASE", f"http://127.0.0.1:{server.server_port}")
        found = detect_ollama_models()
        assert [m.name for m in found] == ["ollama/llama3.2:1b", "ollama/qwen2.5:0.5b"]
        assert all(m.source == "ollama" and m.provider == "ollama" for m in found)
        all_models = list_all_models(Settings(models={"c": resolve_model(Settings(), "openai/gpt-4o")}))
        assert [m.source for m in all_models] == ["ad-hoc", "local", "local", "ollama", "ollama"]
    finally:
        server.shutdown()
        server.server_close()


def test_a_catalog_variant_with_its_own_parameters_does_not_hide_the_local_model():
    from promptbench.core.settings.config import list_all_models, parse_settings

    variant = parse_settings('[models.smollm2-seed7]\nmodel = "local/smollm2-135m-instruct"\nparams = { seed = 7 }\n')
    names = [cfg.name for cfg in list_all_models(variant, detect_ollama=False)]
    assert "smollm2-seed7" in names and "local/smollm2-135m-instruct" in names
    alias = parse_settings('[models.smol]\nmodel = "local/smollm2-135m-instruct"\n')
    names = [cfg.name for cfg in list_all_models(alias, detect_ollama=False)]
    assert "smol" in names and "local/smollm2-135m-instruct" not in names   # the same model under another name
