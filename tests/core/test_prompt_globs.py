"""``[workspace] prompt_globs`` in promptbench.toml: more files listed as prompts (in
`promptbench list`, the app's prompt list and name lookup) besides ``*.prompt.yml|yaml``,
never from private or skipped folders and never from outside the workspace."""

from __future__ import annotations

import json

import pytest

from promptbench import cli
from promptbench.core.settings.config import ConfigError, load_settings, parse_settings
from promptbench.core.errors import StoreError
from tests.conftest import SIMPLE_PROMPT

GLOBS = '[workspace]\nprompt_globs = ["**/*_prompt.yml", "evals/*.yml"]\n'
FILES = ["z.prompt.yml", "top_prompt.yml", "x/y/deep_prompt.yml", "evals/check.yml", "evals/more/not-matched.yml",
         "evals/notes.md", "evals/other.yaml", ".hidden/secret_prompt.yml", "node_modules/pkg/dep_prompt.yml",
         ".promptbench/drafts/d_prompt.yml", "plain.yml"]
LISTED = ["top_prompt.yml", "z.prompt.yml", "evals/check.yml", "x/y/deep_prompt.yml"]   # walk order, as before


@pytest.fixture
def ws(workspace):
    for rel in FILES:
        path = workspace.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SIMPLE_PROMPT.replace("Greeter", rel))
    (workspace.root / "promptbench.toml").write_text(GLOBS)
    return workspace


def run(capsys, ws, *args):
    code = cli.main(["--workspace", str(ws.root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_globs_add_to_the_prompt_yml_files_and_skip_private_folders(ws):
    assert ws.list_prompts() == LISTED
    assert load_settings(ws.root).prompt_globs == ("**/*_prompt.yml", "evals/*.yml")


def test_without_globs_only_prompt_yml_files_are_listed(ws):
    (ws.root / "promptbench.toml").write_text("")
    assert ws.list_prompts() == ["z.prompt.yml"]


def test_list_shows_them_and_a_bare_name_finds_them(capsys, ws):
    code, out, err = run(capsys, ws, "list", "--json")
    assert code == 0, err
    assert [item["path"] for item in json.loads(out)] == LISTED
    for name, rel in (("deep_prompt", "x/y/deep_prompt.yml"), ("deep_prompt.yml", "x/y/deep_prompt.yml"),
                      ("check", "evals/check.yml"), ("z", "z.prompt.yml")):
        assert ws.resolve(name) == rel
        code, out, err = run(capsys, ws, "render", name, "--test", "0", "--json")
        assert code == 0 and json.loads(out)["path"] == rel, err


def test_new_prompts_still_get_prompt_yml_names(ws):
    with pytest.raises(StoreError, match="must end in .prompt.yml"):
        ws.create("evals/new.yml", SIMPLE_PROMPT)   # matches a glob, but promptbench names its own files
    ws.create("evals/new.prompt.yml", SIMPLE_PROMPT)
    assert "evals/new.prompt.yml" in ws.list_prompts()


@pytest.mark.parametrize("value, needle", [
    ('["../other/*.yml"]', "'../other/*.yml' leads out of the workspace"),
    ('["evals/../../x.yml"]', "leads out of the workspace"),
    ('["/etc/*.yml"]', "'/etc/*.yml' is not relative to the workspace"),
    ('["~/prompts/*.yml"]', "is not relative to the workspace"),
    ('"**/*.yml"', "expected list, got str"),
    ('["ok/*.yml", 3]', "expected a list of glob patterns (strings)"),
    ('[""]', "an empty pattern matches nothing"),
])
def test_bad_globs_are_refused_naming_the_file_line_and_key(capsys, ws, value, needle):
    (ws.root / "promptbench.toml").write_text(f"# settings\n[workspace]\nprompt_globs = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(ws.root)
    assert str(caught.value).startswith("promptbench.toml:3: workspace.prompt_globs: ") and needle in str(caught.value)
    code, _, err = run(capsys, ws, "list")
    assert code == 2 and "promptbench: error: promptbench.toml:3: workspace.prompt_globs: " in err and needle in err
    assert ws.list_prompts() == ["z.prompt.yml"]   # the app keeps listing *.prompt.yml meanwhile


def test_an_unknown_workspace_key_is_refused_like_other_tables():
    with pytest.raises(ConfigError, match=r"promptbench.toml:2: workspace.prompt_glob: unknown field; known: prompt_globs"):
        parse_settings('[workspace]\nprompt_glob = ["*.yml"]\n')
    with pytest.raises(ConfigError, match=r"workspace: expected a table \[workspace\]"):
        parse_settings('workspace = 3\n')


def test_a_globbed_file_evaluates_like_any_prompt(capsys, ws, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    (ws.root / "promptbench.toml").write_text(
        GLOBS + f'\n[models.replier]\nmodel = "openai/replier"\napi_base = "{openai_server.base_url}"\n'
                'api_key_env = "PB_TEST_KEY"\n')
    openai_server.set_scenario("replier", chunks=["Hello Ada!"])
    code = cli.main(["--workspace", str(ws.root), "eval", "deep_prompt", "-m", "replier", "--test", "0", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["prompt"] == "x/y/deep_prompt.yml" and "outside" not in err
