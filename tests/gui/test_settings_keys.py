"""Settings → Models on a fresh machine: no key, no keyring. What the key panel, the connection
test and the form's placeholders say (GitHub issue 12, items 7 and 9)."""

from __future__ import annotations

import time

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QLabel, QLineEdit

from promptbench.core.settings.config import ModelConfig
from promptbench.core.settings.write import save_model
from promptbench.gui.settings.model_form import ModelForm
from tests.gui.test_settings import MemoryKeyring, _idle, dialog, services, use_keyring  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch):
    """Before the dialog (autouse fixtures come first): the provider's default variable unset."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def _model(services, page, **fields):
    save_model(services.store.root, ModelConfig(name="gpt", model="openai/gpt-4o-mini", provider="openai", **fields))
    services.reload_settings()
    assert page.form.name.text() == "gpt"


def _test_says(qtbot, services, page, openai_server) -> str:
    started = time.perf_counter()
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_result.text() not in ("", "Testing…"), timeout=10000)
    assert time.perf_counter() - started < 5  # at once: nothing was sent, nothing timed out
    assert page.test_button.isEnabled()
    _idle(qtbot, services)
    assert openai_server.log() == []  # no request
    assert not services.has_engine()  # the engine was not even started...
    assert _stored(services) == []  # ...and nothing stored
    return page.test_result.text()


def _stored(services) -> list[tuple[str, str]]:
    """(kind, model name) of every run in the database, whatever list_runs shows by default."""
    import sqlite3

    services.runs().flush()
    with sqlite3.connect(services.db_path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        kind = "kind" if "kind" in columns else "'?'"
        return list(db.execute(f"SELECT {kind}, model_name FROM runs"))


@pytest.mark.parametrize("has_keyring, says", [
    (True, "No key: set OPENAI_API_KEY (environment) or store a key"),
    (False, "No key: set OPENAI_API_KEY (environment); this system has no keyring"),
])
def test_connection_test_with_an_unset_env_var_says_so_without_a_request(qtbot, services, dialog, openai_server, use_keyring,
                                                                         has_keyring, says):
    use_keyring(MemoryKeyring() if has_keyring else fail.Keyring())
    page = dialog.models_page
    _model(services, page, api_key_env="OPENAI_API_KEY", api_base=openai_server.base_url)
    _idle(qtbot, services)
    assert page.key_panel.status.text() == "Not set: OPENAI_API_KEY is not set"
    assert _test_says(qtbot, services, page, openai_server) == says
    assert "server:" not in page.test_result.text()


def test_the_reported_case_provider_default_key(qtbot, services, dialog, openai_server, use_keyring):
    """openai/… with no key source: litellm reads OPENAI_API_KEY; unset, the test said "server: …"."""
    use_keyring(fail.Keyring())
    page = dialog.models_page
    _model(services, page)
    _idle(qtbot, services)
    assert page.key_panel.status.text() == "Not set: OPENAI_API_KEY is not set"
    assert _test_says(qtbot, services, page, openai_server) == "No key: set OPENAI_API_KEY (environment); this system has no keyring"


def test_connection_test_with_a_keyring_source(qtbot, services, dialog, openai_server, use_keyring):
    memory = MemoryKeyring()
    use_keyring(memory)
    page = dialog.models_page
    _model(services, page, keyring="promptbench/gpt", api_base=openai_server.base_url)
    assert _test_says(qtbot, services, page, openai_server) == \
        "No key: store a key for promptbench/gpt (paste it below) or use an environment variable"
    use_keyring(fail.Keyring())
    page.key_panel.refresh_status()
    assert _test_says(qtbot, services, page, openai_server) == "No key: this system has no keyring; use an environment variable"

    use_keyring(memory)  # with the key stored, the test really runs (and is stored as a connection test)
    memory.set_password("promptbench", "gpt", "sk-test-" + "k" * 24)
    openai_server.set_scenario("gpt-4o-mini", text="OK")
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_result.text().startswith("OK"), timeout=30000)
    assert len(openai_server.log()) == 1
    assert _stored(services) == [("connection_test", "gpt")]


def test_a_model_that_needs_no_key_is_tested(qtbot, services, dialog, openai_server):
    openai_server.set_scenario("open", text="OK")
    page = dialog.models_page
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    for field, text in (("name", "open"), ("model", "openai/open"), ("api_base", openai_server.base_url)):
        qtbot.keyClicks(getattr(page.form, field), text)
    page.form.source_none.setChecked(True)
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_result.text().startswith("OK"), timeout=30000)
    assert len(openai_server.log()) == 1


def test_placeholders_look_like_placeholders(qtbot):
    form = ModelForm()
    qtbot.addWidget(form)
    edits = [edit for edit in form.findChildren(QLineEdit) if not isinstance(edit.parent(), QAbstractSpinBox)]
    assert len(edits) == 7
    for edit in edits:
        assert edit.text() == "" and "e.g. " in edit.placeholderText(), edit.placeholderText()
    assert form.env_name.placeholderText() == "e.g. MY_PROVIDER_API_KEY"
    qtbot.keyClicks(form.model, "openai/gpt-4o-mini")
    assert form.env_name.placeholderText() == "e.g. OPENAI_API_KEY"  # was "OPENAI_API_KEY": it looked like a value
    form.model.clear()
    qtbot.keyClicks(form.model, "anthropic/claude-3-5-haiku-latest")
    assert form.env_name.placeholderText() == "e.g. ANTHROPIC_API_KEY"
    form.show()
    hints = [label.text() for label in form.key_group.findChildren(QLabel) if label.isVisible()]
    assert "The variable's name, not the key; set it before promptbench starts." in hints


def test_keyring_choice_says_when_there_is_none(qtbot, services, dialog, use_keyring):
    use_keyring(fail.Keyring())
    page = dialog.models_page
    _model(services, page, api_key_env="OPENAI_API_KEY")
    _idle(qtbot, services)
    page.form.source_keyring.setChecked(True)
    qtbot.waitUntil(lambda: page.key_panel.status.text() == "This system has no keyring; use an environment variable",
                    timeout=10000)
    assert page.form.source_keyring.text() == "OS keyring (none on this system)"
    assert not page.key_panel.key_edit.isEnabled() and page.key_panel.use_env_button.isVisible()
    use_keyring(MemoryKeyring())
    page.key_panel.refresh_status()
    _idle(qtbot, services)
    assert page.form.source_keyring.text() == "OS keyring"
    assert page.key_panel.key_edit.isEnabled() and not page.key_panel.use_env_button.isVisible()
