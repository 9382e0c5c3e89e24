"""A planted API key is used for requests but never appears in anything promptbench writes."""

from __future__ import annotations

import json

from promptbench.cli import main
from tests.conftest import SIMPLE_PROMPT

KEY = "pbtest-PLANTED-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_planted_key_is_sent_but_never_written(workspace, openai_server, monkeypatch, capsys):
    monkeypatch.setenv("PB_PLANTED_KEY", KEY)
    toml = workspace.root / "promptbench.toml"
    toml.write_text(toml.read_text() + f"""
[models.gw-ok]
model = "openai/ok"
api_base = "{openai_server.base_url}"
api_key_env = "PB_PLANTED_KEY"

[models.gw-denied]
model = "openai/denied"
api_base = "{openai_server.base_url}"
api_key_env = "PB_PLANTED_KEY"
""")
    openai_server.set_scenario("ok", chunks=[" hello", " world"])
    openai_server.set_scenario("denied", fault="status", status_code=401,
                               error_message=f"Incorrect API key provided: {KEY}. You can find your API key at ...")
    workspace.save("greeter.prompt.yml", SIMPLE_PROMPT)
    code = main(["--workspace", str(workspace.root), "compare", "greeter", "--test", "0",
                 "-m", "gw-ok", "-m", "gw-denied", "--json"])
    out, err = capsys.readouterr()
    assert code == 2  # one run failed
    data = json.loads(out)
    statuses = {r["model"]: (r["status"], r["error_class"]) for r in data["runs"]}
    assert statuses == {"gw-ok": ("finished", None), "gw-denied": ("error", "auth")}
    assert "[REDACTED]" in next(r["error"] for r in data["runs"] if r["model"] == "gw-denied")

    sent = [r["headers"].get("authorization") for r in openai_server.log()]
    assert sent and all(h == f"Bearer {KEY}" for h in sent)  # the key was really used

    assert KEY not in out and KEY not in err
    written = [p for p in workspace.root.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert any(p.name == "promptbench.db" for p in written)
    for path in written + list((workspace.root / ".git").rglob("*")):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), f"key found in {path}"
