"""Hostile input, property-based: prompt files, template values, votes JSONL, settings,
prompt paths and CLI argv. Every input is accepted or refused with a PromptbenchError
that names the file/field: never another exception, never exit code 3, never a hang,
never a write outside the workspace.

The bugs these properties found (and that are fixed) are pinned as regression tests
at the end of the file.
Counters (how many inputs each property tried) are printed with ``pytest -s``.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings, strategies as st

from promptbench.cli import main as cli_main
from promptbench.core.settings.config import ConfigError, load_settings, parse_settings
from promptbench.core.errors import PromptbenchError, PromptFileError, StoreError
from promptbench.core.prompts.promptfile import PromptFile, parse_prompt, parse_prompt_bytes
from promptbench.core.db.runs import RunStore
from promptbench.core.prompts.templating import find_variables, substitute
from promptbench.core.ranking.votes import VoteStore
from tests.conftest import SIMPLE_PROMPT

TRIED: Counter[str] = Counter()
FAST = settings(derandomize=True, deadline=None, max_examples=200, suppress_health_check=list(HealthCheck))
SLOW = settings(derandomize=True, deadline=None, max_examples=60, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print("\nhostile inputs tried per property:", dict(sorted(TRIED.items())))


# -- strategies -------------------------------------------------------------------------
# Text without surrogates (they cannot come out of a UTF-8 file), with odd characters.
WEIRD = st.sampled_from(["\u202e", "\u200b", "\ufeff", "\x00", "\x7f", "\x1b[31m", "\r", "\r\n", "\u2028", "\U0001f600",
                         "{{", "}}", "{%", "%}", "${", "#", ":", "- ", "!!", "&a", "*a", "'", '"', "\\", "\t"])
TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",)), max_size=20), WEIRD), max_size=8).map("".join)
NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(allow_nan=True), TEXT,
                   st.sampled_from(["{{ ''.__class__ }}", "{{a.__init__}}", "{% for x in y %}", "${HOME}", "0x1F", "yes", "~"]))
PROMPT_KEYS = st.sampled_from(["name", "description", "model", "modelParameters", "messages", "testData", "evaluators",
                               "responseFormat", "jsonSchema", "role", "content", "temperature", "maxTokens"])
PLAIN = st.recursive(SCALAR, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                    st.dictionaries(st.one_of(PROMPT_KEYS, NAME), kids, max_size=4)),
                     max_leaves=20)
MESSAGE = st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool", "bogus", ""]),
                                 "content": st.one_of(TEXT, SCALAR)})
PROMPTISH = st.fixed_dictionaries({"messages": st.lists(MESSAGE, max_size=3)},
                                  optional={"name": SCALAR, "model": SCALAR, "modelParameters": PLAIN,
                                            "testData": st.lists(st.dictionaries(NAME, SCALAR, max_size=3), max_size=3),
                                            "evaluators": PLAIN, "responseFormat": SCALAR, "jsonSchema": PLAIN,
                                            "extra": PLAIN})


def _yaml(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


PROMPT_TEXT = st.one_of(TEXT, PROMPTISH.map(_yaml), PLAIN.map(_yaml),
                        st.builds(lambda a, b: a + b, PROMPTISH.map(_yaml), TEXT))


def _check_prompt_error(exc: PromptFileError, source: str) -> None:
    assert exc.problems, "PromptFileError without problems"
    for problem in exc.problems:
        text = str(problem)
        assert "\n" not in text and "\r" not in text, f"problem is not one line: {text!r}"
        assert text.startswith(source), f"problem does not name {source}: {text!r}"
    assert str(exc).startswith(source)


# -- prompt files -------------------------------------------------------------------------
@FAST
@given(PROMPT_TEXT)
@example("messages:\n- role: user\n  content: \"{{ ''.__class__ }}\"\n")
@example("\ufeffmessages: []\n")
@example("[" * 2000)
@example("a: &a [*a, *a]\nmessages: *a\n")
@example("messages: !!python/object/apply:os.system ['echo pwned']\n")
def test_parse_prompt_accepts_or_refuses_clearly(text):
    TRIED["parse_prompt(text)"] += 1
    source = "hostile.prompt.yml"
    try:
        prompt = parse_prompt(text, source)
    except PromptFileError as exc:
        _check_prompt_error(exc, source)
        return
    assert isinstance(prompt, PromptFile)
    again = parse_prompt(prompt.dumps(), source)  # round trip: dumps() -> parse gives the same data
    assert again.to_plain() == prompt.to_plain()


@FAST
@given(st.one_of(st.binary(max_size=300), PROMPT_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                 st.builds(lambda a, b: a + b, PROMPTISH.map(lambda d: _yaml(d).encode()), st.binary(max_size=8))))
@example(b"\xff\xfe m\x00e\x00")
@example(b"messages:\n- role: user\n  content: hi\x00\n")
def test_parse_prompt_bytes_accepts_or_refuses_clearly(raw):
    TRIED["parse_prompt_bytes(raw)"] += 1
    source = "bytes.prompt.yml"
    try:
        prompt = parse_prompt_bytes(raw, source)
    except PromptFileError as exc:
        _check_prompt_error(exc, source)
        return
    assert parse_prompt(prompt.dumps(), source).to_plain() == prompt.to_plain()


@SLOW
@given(st.lists(st.tuples(st.sampled_from(["add_message", "set_message", "add_test_case", "set_field", "remove_message",
                                           "remove_test_case", "set_model_parameter"]),
                          st.integers(-3, 5), TEXT, SCALAR), max_size=5))
def test_mutations_keep_prompt_parseable_or_refuse(ops):
    TRIED["PromptFile mutations"] += 1
    prompt = parse_prompt(SIMPLE_PROMPT, "m.prompt.yml")
    for op, index, text, value in ops:
        try:
            if op == "add_message":
                prompt.add_message("user", text)
            elif op == "set_message":
                prompt.set_message(index, content=text)
            elif op == "add_test_case":
                prompt.add_test_case({"name": value})
            elif op == "set_field":
                prompt.set_field("description", text)
            elif op == "remove_message":
                prompt.remove_message(index)
            elif op == "remove_test_case":
                prompt.remove_test_case(index)
            else:
                prompt.set_model_parameter("temperature", value)
        except PromptFileError as exc:
            _check_prompt_error(exc, "m.prompt.yml")
    try:
        again = parse_prompt(prompt.dumps(), "m.prompt.yml")
    except PromptFileError as exc:  # the edits may make it invalid (e.g. no messages): refused clearly
        _check_prompt_error(exc, "m.prompt.yml")
        return
    assert again.to_plain() == prompt.to_plain()


# -- templating ---------------------------------------------------------------------------
EVIL_TEMPLATES = ["{{ ''.__class__ }}", "{{a.__init__}}", "{{ a.__class__.__mro__ }}", "{% if 1 %}x{% endif %}",
                  "${a}", "{{a}}{{ a }}{{\ta\t}}", "{{{a}}}", "{{ a | upper }}", "{{ 7*7 }}", "{{}}", "{{\na\n}}"]


@FAST
@given(st.lists(st.one_of(TEXT, st.sampled_from(EVIL_TEMPLATES), NAME.map(lambda n: "{{" + n + "}}")), max_size=6).map("".join),
       st.dictionaries(st.one_of(NAME, st.sampled_from(["a", "__class__", "a.__init__"])),
                       st.one_of(TEXT, st.sampled_from(["{{a}}", "{{ b }}", "{% raw %}", "${a}"])), max_size=5))
def test_substitute_is_pure_text(template, values):
    TRIED["substitute(template, values)"] += 1
    out = substitute(template, values)
    assert out == substitute(template, values)  # deterministic
    if not find_variables(template):
        assert out == template  # nothing to substitute: text stays as written (no evaluation)
    for name in find_variables(template):
        assert name in values or ("{{" in out)  # an unknown name stays literally
    # values are not scanned again: substituting into a template whose only placeholder is {{v}}
    for value in values.values():
        assert substitute("<{{v}}>", {"v": value}) == f"<{value}>"
    assert "<class" not in out or "<class" in template or any("<class" in v for v in values.values())
    assert "49" not in out or "49" in template or any("49" in v for v in values.values())


@FAST
@given(st.lists(st.one_of(TEXT, st.sampled_from(EVIL_TEMPLATES)), min_size=1, max_size=4).map("".join),
       st.dictionaries(NAME, SCALAR, max_size=4), st.one_of(st.none(), st.integers(-2, 3)))
def test_render_prompt_with_hostile_text(content, values, case):
    TRIED["render(prompt, case, values)"] += 1
    from promptbench.core.prompts.templating import render

    plain = {"messages": [{"role": "user", "content": content}], "testData": [dict(values)] if values else []}
    try:
        prompt = parse_prompt(_yaml(plain), "r.prompt.yml")
    except PromptFileError as exc:
        _check_prompt_error(exc, "r.prompt.yml")
        return
    try:
        first = render(prompt, case, {k: v for k, v in values.items() if isinstance(v, str)})
    except PromptFileError as exc:
        _check_prompt_error(exc, "r.prompt.yml")
        return
    second = render(prompt, case, {k: v for k, v in values.items() if isinstance(v, str)})
    assert first == second
    for name in first.missing:
        assert "{{" in first.messages[0]["content"]
    assert "__class__" not in first.messages[0]["content"] or "__class__" in content or any(
        "__class__" in str(v) for v in values.values())


# -- votes import -------------------------------------------------------------------------
SIDE = st.fixed_dictionaries({"prompt": st.sampled_from(["p.prompt.yml", "q.prompt.yml"]),
                              "version": st.sampled_from(["v1", "v2"]), "model": st.sampled_from(["m1", "m2"])})
GOOD_VOTE = st.fixed_dictionaries({"a": SIDE, "b": SIDE, "winner": st.sampled_from(["a", "b", "tie", "both_bad"])},
                                  optional={"left": st.sampled_from(["a", "b"]), "blind": st.booleans(),
                                            "test_case": st.one_of(st.none(), st.integers(0, 9), TEXT),
                                            "note": st.one_of(st.none(), TEXT), "voter": st.sampled_from(["ada", "bob"]),
                                            "created_at": st.sampled_from(["2024-05-01T10:00:00Z", "2024-05-01", "yesterday",
                                                                           "9999-99-99", "2024-02-30T25:61:00+99:00"])})
VOTE_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(), TEXT),
                         lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                st.dictionaries(st.sampled_from(["a", "b", "winner", "left", "blind", "id",
                                                                                 "test_case", "created_at", "prompt",
                                                                                 "version", "model", "from_ranking", "voter"]),
                                                                kids, max_size=5)), max_leaves=15)
VOTE_LINE = st.one_of(GOOD_VOTE.map(json.dumps), GOOD_VOTE.map(lambda d: json.dumps(d, ensure_ascii=False)),
                      VOTE_JSON.map(json.dumps), TEXT, st.sampled_from(["", "   ", "NaN", "[]", "{}", '{"a":', "\ufeff{}"]))


@SLOW
@given(st.lists(VOTE_LINE, max_size=12), st.one_of(NAME, TEXT))
def test_votes_import_each_line_imported_or_skipped(tmp_path_factory, lines, source_name):
    TRIED["votes import_jsonl(lines)"] += 1
    TRIED["votes import_jsonl lines"] += len(lines)
    db_path = tmp_path_factory.mktemp("votes") / "promptbench.db"
    runs = RunStore(db_path)
    try:
        report = VoteStore(runs, voter="ada").import_jsonl(io.StringIO("\n".join(lines)), source_name=source_name)
    finally:
        runs.close()
    text_lines = "\n".join(lines).split("\n")
    non_blank = [n for n, t in enumerate(text_lines, 1) if t.strip()]
    skipped_lines = [n for n, _ in report.skipped]
    assert len(set(skipped_lines)) == len(skipped_lines), "a line skipped twice"
    assert all(isinstance(reason, str) and reason for _, reason in report.skipped)
    assert report.imported + len(skipped_lines) <= len(text_lines)
    assert report.imported + len(skipped_lines) >= len(non_blank) - 1  # a lone BOM line counts as blank
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == report.imported


# -- settings -----------------------------------------------------------------------------
TOML_KEY = st.one_of(st.sampled_from(["local", "compare", "timeouts", "retries", "eval", "providers", "models", "mode",
                                      "default_models", "connect_s", "first_token_s", "idle_s", "max", "judge_model",
                                      "api_key", "api_key_env", "keyring", "model", "params", "max_concurrency",
                                      "input_cost_per_mtok"]), NAME)
TOML_VALUE = st.one_of(st.sampled_from(['"sequential"', '"parallel"', "0", "-1", "3", "1.5", "inf", "nan", "-inf", "true",
                                        '["a", 1]', "[]", "{}", '{ x = 1 }', '"sk-' + "A1b2" * 10 + '"', "1979-05-27",
                                        '"""multi\nline"""', "'lit'", '"\\u0000"', "0x10", "1e308"]),
                       st.integers(-(10**30), 10**30).map(str), TEXT.map(json.dumps))


@st.composite
def toml_text(draw):
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            lines.append(f"[{draw(TOML_KEY)}]" if draw(st.booleans()) else f"[{draw(TOML_KEY)}.{draw(TOML_KEY)}]")
        elif kind == 4:
            lines.append(draw(TEXT))
        else:
            lines.append(f"{draw(TOML_KEY)} = {draw(TOML_VALUE)}")
    return "\n".join(lines)


@FAST
@given(st.one_of(toml_text(), TEXT))
@example("[timeouts]\nconnect_s = nan\n")
@example("[models.x]\nmodel = \"openai/gpt\"\napi_key = \"sk-123\"\n")
def test_parse_settings_accepts_or_refuses_clearly(text):
    TRIED["parse_settings(text)"] += 1
    try:
        parse_settings(text)
    except ConfigError as exc:
        assert "promptbench.toml" in str(exc), str(exc)
        assert "sk-" + "A1b2" not in str(exc)  # never echo a key


@SLOW
@given(st.one_of(toml_text().map(str.encode), st.binary(max_size=100)))
def test_load_settings_never_writes(tmp_path_factory, raw):
    TRIED["load_settings(root)"] += 1
    root = tmp_path_factory.mktemp("settings")
    (root / "promptbench.toml").write_bytes(raw)
    before = sorted(p.name for p in root.iterdir())
    try:
        load_settings(root)
    except ConfigError as exc:
        assert "promptbench.toml" in str(exc), str(exc)
    assert sorted(p.name for p in root.iterdir()) == before
    assert (root / "promptbench.toml").read_bytes() == raw


@SLOW
@given(st.dictionaries(st.sampled_from([("local", "mode"), ("compare", "default_models"), ("timeouts", "connect_s"),
                                        ("timeouts", "idle_s"), ("retries", "max"), ("models", "x"), ("local", "api_key")]),
                       st.one_of(SCALAR, st.lists(st.one_of(NAME, SCALAR), max_size=3)), max_size=3),
       st.one_of(toml_text(), st.just("")))
def test_settings_write_refuses_clearly_and_stays_inside(tmp_path_factory, values, initial):
    from promptbench.core.settings.write import set_values

    TRIED["settings_write.set_values"] += 1
    base = tmp_path_factory.mktemp("sw")
    root = base / "ws"
    root.mkdir()
    (root / "promptbench.toml").write_bytes(initial.encode())
    try:
        set_values(root, values)
    except ConfigError as exc:
        assert "promptbench.toml" in str(exc), str(exc)
        assert (root / "promptbench.toml").read_bytes() == initial.encode()  # refused: unchanged
    else:
        parse_settings((root / "promptbench.toml").read_bytes().decode())  # what was written is valid
    assert sorted(p.name for p in base.iterdir()) == ["ws"]
    assert sorted(p.name for p in root.iterdir()) == ["promptbench.toml"]


# -- paths --------------------------------------------------------------------------------
PATH_PART = st.one_of(
    st.sampled_from(["..", ".", "", "a", "sub", "escape", "inner", "CON", "nul", "com1", "Lpt9", "aux.txt", "a ", "a.",
                     "a:b", "a*", "a?", 'a"', "a<", "a>", "a|", "a\\b", "..\\..\\x", "a\x00b", "a\nb", ".git", ".promptbench",
                     "x" * 300, "é" * 130, "~", "$HOME", "link.prompt.yml", "dang.prompt.yml"]),
    TEXT, NAME)
PATH_STR = st.builds(lambda parts, suffix, lead: lead + "/".join(parts) + suffix,
                     st.lists(PATH_PART, max_size=4),
                     st.sampled_from([".prompt.yml", ".prompt.yaml", "", ".yml", ".prompt.yml ", ".prompt.yml.", "/"]),
                     st.sampled_from(["", "/", "./", "../", "//", "/etc/", "~/", "C:\\", "\\\\server\\share\\"]))


@pytest.fixture
def hostile_ws(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = workspace.root
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "inner").symlink_to(root / "escape", target_is_directory=True)
    (root / "link.prompt.yml").symlink_to(outside / "target.prompt.yml")
    (root / "dang.prompt.yml").symlink_to("../outside/dangling.prompt.yml")
    workspace.save("base.prompt.yml", SIMPLE_PROMPT)
    yield workspace, outside
    assert list(outside.iterdir()) == [], f"something was written outside the workspace: {list(outside.iterdir())}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside", "ws"]


def _inside(root: Path, rel: str) -> bool:
    real = (root / rel).resolve()
    return real.is_relative_to(root.resolve())


def _check_store_error(exc: StoreError) -> None:
    msg = str(exc)
    assert msg and "Traceback" not in msg


@SLOW
@given(st.one_of(PATH_STR, PATH_PART))
@example("../outside/x.prompt.yml")
@example("escape/x.prompt.yml")
@example("inner/x.prompt.yml")
@example("link.prompt.yml")
@example("dang.prompt.yml")
@example("CON.prompt.yml")
@example("a/../../outside/x.prompt.yml")
def test_store_save_refuses_or_stays_inside(hostile_ws, path):
    store, outside = hostile_ws
    TRIED["PromptStore.save(path)"] += 1
    for absolute in (False, True):
        candidate = str(store.root / path) if absolute and not path.startswith("/") else path
        try:
            store.save(candidate, SIMPLE_PROMPT)
        except StoreError as exc:
            _check_store_error(exc)
            TRIED["PromptStore.save refused"] += 1
            continue
        except PromptFileError as exc:  # validation happens after the path check
            pytest.fail(f"valid content refused for {candidate!r}: {exc}")
        from promptbench.core.store.paths import normalize_prompt_path

        rel = normalize_prompt_path(store.root, candidate)
        TRIED["PromptStore.save accepted"] += 1
        assert _inside(store.root, rel), (candidate, rel)
        assert (store.root / rel).is_file()
        assert not any(part.startswith(".") and part in (".git", ".promptbench") for part in Path(rel).parts)
    assert list(outside.iterdir()) == []


@SLOW
@given(PATH_STR)
@example("escape/moved.prompt.yml")
@example("../moved.prompt.yml")
def test_store_rename_and_create_refuse_or_stay_inside(hostile_ws, path):
    store, outside = hostile_ws
    TRIED["PromptStore.create/rename(path)"] += 1
    try:
        store.rename("base.prompt.yml", path)
    except StoreError as exc:
        _check_store_error(exc)
    else:
        from promptbench.core.store.paths import normalize_prompt_path

        rel = normalize_prompt_path(store.root, path)
        assert _inside(store.root, rel)
        store.rename(rel, "base.prompt.yml")
    try:
        store.create(path, SIMPLE_PROMPT)
    except StoreError as exc:
        _check_store_error(exc)
    try:
        store.read(path)
    except (StoreError, PromptFileError) as exc:
        assert str(exc)
    assert list(outside.iterdir()) == []


# -- CLI ----------------------------------------------------------------------------------
SAFE_NAME = st.sampled_from(["base.prompt.yml", "nope.prompt.yml", "../outside/x.prompt.yml", "/etc/passwd", "escape/x.prompt.yml",
                             "CON.prompt.yml", "", "-", "--", "HEAD", "HEAD~1", "~99", "WORKTREE", "production", "0", "-1",
                             "a=b", "=", "x" * 300, "{{ ''.__class__ }}", "votes.jsonl", "bad.jsonl", "missing.jsonl",
                             "é\u202e", "--json", "--help"])
ARG = st.one_of(SAFE_NAME, NAME, TEXT.filter(lambda t: "\x00" not in t))
COMMANDS = [["list"], ["list", "--deleted"], ["history"], ["diff"], ["rollback"], ["label"], ["restore"], ["render"],
            ["render", "--var"], ["render", "--test"], ["leaderboard", "--rounds", "3"], ["leaderboard", "--prompt"],
            ["votes", "import"], ["votes", "export"], ["export", "runs"], ["export", "runs", "--since"],
            ["export", "prefs"], ["models", "--no-ollama"], ["label", "base.prompt.yml"], ["history", "--json"]]


@SLOW
@given(st.sampled_from(COMMANDS), st.one_of(st.lists(ARG, max_size=4),
                                            st.lists(st.one_of(NAME, st.sampled_from(["HEAD", "0", "name=x"])), max_size=2)
                                            .map(lambda rest: ["base.prompt.yml", *rest])), st.booleans())
@example(["votes", "import"], ["bad.jsonl"], False)
@example(["render"], ["base.prompt.yml", "--var", "name={{ ''.__class__ }}"], True)
@example(["diff"], ["base.prompt.yml", "../../etc"], False)
def test_cli_random_argv_never_internal_error(hostile_ws, monkeypatch, capsys, command, args, json_flag):
    store, outside = hostile_ws
    TRIED["cli.main(argv)"] += 1
    monkeypatch.chdir(store.root)
    (store.root / "bad.jsonl").write_text('{"a": 1}\nnot json\n\x1b[2J\n', encoding="utf-8")
    # -o/--output and FILE for exports are the user's choice of destination: keep them in the workspace
    args = [a for a in args if a not in ("-o", "--output")]
    argv = ["--workspace", str(store.root), *command, *args] + (["--json"] if json_flag else [])
    if command[:2] == ["votes", "export"] and args and not args[0].startswith("-"):
        argv[len(command) + 2] = "export-out.jsonl"
    try:
        code = cli_main(argv)
    except SystemExit as exc:  # argparse usage errors and --help
        code = exc.code if isinstance(exc.code, int) else 2
    err = capsys.readouterr().err
    TRIED[f"cli.main exit {code}"] += 1
    assert code in (0, 1, 2), f"exit {code} for {argv!r}: {err}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert list(outside.iterdir()) == []


# -- bugs these properties found (fixed; regression tests) ----------------------------------
def test_bug_settings_huge_integer():
    with pytest.raises(ConfigError):
        parse_settings("x = " + "1" * 5000)


def test_bug_settings_deep_nesting():
    with pytest.raises(ConfigError):
        parse_settings("x = " + "[" * 5000 + "]" * 5000)


def test_bug_settings_timeout_overflow():
    with pytest.raises(ConfigError):
        parse_settings("[timeouts]\nconnect_s = " + "9" * 400 + "\n")


def test_bug_votes_huge_integer_line(tmp_path):
    runs = RunStore(tmp_path / "promptbench.db")
    try:
        report = VoteStore(runs, voter="ada").import_jsonl(["1" * 5000], source_name="big.jsonl")
    finally:
        runs.close()
    assert report.imported == 0 and report.skipped and report.skipped[0][0] == 1


def test_bug_votes_deep_nesting_line(tmp_path):
    runs = RunStore(tmp_path / "promptbench.db")
    try:
        report = VoteStore(runs, voter="ada").import_jsonl(["[" * 100_000], source_name="deep.jsonl")
    finally:
        runs.close()
    assert report.imported == 0 and len(report.skipped) == 1


def test_bug_cli_votes_import_huge_integer(tmp_path, capsys):
    (tmp_path / "big.jsonl").write_text("1" * 5000 + "\n", encoding="utf-8")
    code = cli_main(["--workspace", str(tmp_path), "votes", "import", str(tmp_path / "big.jsonl")])
    assert code in (0, 1, 2), capsys.readouterr().err


def test_bug_cli_models_huge_integer_settings(tmp_path, capsys):
    (tmp_path / "promptbench.toml").write_text("x = " + "1" * 5000 + "\n", encoding="utf-8")
    code = cli_main(["--workspace", str(tmp_path), "models", "--no-ollama"])
    assert code in (0, 1, 2), capsys.readouterr().err


def test_bug_save_through_inner_symlink_writes_into_git_dir(workspace):
    root = workspace.root
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)
    with pytest.raises(StoreError):
        workspace.save("sub/up/.git/x.prompt.yml", SIMPLE_PROMPT)
    assert not (root / ".git" / "x.prompt.yml").exists(), "a prompt was written inside .git/"


@pytest.mark.parametrize("path", [".Git/x.prompt.yml", "a/.git/x.prompt.yml", ".PROMPTBENCH/x.prompt.yml"])
def test_bug_private_dir_variants_are_refused_before_writing(workspace, path):
    from promptbench.core.store.paths import normalize_prompt_path

    with pytest.raises(StoreError):
        normalize_prompt_path(workspace.root, path)


def test_bug_refused_save_leaves_no_file(workspace):
    with pytest.raises(StoreError):
        workspace.save(".Git/x.prompt.yml", SIMPLE_PROMPT)
    assert not (workspace.root / ".Git" / "x.prompt.yml").exists()


@pytest.mark.parametrize("name", ["COM¹.prompt.yml", "LPT².prompt.yml", "CONIN$.prompt.yml", "conout$.prompt.yml"])
def test_bug_more_windows_reserved_names(tmp_path, name):
    from promptbench.core.store.paths import normalize_prompt_path

    with pytest.raises(StoreError):
        normalize_prompt_path(tmp_path, name)
