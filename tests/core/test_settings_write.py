"""Writing promptbench.toml: [local] mode, [compare] default_models, [timeouts], [retries], [eval] and model tables."""

from __future__ import annotations

import pytest

from promptbench.core.settings.config import ConfigError, ModelConfig, load_settings
from promptbench.core.settings.write import remove_model, save_model, set_general, set_local_mode, set_values, toml_value
from promptbench.core.store.workspace import DEFAULT_SETTINGS

HAND_WRITTEN = """\
# my settings
[local]
# how local models run
mode = "sequential"   # keep timings comparable

[compare]
default_models = [
    "local/smollm2-135m-instruct",  # the chat one
    "local/gemma3-270m",
]

# the catalog
[models.gpt]
model = "openai/gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"
"""


def _write(tmp_path, text: str, newline: str = "\n"):
    path = tmp_path / "promptbench.toml"
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_local_mode_changes_one_line_and_keeps_its_comment(tmp_path):
    path = _write(tmp_path, HAND_WRITTEN)
    set_local_mode(tmp_path, "parallel")
    assert load_settings(tmp_path).local_mode == "parallel"
    expected = HAND_WRITTEN.replace('mode = "sequential"   #', 'mode = "parallel"   #')
    assert path.read_text() == expected
    set_local_mode(tmp_path, "sequential")
    assert path.read_text() == HAND_WRITTEN


def test_multiline_array_is_replaced_and_the_rest_is_byte_for_byte(tmp_path):
    path = _write(tmp_path, HAND_WRITTEN)
    set_general(tmp_path, default_models=["gpt", "local/smollm2-135m-instruct"])
    text = path.read_text()
    assert load_settings(tmp_path).default_models == ["gpt", "local/smollm2-135m-instruct"]
    assert 'default_models = ["gpt", "local/smollm2-135m-instruct"]\n\n# the catalog\n' in text
    before, after = HAND_WRITTEN.split("default_models = [")[0], HAND_WRITTEN.split('"local/gemma3-270m",\n]\n')[1]
    assert text.startswith(before) and text.endswith(after)


def test_new_tables_are_appended_and_unchanged_values_not_written(tmp_path):
    path = _write(tmp_path, DEFAULT_SETTINGS)
    set_general(tmp_path, connect_timeout_s=5.0, first_token_timeout_s=60.0, idle_timeout_s=12.5, max_retries=1)
    text = path.read_text()
    assert text.startswith(DEFAULT_SETTINGS)
    assert text[len(DEFAULT_SETTINGS):] == "\n[timeouts]\nconnect_s = 5.0\nidle_s = 12.5\n\n[retries]\nmax = 1\n"
    s = load_settings(tmp_path)
    assert (s.connect_timeout_s, s.first_token_timeout_s, s.idle_timeout_s, s.max_retries) == (5.0, 60.0, 12.5, 1)
    mtime = path.stat().st_mtime_ns
    set_general(tmp_path, connect_timeout_s=5, max_retries=1, default_models=list(s.default_models))
    assert path.stat().st_mtime_ns == mtime and path.read_text() == text  # nothing changed: not rewritten
    set_general(tmp_path, first_token_timeout_s=30)
    assert "[timeouts]\nconnect_s = 5.0\nidle_s = 12.5\nfirst_token_s = 30\n" in path.read_text()


def test_crlf_file_keeps_its_line_endings(tmp_path):
    path = _write(tmp_path, HAND_WRITTEN, "\r\n")
    set_general(tmp_path, max_retries=0)
    set_local_mode(tmp_path, "parallel")
    raw = path.read_bytes()
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.endswith(b"[retries]\r\nmax = 0\r\n")
    assert b'mode = "parallel"   # keep timings comparable\r\n' in raw


def test_missing_file_is_created(tmp_path):
    set_local_mode(tmp_path, "parallel")
    assert (tmp_path / "promptbench.toml").read_text() == '[local]\nmode = "parallel"\n'


def test_a_table_without_trailing_newline_and_a_catalog_after_it(tmp_path):
    path = _write(tmp_path, '[retries]\nmax = 2')
    set_general(tmp_path, max_retries=4)
    assert path.read_text() == "[retries]\nmax = 4"
    save_model(tmp_path, load_settings(tmp_path).models.get("x") or _cfg())
    set_local_mode(tmp_path, "parallel")
    s = load_settings(tmp_path)
    assert s.local_mode == "parallel" and "x" in s.models and s.max_retries == 4


def _cfg():
    return ModelConfig(name="x", model="openai/gpt-4o", provider="openai", api_key_env="OPENAI_API_KEY")


@pytest.mark.parametrize("values, message", [
    ({("local", "mode"): "fast"}, 'local.mode: expected "sequential" or "parallel"'),
    ({("timeouts", "connect_s"): 0}, "timeouts.connect_s: must be > 0"),
    ({("retries", "max"): -1}, "retries.max: must be >= 0"),
    ({("compare", "default_models"): ["a", ""]}, "compare.default_models: expected a list of model names"),
    ({("models", "api_key"): "sk-abcdefghijklmnopqrstuvwx"}, "models.api_key cannot be written here"),
])
def test_invalid_values_are_refused_and_the_file_is_untouched(tmp_path, values, message):
    path = _write(tmp_path, HAND_WRITTEN)
    with pytest.raises(ConfigError) as info:
        set_values(tmp_path, values)
    assert message in str(info.value)
    assert path.read_text() == HAND_WRITTEN
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_line_number_names_the_bad_value(tmp_path):
    _write(tmp_path, HAND_WRITTEN)
    with pytest.raises(ConfigError, match=r"promptbench.toml:4: local.mode"):
        set_local_mode(tmp_path, "fast")


def test_inline_or_dotted_tables_are_not_guessed_at(tmp_path):
    path = _write(tmp_path, 'local = { mode = "sequential" }\n')
    with pytest.raises(ConfigError, match="edit it by hand"):
        set_local_mode(tmp_path, "parallel")
    assert path.read_text() == 'local = { mode = "sequential" }\n'


def test_an_invalid_file_is_not_rewritten(tmp_path):
    path = _write(tmp_path, "[local]\nmode = \n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        set_local_mode(tmp_path, "parallel")
    assert path.read_text() == "[local]\nmode = \n"


def test_strings_with_hashes_and_quotes_round_trip(tmp_path):
    path = _write(tmp_path, '[compare]\ndefault_models = ["a#b", \'c\'] # two\n')
    set_general(tmp_path, default_models=['x "y"', "z#"])
    assert path.read_text() == '[compare]\ndefault_models = ["x \\"y\\"", "z#"] # two\n'
    assert load_settings(tmp_path).default_models == ['x "y"', "z#"]


def test_a_new_key_goes_after_the_last_value_not_under_the_next_tables_comment(tmp_path):
    path = _write(tmp_path, '[eval]\njudge_model = "local/x"\n\n# retries: how often a failed call is tried again\n[retries]\nmax = 1\n')
    set_general(tmp_path, judging="strict")
    assert path.read_text() == ('[eval]\njudge_model = "local/x"\njudging = "strict"\n\n'
                                '# retries: how often a failed call is tried again\n[retries]\nmax = 1\n')


def test_an_existing_model_changes_only_the_lines_that_change(tmp_path):
    path = _write(tmp_path, '[models.x]\nmodel = "openai/gpt-4o"  # the big one\n# what it costs\n'
                            'input_cost_per_mtok = 2\napi_key_env = "OLD_KEY"\n\n[retries]\nmax = 1\n')
    save_model(tmp_path, ModelConfig(name="x", model="openai/gpt-4o-mini", provider="openai", input_cost_per_mtok=2.0,
                                     keyring="promptbench/x", params={"seed": 7}))
    assert path.read_text() == ('[models.x]\nmodel = "openai/gpt-4o-mini"  # the big one\n# what it costs\n'
                                'input_cost_per_mtok = 2\nkeyring = "promptbench/x"\nparams = { seed = 7 }\n\n'
                                '[retries]\nmax = 1\n')
    assert toml_value({"seed": 7, "stop": ["a", "b"]}) == '{ seed = 7, stop = ["a", "b"] }'


def test_model_tables_keep_the_files_line_endings_and_blank_lines(tmp_path):
    path = _write(tmp_path, '[models.a]\nmodel = "openai/gpt-4o"\n\n[retries]\nmax = 1', "\r\n")
    save_model(tmp_path, _cfg())
    assert path.read_bytes() == (b'[models.a]\r\nmodel = "openai/gpt-4o"\r\n\r\n[models.x]\r\nmodel = "openai/gpt-4o"\r\n'
                                 b'api_key_env = "OPENAI_API_KEY"\r\n\r\n[retries]\r\nmax = 1')
    remove_model(tmp_path, "a")
    remove_model(tmp_path, "x")
    assert path.read_bytes() == b"[retries]\r\nmax = 1"


def test_dotted_keys_are_refused_with_their_line(tmp_path):
    path = _write(tmp_path, '# settings\nlocal.mode = "sequential"\n')
    with pytest.raises(ConfigError, match=r"promptbench.toml:2: local is written inline or with dotted keys.*edit it by hand"):
        set_local_mode(tmp_path, "parallel")
    assert path.read_text() == '# settings\nlocal.mode = "sequential"\n'
