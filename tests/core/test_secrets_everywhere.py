"""Planted keys (an env var and a keyring entry) are used for requests but appear nowhere.

Every CLI command that prints or writes run data runs once over a workspace whose runs
include a success, 401s whose error message echoes the key (on the OpenAI-compatible
path and on the litellm path), and a connection error. Then everything is searched:
every file under the workspace (.git, .promptbench, the SQLite db + wal/shm), the test's
HOME (where crash reports or caches would land), all CLI stdout/stderr, and every log
record (litellm's logger and the root logger at DEBUG).
"""

from __future__ import annotations

import json
import logging

import keyring
import pytest
from keyring.backend import KeyringBackend

from promptbench.cli import main
from promptbench.testing.fakeclient import free_port
from tests.conftest import SIMPLE_PROMPT

ENV_KEY = "pbtest-ENVPLANT-5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"      # not shaped like any provider key
RING_KEY = "pbtest-RINGPLANT-0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"
ENV_NAME = "PB_GATEWAY_AUTH"  # a name redact() cannot guess is secret (no KEY/TOKEN/SECRET in it)
RING_REF = "pbtest-gateway/alice"
SECRETS = (ENV_KEY, RING_KEY)


class MemoryKeyring(KeyringBackend):
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
def planted(monkeypatch):
    monkeypatch.setenv(ENV_NAME, ENV_KEY)
    original = keyring.get_keyring()
    ring = MemoryKeyring()
    ring.set_password(*RING_REF.split("/"), RING_KEY)
    keyring.set_keyring(ring)
    yield
    keyring.set_keyring(original)


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record):
        self.texts.append(self.format(record))
        self.texts.append(repr(record.__dict__))  # args, extra fields, exc_info: everything it carries


def denied_message(key: str) -> str:
    return f"Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys."


def write_catalog(workspace, server_url: str) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    toml = workspace.root / "promptbench.toml"
    toml.write_text(toml.read_text() + f"""
[models.gw-ok]
model = "openai/ok"
api_base = "{server_url}"
api_key_env = "{ENV_NAME}"
input_cost_per_mtok = 1.0
output_cost_per_mtok = 2.0

[models.gw-denied]
model = "openai/denied-env"
api_base = "{server_url}"
api_key_env = "{ENV_NAME}"

[models.gw-ring-denied]
model = "openai/denied-ring"
api_base = "{server_url}"
keyring = "{RING_REF}"

[models.gw-llm-denied]
model = "custom_openai/denied-llm"
api_base = "{server_url}"
api_key_env = "{ENV_NAME}"

[models.gw-down]
model = "openai/down"
api_base = "{down}"
api_key_env = "{ENV_NAME}"
""")


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"key {secret[:14]}... found in {where}: ...{text[max(0, text.find(secret) - 200):text.find(secret) + 80]}..."


def test_planted_keys_appear_nowhere(workspace, openai_server, planted, capsys, tmp_path, _isolated_git):
    openai_server.set_scenario("ok", chunks=[" hello", " Ada"])
    openai_server.set_scenario("denied-env", fault="status", status_code=401, error_message=denied_message(ENV_KEY))
    openai_server.set_scenario("denied-ring", fault="status", status_code=401, error_message=denied_message(RING_KEY))
    openai_server.set_scenario("denied-llm", fault="status", status_code=401, error_message=denied_message(ENV_KEY))
    write_catalog(workspace, openai_server.base_url)
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT)
    ws = ["--workspace", str(workspace.root)]
    models = ["-m", "gw-ok", "-m", "gw-denied", "-m", "gw-ring-denied", "-m", "gw-llm-denied", "-m", "gw-down"]

    capture = Capture()
    root, llm_logger = logging.getLogger(), logging.getLogger("LiteLLM")
    saved = (root.level, llm_logger.level)
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    llm_logger.setLevel(logging.DEBUG)
    outputs: list[tuple[str, str]] = []

    def cli(*argv: str, expect: tuple[int, ...] = (0,)) -> str:
        code = main([*ws, *argv])
        out, err = capsys.readouterr()
        outputs.append((" ".join(argv), out + "\n" + err))
        assert code in expect, f"{argv}: exit {code}\n{out}\n{err}"
        return out

    try:
        cli("compare", "greeter", "--test", "0", *models, expect=(2,))
        data = json.loads(cli("compare", "greeter", "--test", "0", *models, "--json", expect=(2,)))
        got = {r["model"]: (r["status"], r["error_class"]) for r in data["runs"]}
        assert got == {"gw-ok": ("finished", None), "gw-denied": ("error", "auth"), "gw-ring-denied": ("error", "auth"),
                       "gw-llm-denied": ("error", "auth"), "gw-down": ("error", "connection")}
        json.loads(cli("eval", "greeter", "--test", "0", "-m", "gw-ok", "-m", "gw-denied", "-m", "gw-ring-denied",
                       "--json", expect=(0, 1, 2)))

        from promptbench.core.runs import RunStore
        from promptbench.core.votes import VoteStore
        from promptbench.core.ranking import Contestant

        runs = {r["model_name"]: r for r in data["runs"]} if "model_name" in data["runs"][0] else {r["model"]: r for r in data["runs"]}
        db = next(workspace.root.rglob("promptbench.db"))
        with RunStore(db) as store:
            votes = VoteStore(store, voter="ada")
            version = data.get("prompt_version") or "v1"
            a, b = Contestant("greeter.prompt.yml", version, "gw-ok"), Contestant("greeter.prompt.yml", version, "gw-denied")
            votes.record_vote(a=a, b=b, winner="a", test_case=0, a_run_id=runs["gw-ok"].get("run_id") or runs["gw-ok"].get("id"),
                              b_run_id=runs["gw-denied"].get("run_id") or runs["gw-denied"].get("id"), prompt_path="greeter.prompt.yml")

        cli("export", "runs", "--format", "jsonl", "--with-text")
        cli("export", "runs", "--format", "csv", "--with-text")
        cli("export", "runs", "--format", "csv", "-o", str(workspace.root / "runs.csv"))
        cli("export", "preferences")
        cli("votes", "export")
        cli("leaderboard", "--json")
        cli("models", "--json", "--no-ollama")
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        llm_logger.setLevel(saved[1])

    sent = {r["model"]: r["headers"].get("authorization") for r in openai_server.log()}
    assert sent["denied-env"] == f"Bearer {ENV_KEY}" and sent["denied-ring"] == f"Bearer {RING_KEY}"  # really used
    assert sent["denied-llm"] == f"Bearer {ENV_KEY}"  # the litellm path ran too

    for argv, text in outputs:
        assert_clean(f"the output of `promptbench {argv}`", text)
    assert capture.texts, "no log records captured"
    for text in capture.texts:
        assert_clean("a log record", text)
    files = [p for p in tmp_path.rglob("*") if p.is_file()] + [p for p in _isolated_git.rglob("*") if p.is_file()]
    assert any(p.name == "promptbench.db" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, f"key {secret[:14]}... found in {path}"
