"""Keys: env vars, the keyring (a real in-memory backend and the fail backend), redaction."""

from __future__ import annotations

import json
import logging

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from promptbench.core.settings.config import ModelConfig, Settings, resolve_model
from promptbench.core.errors import PromptbenchError
from promptbench.core.redaction import REDACTED, install_log_redaction, redact
from promptbench.core.settings.secrets import get_api_key, key_source, key_status, store_key_in_keyring

OPENAI_KEY = "sk-proj-Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def cfg(**kw) -> ModelConfig:
    base = dict(name="m", model="openai/gpt-4o-mini", provider="openai")
    return ModelConfig(**{**base, **kw})


def test_env_source(monkeypatch):
    c = cfg(api_key_env="MY_OPENAI_KEY")
    monkeypatch.delenv("MY_OPENAI_KEY", raising=False)
    assert key_source(c) == "env:MY_OPENAI_KEY"
    assert get_api_key(c) is None
    assert key_status(c) == {"source": "env:MY_OPENAI_KEY", "available": False, "detail": "MY_OPENAI_KEY is not set", "required": True}
    monkeypatch.setenv("MY_OPENAI_KEY", OPENAI_KEY)
    assert get_api_key(c) == OPENAI_KEY
    status = key_status(c)
    assert status["available"] and status["detail"] == "set"
    assert OPENAI_KEY not in json.dumps(status)


def test_provider_default_env_only_for_the_providers_own_endpoint(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    assert key_source(resolve_model(Settings(), "openai/gpt-4o-mini")) == "env:OPENAI_API_KEY"
    assert get_api_key(resolve_model(Settings(), "gpt-4o")) == OPENAI_KEY
    gateway = cfg(api_base="http://127.0.0.1:4000/v1")  # never send the OpenAI key to a gateway
    assert key_source(gateway) is None and get_api_key(gateway) is None
    assert key_status(gateway)["available"] is False and "api_key_env" in key_status(gateway)["detail"]
    for local in (resolve_model(Settings(), "local/smollm2-135m-instruct"), resolve_model(Settings(), "ollama/llama3")):
        assert key_source(local) is None and get_api_key(local) is None
        assert key_status(local) == {"source": None, "available": True, "detail": "no key needed", "required": False}


def test_keyring_in_memory(memory_keyring, monkeypatch):
    c = cfg(keyring="promptbench/openai")
    assert key_source(c) == "keyring:promptbench/openai"
    assert get_api_key(c) is None
    assert "no key stored" in key_status(c)["detail"] and not key_status(c)["available"]
    store_key_in_keyring("promptbench", "openai", OPENAI_KEY)
    assert memory_keyring.store == {("promptbench", "openai"): OPENAI_KEY}
    assert get_api_key(c) == OPENAI_KEY
    assert key_status(c) == {"source": "keyring:promptbench/openai", "available": True, "detail": "set", "required": True}
    # "service" alone -> username "api_key"; env wins over keyring when both are configured and set
    memory_keyring.set_password("svc", "api_key", "k" * 24)
    assert key_source(cfg(keyring="svc")) == "keyring:svc/api_key" and get_api_key(cfg(keyring="svc")) == "k" * 24
    both = cfg(keyring="svc", api_key_env="BOTH_KEY")
    monkeypatch.delenv("BOTH_KEY", raising=False)
    assert key_source(both) == "keyring:svc/api_key" and get_api_key(both) == "k" * 24
    monkeypatch.setenv("BOTH_KEY", "e" * 24)
    assert key_source(both) == "env:BOTH_KEY" and get_api_key(both) == "e" * 24


def test_no_keyring_backend(no_keyring):
    c = cfg(keyring="promptbench/openai")
    assert get_api_key(c) is None
    status = key_status(c)
    assert status["available"] is False and status["detail"].startswith("no keyring backend:")
    with pytest.raises(PromptbenchError) as info:
        store_key_in_keyring("promptbench", "openai", OPENAI_KEY)
    assert "api_key_env" in str(info.value) and "keyrings.alt" in str(info.value)
    assert OPENAI_KEY not in str(info.value)


@pytest.mark.parametrize("secret", [
    OPENAI_KEY,
    "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "sk-or-v1-0123456789abcdef0123456789abcdef",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv",
    "gsk_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "xai-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
    "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
])
def test_redact_key_shapes(secret):
    text = f"Error code: 401 - {{'error': {{'message': 'Incorrect API key provided: {secret}.'}}}}"
    out = redact(text)
    assert secret not in out and REDACTED in out and out.startswith("Error code: 401")


def test_redact_bearer_assignments_env_and_extra(monkeypatch):
    assert redact("Authorization: Bearer abc.def-ghi_jkl") == f"Authorization: Bearer {REDACTED}"
    assert redact("GET /v1?api_key=q1w2e3r4t5y6&x=1") == f"GET /v1?api_key={REDACTED}&x=1"
    monkeypatch.setenv("WEIRD_GATEWAY_TOKEN", "plainlookingvalue42")
    assert redact("echo plainlookingvalue42!") == f"echo {REDACTED}!"
    assert redact("my custom secret thing", extra_secrets=["custom secret thing"]) == f"my {REDACTED}"
    # ordinary text and model names survive
    for text in ("model openai/gpt-4o-mini failed: 429 rate limited", "OPENAI_API_KEY is not set", "task-1234567890abcdef"):
        assert redact(text) == text


def test_log_redaction_on_litellm_loggers(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    install_log_redaction()
    install_log_redaction()  # idempotent
    logger = logging.getLogger("LiteLLM")
    assert sum(type(f).__name__ == "RedactingFilter" for f in logger.filters) == 1
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep()
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("POST Request Sent: headers={'Authorization': 'Bearer %s'} key=%s", OPENAI_KEY, OPENAI_KEY)
        try:
            raise ValueError(f"bad key {OPENAI_KEY}")
        except ValueError:
            logging.getLogger("LiteLLM Router").exception("router failed with %s", "sk-ant-api03-AbCdEfGhIjKlMnOpQrSt")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert records and all(OPENAI_KEY not in r for r in records)
    assert "REDACTED" in records[0]  # ours, or litellm's own filter once litellm is imported
    router_text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if r.name == "LiteLLM Router")
    assert "router failed with" in router_text and "sk-ant-api03" not in router_text and OPENAI_KEY not in router_text
