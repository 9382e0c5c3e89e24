"""Planted keys (an env var and a keyring entry) are used for requests but appear nowhere.

Every CLI command that prints or writes run data runs once over a workspace whose runs
include a success, 401s whose error message echoes the key (on the OpenAI-compatible
path and on the litellm path), and a connection error. Then everything is searched:
every file under the workspace (.git, .promptbench, the SQLite db + wal/shm, the app's log
file), the test's HOME (where crash reports land: one is provoked, from an internal error
whose message carries the key), all CLI stdout/stderr, and every log record (litellm's
logger and the root logger at DEBUG).
"""

from __future__ import annotations

import json
import logging

import keyring
import pytest
from keyring.backend import KeyringBackend

from promptbench.cli import main
from promptbench.core.applog import install_file_log
from promptbench.core.providers.litellm_setup import import_litellm
from promptbench.testing.fakeclient import free_port
from tests.conftest import SIMPLE_PROMPT

ENV_KEY = "pbtest-ENVPLANT-5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"      # not shaped like any provider key
RING_KEY = "pbtest-RINGPLANT-0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a"
ENV_NAME = "PB_GATEWAY_AUTH"  # a name redact() cannot guess is secret (no KEY/TOKEN/SECRET in it)
RING_REF = "pbtest-gateway/alice"
# the keys, and their middles: a key "masked" by keeping its ends still leaks its middle
SECRETS = (ENV_KEY, RING_KEY, ENV_KEY[10:-10], RING_KEY[10:-10])


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

[models.gw-ring-ok]
model = "openai/ok"
api_base = "{server_url}"
keyring = "{RING_REF}"

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


def _with_handler(parser, command: str, handler):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.choices[command].set_defaults(handler=handler)
    return parser


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"key {secret[:14]}... found in {where}: ...{text[max(0, text.find(secret) - 200):text.find(secret) + 80]}..."


def test_planted_keys_appear_nowhere(workspace, openai_server, planted, capsys, tmp_path, _isolated_git, monkeypatch):
    openai_server.set_scenario("ok", chunks=[" hello", " Ada"])
    openai_server.set_scenario("denied-env", fault="status", status_code=401, error_message=denied_message(ENV_KEY))
    openai_server.set_scenario("denied-ring", fault="status", status_code=401, error_message=denied_message(RING_KEY))
    openai_server.set_scenario("denied-llm", fault="status", status_code=401, error_message=denied_message(ENV_KEY))
    write_catalog(workspace, openai_server.base_url)
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT)
    ws = ["--workspace", str(workspace.root)]
    models = ["-m", "gw-ok", "-m", "gw-ring-ok", "-m", "gw-denied", "-m", "gw-ring-denied", "-m", "gw-llm-denied", "-m", "gw-down"]

    import_litellm()  # first: its import sets litellm's loggers back to WARNING
    capture = Capture()
    root, llm_logger = logging.getLogger(), logging.getLogger("LiteLLM")
    saved = (root.level, llm_logger.level, list(root.handlers))
    log_file = install_file_log(workspace.root / ".promptbench" / "logs")  # as the app does
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
        assert got == {"gw-ok": ("finished", None), "gw-ring-ok": ("finished", None), "gw-denied": ("error", "auth"), "gw-ring-denied": ("error", "auth"),
                       "gw-llm-denied": ("error", "auth"), "gw-down": ("error", "connection")}
        json.loads(cli("eval", "greeter", "--test", "0", "-m", "gw-ok", "-m", "gw-denied", "-m", "gw-ring-denied",
                       "--json", expect=(0, 1, 2)))

        from promptbench.core.ranking.leaderboard import Contestant
        from promptbench.core.db.runs import RunStore
        from promptbench.core.ranking.votes import VoteStore

        db = workspace.root / ".promptbench" / "promptbench.db"
        with RunStore(db) as store:
            ids = {r["model_name"]: r["id"] for r in store.list_runs(comparison_id=data["comparison_id"])}
            version = data["prompt_version"]
            VoteStore(store, voter="ada").record_vote(
                a=Contestant("greeter.prompt.yml", version, "gw-ok"), b=Contestant("greeter.prompt.yml", version, "gw-ring-ok"),
                winner="a", test_case=0, a_run_id=ids["gw-ok"], b_run_id=ids["gw-ring-ok"], prompt_path="greeter.prompt.yml")

        cli("export", "runs", "--format", "jsonl", "--with-text")
        cli("export", "runs", "--format", "csv", "--with-text")
        cli("export", "runs", "--format", "csv", "-o", str(workspace.root / "runs.csv"))
        cli("export", "preferences")
        assert "exported 1 preference pair" in outputs[-1][1]
        cli("votes", "export")
        cli("leaderboard", "--json")
        cli("models", "--json", "--no-ollama")

        def buggy(args):  # an internal error whose message carries a key, as a provider's exception text might
            raise RuntimeError(f"unexpected reply: {denied_message(ENV_KEY)} / {RING_KEY}")

        import promptbench.cli as climod

        parser = climod.build_parser
        monkeypatch.setattr(climod, "build_parser", lambda: _with_handler(parser(), "list", buggy))
        cli("list", expect=(3,))
        assert "internal error: RuntimeError" in outputs[-1][1] and "crash-" in outputs[-1][1]
        crash_reports = list((_isolated_git / ".local" / "state" / "promptbench" / "crashes").glob("crash-*.txt"))
        assert len(crash_reports) == 1 and "RuntimeError" in crash_reports[0].read_text()
    finally:
        for handler in root.handlers[:]:
            if handler not in saved[2]:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved[0])
        llm_logger.setLevel(saved[1])
    assert log_file is not None and "LiteLLM" in log_file.read_text()  # the app's log file got litellm's records

    sent = {(r["model"], r["headers"].get("authorization")) for r in openai_server.log()}
    assert {("ok", f"Bearer {ENV_KEY}"), ("ok", f"Bearer {RING_KEY}"), ("denied-env", f"Bearer {ENV_KEY}"),
            ("denied-ring", f"Bearer {RING_KEY}"), ("denied-llm", f"Bearer {ENV_KEY}")} <= sent  # the keys were really used

    for argv, text in outputs:
        assert_clean(f"the output of `promptbench {argv}`", text)
    assert any(t.startswith("{'name': 'LiteLLM'") for t in capture.texts), "litellm's DEBUG records were not captured"
    for text in capture.texts:
        assert_clean("a log record", text)
    files = [p for p in tmp_path.rglob("*") if p.is_file()] + [p for p in _isolated_git.rglob("*") if p.is_file()]
    assert any(p.name == "promptbench.db" for p in files)
    for path in files:
        blob = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in blob, f"key {secret[:14]}... found in {path}"
