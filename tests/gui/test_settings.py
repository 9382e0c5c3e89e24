"""The settings dialog on a real workspace: catalog edits, keys, connection tests, local mode, general."""

from __future__ import annotations

import time
import tomllib

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTableWidget, QTreeWidget, QWidget

from promptbench.core.settings.config import ModelConfig, load_settings
from promptbench.core.settings.write import save_model
from promptbench.gui.services import Services
from promptbench.gui.settings import SettingsDialog

KEY = "sk-proj-Zq8vT3xW9kLmN2pR5sU7yA1cE4gH6jK0"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        self.entries.pop((service, username), None)


@pytest.fixture
def services(workspace):
    services = Services(workspace)
    yield services
    services.close()


@pytest.fixture
def use_keyring():
    """Install a keyring backend for one test; the previous one comes back afterwards."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def dialog(qtbot, services):
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.discard_changes())
    dialog.show()
    yield dialog
    dialog.close()
    services.tasks.wait(10000)


def _idle(qtbot, services):
    qtbot.waitUntil(lambda: not services.tasks.is_busy(), timeout=10000)


def _toml(services) -> dict:
    return tomllib.loads((services.store.root / "promptbench.toml").read_text())


def _fill(qtbot, form, **fields):
    for name, text in fields.items():
        edit = getattr(form, name)
        edit.clear()
        qtbot.keyClicks(edit, text)


def _all_texts(root: QWidget) -> str:
    parts = [root.windowTitle()]
    for widget in root.findChildren(QWidget):
        parts += [widget.toolTip(), widget.statusTip(), widget.whatsThis(), widget.accessibleName()]
        if isinstance(widget, QLineEdit):
            parts += [widget.text(), widget.placeholderText(), widget.displayText()]
        elif isinstance(widget, (QLabel, QAbstractButton)):
            parts.append(widget.text())
        elif isinstance(widget, QTableWidget):
            parts += [widget.item(r, c).text() for r in range(widget.rowCount()) for c in range(widget.columnCount())
                      if widget.item(r, c)]
        elif isinstance(widget, QTreeWidget):
            items = [widget.topLevelItem(i) for i in range(widget.topLevelItemCount())]
            parts += [item.text(c) + item.toolTip(c) for item in items for c in range(widget.columnCount())]
    return "\n".join(parts)


def _files_containing(secret: str, *roots) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and secret.encode() in path.read_bytes():
                found.append(str(path))
    return found


# -- the catalog ------------------------------------------------------------------------------

def test_add_model_through_the_form_writes_promptbench_toml_without_a_key(qtbot, services, dialog):
    page = dialog.models_page
    before = (services.store.root / "promptbench.toml").read_text()
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    _fill(qtbot, page.form, name="gpt-mini", model="openai/gpt-4o-mini", api_base="https://gateway.example/v1",
          env_name="MY_GATEWAY_KEY", price_in="0.15", price_out="0.6")
    page.form.concurrency.setValue(3)
    qtbot.mouseClick(page.form.add_param, Qt.MouseButton.LeftButton)
    page.form.params.item(0, 0).setText("temperature")
    page.form.params.item(0, 1).setText("0.2")
    qtbot.mouseClick(page.form.add_param, Qt.MouseButton.LeftButton)
    page.form.params.item(1, 0).setText("stop")
    page.form.params.item(1, 1).setText('["END"]')
    with qtbot.waitSignal(services.settings_changed, timeout=10000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)

    table = _toml(services)["models"]["gpt-mini"]
    assert table == {"model": "openai/gpt-4o-mini", "api_base": "https://gateway.example/v1", "api_key_env": "MY_GATEWAY_KEY",
                     "input_cost_per_mtok": 0.15, "output_cost_per_mtok": 0.6, "max_concurrency": 3,
                     "params": {"temperature": 0.2, "stop": ["END"]}}
    assert (services.store.root / "promptbench.toml").read_text().startswith(before)  # comments kept
    cfg = services.settings().models["gpt-mini"]
    assert cfg.api_key_env == "MY_GATEWAY_KEY" and cfg.keyring is None
    assert [page.model_list.item(i).text() for i in range(page.model_list.count())] == ["gpt-mini"]
    assert page.model_list.currentItem().text() == "gpt-mini"
    assert "Saved" in page.saved_note.text()
    _idle(qtbot, services)
    assert page.key_panel.status.text() == "Not set: MY_GATEWAY_KEY is not set"


def test_edit_rename_and_remove(qtbot, services, dialog, monkeypatch):
    root = services.store.root
    save_model(root, ModelConfig(name="a", model="openai/gpt-4o", provider="openai", api_key_env="OPENAI_API_KEY"))
    save_model(root, ModelConfig(name="b", model="anthropic/claude-3-5-haiku-latest", provider="anthropic",
                                 keyring="promptbench/anthropic"))
    services.reload_settings()
    page = dialog.models_page
    assert [page.model_list.item(i).text() for i in range(page.model_list.count())] == ["a", "b"]
    page.model_list.setCurrentRow(1)
    assert page.form.source_keyring.isChecked() and page.form.keyring_ref.text() == "promptbench/anthropic"

    _fill(qtbot, page.form, name="claude", price_out="4")
    page.form.source_env.setChecked(True)
    _fill(qtbot, page.form, env_name="ANTHROPIC_API_KEY")
    with qtbot.waitSignal(page.model_saved, timeout=10000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    models = _toml(services)["models"]
    assert list(models) == ["a", "claude"]
    assert models["claude"] == {"model": "anthropic/claude-3-5-haiku-latest", "api_key_env": "ANTHROPIC_API_KEY",
                                "output_cost_per_mtok": 4.0}
    assert page.model_list.currentItem().text() == "claude"

    monkeypatch.setattr(page, "_confirm_remove", lambda name: name == "a")
    page.model_list.setCurrentRow(0)
    with qtbot.waitSignal(page.model_removed, timeout=10000):
        qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
    assert list(_toml(services)["models"]) == ["claude"]
    assert list(services.settings().models) == ["claude"]
    assert [page.model_list.item(i).text() for i in range(page.model_list.count())] == ["claude"]
    assert page.form.name.text() == "claude"


def test_core_validation_is_shown_next_to_the_field(qtbot, services, dialog):
    page = dialog.models_page
    path = services.store.root / "promptbench.toml"
    before = path.read_text()
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    _fill(qtbot, page.form, name="gw", model="openai/gpt-4o", env_name="not a name!")
    page.save()
    qtbot.waitUntil(lambda: page.form.errors["api_key_env"].isVisible(), timeout=10000)
    assert "NAME of an environment variable" in page.form.errors["api_key_env"].text()
    assert not page.page_error.isVisible()

    _fill(qtbot, page.form, env_name=KEY)  # a key pasted where its NAME belongs
    page.save()
    qtbot.waitUntil(lambda: "looks like an API key" in page.form.errors["api_key_env"].text(), timeout=10000)
    assert KEY not in _all_texts(dialog).replace(page.form.env_name.text(), "")  # only the user's own typing shows it

    _fill(qtbot, page.form, env_name="GW_KEY", price_in="cheap")
    page.save()
    assert "not a number" in page.form.errors["input_cost_per_mtok"].text()
    _fill(qtbot, page.form, price_in="", model="")
    page.save()
    assert "empty model name" in page.form.errors["model"].text()
    _idle(qtbot, services)
    assert path.read_text() == before


# -- keys --------------------------------------------------------------------------------------

def _keyring_model(qtbot, services, page):
    save_model(services.store.root, ModelConfig(name="gw", model="openai/gpt-4o", provider="openai", keyring="promptbench/gw"))
    services.reload_settings()
    assert page.form.name.text() == "gw" and page.form.source_keyring.isChecked()
    assert page.key_panel.key_edit.isVisible()
    assert page.key_panel.key_edit.echoMode() == QLineEdit.EchoMode.Password


def test_store_key_in_keyring_clears_the_field_and_shows_only_its_status(qtbot, services, dialog, use_keyring,
                                                                          tmp_path, _isolated_git, caplog):
    memory = MemoryKeyring()
    use_keyring(memory)
    page = dialog.models_page
    _keyring_model(qtbot, services, page)
    _idle(qtbot, services)
    assert page.key_panel.status.text().startswith("Not set: no key stored in the keyring for promptbench/gw")

    qtbot.keyClicks(page.key_panel.key_edit, KEY)
    with qtbot.waitSignal(page.key_panel.key_stored, timeout=10000) as stored:
        qtbot.mouseClick(page.key_panel.store_button, Qt.MouseButton.LeftButton)
    assert page.key_panel.key_edit.text() == ""  # cleared at once
    assert stored.args == ["promptbench/gw"]
    assert memory.entries == {("promptbench", "gw"): KEY}
    qtbot.waitUntil(lambda: page.key_panel.status.text() == "Stored in the keyring (promptbench/gw)", timeout=10000)

    settings = QSettings()
    settings.setValue("probe", 1)  # make sure the app's QSettings file exists to be searched
    settings.sync()
    _idle(qtbot, services)
    assert KEY not in (services.store.root / "promptbench.toml").read_text()
    assert _files_containing(KEY, tmp_path, _isolated_git) == []
    assert KEY not in _all_texts(dialog)
    assert KEY not in caplog.text
    settings.remove("probe")


def test_no_keyring_backend_disables_pasting_and_offers_an_env_var(qtbot, services, dialog, use_keyring, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    use_keyring(fail.Keyring())
    page = dialog.models_page
    _keyring_model(qtbot, services, page)
    _idle(qtbot, services)
    panel = page.key_panel
    assert panel.status.text() == "This system has no keyring; use an environment variable"
    assert "No recommended backend" not in _all_texts(dialog)  # not the keyring library's advice
    assert not panel.key_edit.isEnabled() and not panel.store_button.isEnabled()
    assert panel.key_edit.placeholderText() == "No keyring on this system"
    assert page.form.source_keyring.text() == "OS keyring (none on this system)"
    qtbot.keyClicks(panel.key_edit, KEY)  # a disabled field takes nothing
    qtbot.keyClick(panel.key_edit, Qt.Key.Key_Return)
    assert panel.key_edit.text() == "" and not panel.error.isVisible()

    assert panel.use_env_button.isVisible() and panel.use_env_button.text() == "Use an environment variable"
    qtbot.mouseClick(panel.use_env_button, Qt.MouseButton.LeftButton)
    assert page.form.source_env.isChecked() and page.form.env_name.text() == "OPENAI_API_KEY"
    assert page.save_button.isEnabled()
    with qtbot.waitSignal(page.model_saved, timeout=10000):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert _toml(services)["models"]["gw"] == {"model": "openai/gpt-4o", "api_key_env": "OPENAI_API_KEY"}
    _idle(qtbot, services)
    assert not panel.use_env_button.isVisible() and not panel.key_edit.isVisible()
    assert panel.status.text() == "Not set: OPENAI_API_KEY is not set"
    assert KEY not in _all_texts(dialog)
    assert _files_containing(KEY, tmp_path) == []


def test_keyring_failing_when_storing_shows_core_error_and_suggests_an_env_var(qtbot, services, dialog, use_keyring, tmp_path):
    use_keyring(MemoryKeyring())  # there was a keyring when the page looked...
    page = dialog.models_page
    _keyring_model(qtbot, services, page)
    _idle(qtbot, services)
    assert page.key_panel.key_edit.isEnabled()
    use_keyring(fail.Keyring())  # ...and it is gone when the key is stored
    qtbot.keyClicks(page.key_panel.key_edit, KEY)
    qtbot.keyClick(page.key_panel.key_edit, Qt.Key.Key_Return)
    assert page.key_panel.key_edit.text() == ""
    qtbot.waitUntil(lambda: page.key_panel.error.isVisible(), timeout=10000)
    message = page.key_panel.error.text()
    assert "no usable keyring backend to store the key for promptbench/gw" in message
    assert "Environment variable" in message and "OPENAI_API_KEY" in message
    _idle(qtbot, services)
    assert page.key_panel.status.text() == "This system has no keyring; use an environment variable"
    assert not page.key_panel.key_edit.isEnabled()
    assert KEY not in _all_texts(dialog)
    assert _files_containing(KEY, tmp_path) == []
    assert not (services.store.root / "promptbench.toml").read_text().count("gw") > 2  # nothing but the table


def test_env_key_status(qtbot, services, dialog, monkeypatch):
    monkeypatch.setenv("MY_GW_KEY", KEY)
    save_model(services.store.root, ModelConfig(name="gw", model="openai/gpt-4o", provider="openai", api_key_env="MY_GW_KEY"))
    services.reload_settings()
    page = dialog.models_page
    qtbot.waitUntil(lambda: page.key_panel.status.text() == "MY_GW_KEY is set in the environment", timeout=10000)
    assert not page.key_panel.key_edit.isVisible()  # storing is for keyring sources
    assert KEY not in _all_texts(dialog)


# -- test connection ---------------------------------------------------------------------------

def test_connection_ok_shows_ttft_without_blocking(qtbot, services, dialog, openai_server):
    openai_server.set_scenario("conn-ok", text="OK", first_token_delay_s=1.0)
    page = dialog.models_page
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    _fill(qtbot, page.form, name="fake", model="openai/conn-ok", api_base=openai_server.base_url)
    page.form.source_none.setChecked(True)
    started = time.perf_counter()
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    assert time.perf_counter() - started < 0.5  # the engine starts and streams in the background
    assert page.test_result.text() == "Testing…" and not page.test_button.isEnabled()
    qtbot.waitUntil(lambda: page.test_result.text().startswith("OK"), timeout=30000)
    text = page.test_result.text()
    assert "first token after" in text and "OK" in text.split("answered", 1)[1]
    ttft = float(text.split("first token after ", 1)[1].split(" ms")[0])
    assert 950 <= ttft < 10000
    assert page.test_button.isEnabled()
    request = openai_server.log()[-1]
    assert request["body"]["messages"] == [{"role": "user", "content": "Say OK."}]
    assert request["body"]["max_tokens"] <= 5


def test_connection_auth_failure_shows_the_error_class(qtbot, services, dialog, openai_server, monkeypatch):
    monkeypatch.setenv("FAKE_SERVER_KEY", KEY)
    openai_server.set_scenario("conn-401", fault="status", status_code=401)
    save_model(services.store.root, ModelConfig(name="bad-key", model="openai/conn-401", provider="openai",
                                                api_base=openai_server.base_url, api_key_env="FAKE_SERVER_KEY"))
    services.reload_settings()
    page = dialog.models_page
    assert page.form.name.text() == "bad-key"
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_result.text().startswith("auth:"), timeout=30000)
    assert "Incorrect API key" in page.test_result.text()
    assert KEY not in _all_texts(dialog)
    assert openai_server.log()[-1]["headers"].get("authorization", "").endswith(KEY[-6:])  # it was really sent


# -- local models and general ----------------------------------------------------------------

def test_local_models_listed_and_mode_change_persists(qtbot, services, dialog, tmp_path):
    from promptbench.core.local.catalog import register_gguf, unregister_gguf

    register_gguf("missing", tmp_path / "missing.gguf")
    try:
        page = dialog.local_page
        page.refresh_models()
        dialog.show_page("Local models")
        _idle(qtbot, services)
    finally:
        unregister_gguf("missing")
    rows = [[model_id, status.text(), details.text()] for model_id, status, details in page.rows]
    assert [r[0] for r in rows] == ["local/smollm2-135m-instruct", "local/gemma3-270m", "local/missing"]
    assert all(r[1] in ("Available", "Not available") for r in rows)
    assert rows[2][1] == "Not available" and "missing.gguf does not exist; check the path" in rows[2][2]
    dialog.grab().save(str(tmp_path / "local.png"))
    assert page.mode_buttons["sequential"].isChecked()

    path = services.store.root / "promptbench.toml"
    before = path.read_text()
    with qtbot.waitSignal(page.local_mode_saved, timeout=10000):
        button = page.mode_buttons["parallel"]  # click its text, as a person does
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(12, button.height() // 2))
    assert load_settings(services.store.root).local_mode == "parallel"
    assert services.settings().local_mode == "parallel"
    assert path.read_text() == before.replace('mode = "sequential"', 'mode = "parallel"')

    again = SettingsDialog(services)
    qtbot.addWidget(again)
    assert again.local_page.mode_buttons["parallel"].isChecked()
    again.close()


def test_general_page_saves_defaults_timeouts_and_retries(qtbot, services, dialog):
    save_model(services.store.root, ModelConfig(name="gw", model="openai/gpt-4o", provider="openai", api_key_env="GW_KEY"))
    services.reload_settings()
    page = dialog.general_page
    dialog.show_page("General")
    _idle(qtbot, services)
    names = [page.defaults.topLevelItem(i).text(0) for i in range(page.defaults.topLevelItemCount())]
    assert names[:2] == ["local/smollm2-135m-instruct", "local/gemma3-270m"] and "gw" in names
    assert page.checked_models() == ["local/smollm2-135m-instruct", "local/gemma3-270m"]
    page.defaults.topLevelItem(1).setCheckState(0, Qt.CheckState.Unchecked)
    page.defaults.topLevelItem(names.index("gw")).setCheckState(0, Qt.CheckState.Checked)

    page.timeouts["connect_s"].setValue(0)
    page.save()
    qtbot.waitUntil(lambda: page.errors["connect_s"].isVisible(), timeout=10000)
    assert page.errors["connect_s"].text() == "must be > 0, got 0.0"
    assert load_settings(services.store.root).connect_timeout_s == 10.0

    page.timeouts["connect_s"].setValue(5)
    page.timeouts["idle_s"].setValue(12.5)
    page.retries.setValue(1)
    with qtbot.waitSignal(page.settings_saved, timeout=10000):
        page.save()
    s = load_settings(services.store.root)
    assert s.default_models == ["local/smollm2-135m-instruct", "gw"]
    assert (s.connect_timeout_s, s.first_token_timeout_s, s.idle_timeout_s, s.max_retries) == (5.0, 60.0, 12.5, 1)
    data = _toml(services)
    assert data["timeouts"] == {"connect_s": 5.0, "idle_s": 12.5} and data["retries"] == {"max": 1}
    assert not page.errors["connect_s"].isVisible()
    assert services.settings().max_retries == 1


def test_an_invalid_promptbench_toml_is_reported_on_every_page(qtbot, services):
    (services.store.root / "promptbench.toml").write_text("[local]\nmode = \n")
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog)
    dialog.show()
    _idle(qtbot, services)
    for label in (dialog.models_page.page_error, dialog.local_page.mode_error, dialog.general_page.page_error):
        assert not label.isHidden() and "promptbench.toml:2: invalid TOML" in label.text()
    dialog.models_page.save()  # nothing to save against: an inline error, no exception
    assert dialog.models_page.form.errors["name"].isVisible()
    dialog.close()


def test_unsaved_settings_show_and_closing_asks(qtbot, services, dialog):
    from tests.gui.unsaved_helpers import answer_dialog

    page = dialog.general_page
    dialog.show_page("General")
    _idle(qtbot, services)
    assert not page.save_button.isEnabled() and not page.revert_button.isEnabled()
    assert "[*]" in dialog.windowTitle() and not dialog.isWindowModified()
    page.retries.setValue(page.retries.value() + 2)
    assert page.save_button.isEnabled() and dialog.isWindowModified()
    assert dialog.nav.item(2).text() == "General  ✎" and dialog.unsaved_pages() == ["General"]
    models = dialog.models_page
    assert not models.save_button.isEnabled()  # nothing typed into the model form

    answer_dialog("Cancel")
    dialog.reject()
    assert dialog.isVisible() and page.is_dirty()
    answer_dialog("Save")
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert load_settings(services.store.root).max_retries == page.retries.value()
    assert not page.save_button.isEnabled()


def test_closing_settings_with_discard_writes_nothing(qtbot, services, dialog):
    from tests.gui.unsaved_helpers import answer_dialog

    path = services.store.root / "promptbench.toml"
    before = path.read_text()
    models = dialog.models_page
    qtbot.mouseClick(models.add_button, Qt.MouseButton.LeftButton)
    _fill(qtbot, models.form, name="draft-model", model="openai/gpt-4o")
    assert models.save_button.isEnabled() and dialog.unsaved_pages() == ["Models"]
    answer_dialog("Discard")
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    _idle(qtbot, services)
    assert path.read_text() == before
