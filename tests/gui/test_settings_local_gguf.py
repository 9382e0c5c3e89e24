"""Settings → Local models → "Add GGUF file…" and Remove, on a real workspace with tiny GGUF files."""

from __future__ import annotations

import tomllib

import pytest
from PySide6.QtCore import Qt

from promptbench.core.settings.config import list_all_models, parse_settings
from promptbench.core.local.gguf import use_workspace_models
from promptbench.core.store.promptstore import PromptStore
from promptbench.gui.services import Services
from promptbench.gui.settings import SettingsDialog
from promptbench.gui.settings.local_page import GGUF_FILTER
from promptbench.gui.settings.settings_dialog import PAGES
from tests.core.test_local_gguf import chat_gguf, write_gguf


@pytest.fixture
def services(workspace):
    services = Services(workspace)
    yield services
    services.close()
    use_workspace_models({}, workspace.root)  # the process-wide registry forgets this workspace's models


@pytest.fixture
def page(qtbot, services):
    dialog = SettingsDialog(services)
    qtbot.addWidget(dialog, before_close_func=lambda d: d.discard_changes())
    dialog.show()
    dialog.show_page("Local models")
    assert PAGES[dialog.pages.currentIndex()] == "Local models"
    yield dialog.local_page
    dialog.close()
    services.tasks.wait(10000)


def _idle(qtbot, services):
    qtbot.waitUntil(lambda: not services.tasks.is_busy(), timeout=10000)


def _open_add_dialog(qtbot, page, services, path, monkeypatch):
    monkeypatch.setattr(page, "_choose_file", lambda: str(path))  # the file dialog, as a person picks a file
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.add_dialog is not None and page.add_dialog.isVisible(), timeout=10000)
    return page.add_dialog


def test_add_a_chat_gguf_lists_it_at_once_and_writes_promptbench_toml(qtbot, services, page, tmp_path, monkeypatch):
    path = chat_gguf(tmp_path / "Tiny-Chat.Q4_K_M.gguf")
    toml = services.store.root / "promptbench.toml"
    before = toml.read_text()
    dialog = _open_add_dialog(qtbot, page, services, path, monkeypatch)
    assert dialog.name.text() == "tiny-chat-q4_k_m"
    assert dialog.name_hint.text() == "Compare lists it as local/tiny-chat-q4_k_m."
    assert dialog.chat.isEnabled() and dialog.chat.isChecked()  # the file carries a chat template
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "tiny")
    with qtbot.waitSignal(page.local_model_added, timeout=10000) as added:
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert added.args == ["local/tiny"]
    assert not dialog.isVisible()
    _idle(qtbot, services)

    assert toml.read_text() == before + f'\n[local.models.tiny]\npath = "{path}"\nmode = "chat"\n'  # comments kept
    rows = {model_id: (status.text(), details.text()) for model_id, status, details in page.rows}
    assert rows["local/tiny"] == ("Available", f"{path} · chat template")
    assert "local/tiny" in page.remove_buttons and "local/smollm2-135m-instruct" not in page.remove_buttons
    assert page.add_note.text() == "Added local/tiny to promptbench.toml; Compare lists it now."
    assert "local/tiny" in [cfg.name for cfg in list_all_models(services.settings(), detect_ollama=False)]


def test_a_base_model_can_only_be_a_plain_transcript(qtbot, services, page, tmp_path, monkeypatch):
    path = write_gguf(tmp_path / "base.gguf", {"general.architecture": "gemma3"})
    dialog = _open_add_dialog(qtbot, page, services, path, monkeypatch)
    assert not dialog.chat.isEnabled() and dialog.transcript.isChecked()
    with qtbot.waitSignal(page.local_model_added, timeout=10000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    data = tomllib.loads((services.store.root / "promptbench.toml").read_text())
    assert data["local"]["models"]["base"] == {"path": str(path), "mode": "transcript"}
    _idle(qtbot, services)
    rows = {model_id: details.text() for model_id, _status, details in page.rows}
    assert rows["local/base"] == f"{path} · plain transcript (User:/Assistant:)"


def test_a_taken_name_is_refused_in_the_dialog(qtbot, services, page, tmp_path, monkeypatch):
    dialog = _open_add_dialog(qtbot, page, services, chat_gguf(tmp_path / "x.gguf"), monkeypatch)
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "SmolLM2-135M-Instruct")
    assert dialog.name_error.text() == "local/SmolLM2-135M-Instruct is a built-in model; choose another name."
    assert not dialog.add_button.isEnabled()
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "has space")
    assert "letters, digits, - and _" in dialog.name_error.text() and not dialog.add_button.isEnabled()
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "fine")
    assert dialog.name_error.isHidden() and dialog.add_button.isEnabled()
    dialog.reject()
    assert "local.models" not in (services.store.root / "promptbench.toml").read_text().replace("[local]", "")


def test_a_wrong_file_says_which_and_what_is_wrong(qtbot, services, page, tmp_path, monkeypatch):
    notes = tmp_path / "notes.gguf"
    notes.write_text("these are my notes, not a model")
    monkeypatch.setattr(page, "_choose_file", lambda: str(notes))
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.add_error.isVisible(), timeout=10000)
    assert page.add_error.text() == (f"{notes} is not a GGUF model file: it does not start with the GGUF signature "
                                     "(it starts with b'thes'); convert it with llama.cpp's convert_hf_to_gguf.py, "
                                     "or download a .gguf build of the model")
    assert page.add_dialog is None
    monkeypatch.setattr(page, "_choose_file", lambda: "")  # the file dialog cancelled: nothing happens
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    assert page.add_dialog is None and "*.gguf" in GGUF_FILTER


def test_remove_an_added_model(qtbot, services, page, tmp_path, monkeypatch):
    toml = services.store.root / "promptbench.toml"
    before = toml.read_text()
    dialog = _open_add_dialog(qtbot, page, services, chat_gguf(tmp_path / "gone.gguf"), monkeypatch)
    with qtbot.waitSignal(page.local_model_added, timeout=10000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, services)
    asked = []
    monkeypatch.setattr(page, "_confirm_remove", lambda name: asked.append(name) or True)
    with qtbot.waitSignal(page.local_model_removed, timeout=10000):
        qtbot.mouseClick(page.remove_buttons["local/gone"], Qt.MouseButton.LeftButton)
    assert asked == ["gone"]
    assert toml.read_text() == before
    _idle(qtbot, services)
    assert "local/gone" not in [model_id for model_id, *_ in page.rows]
    assert "local/gone" not in [cfg.name for cfg in list_all_models(services.settings(), detect_ollama=False)]
    assert (tmp_path / "gone.gguf").exists()  # the file itself stays


def test_added_model_is_there_after_a_restart(qtbot, services, page, tmp_path, monkeypatch):
    dialog = _open_add_dialog(qtbot, page, services, chat_gguf(tmp_path / "kept.gguf"), monkeypatch)
    with qtbot.waitSignal(page.local_model_added, timeout=10000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    root = services.store.root
    use_workspace_models({}, root)  # as in a new process: nothing registered yet
    text = (root / "promptbench.toml").read_text()
    assert "local/kept" not in [cfg.name for cfg in list_all_models(parse_settings(text), detect_ollama=False)]
    again = Services(PromptStore(root))  # the app starting again on this workspace
    try:
        assert "local/kept" in [cfg.name for cfg in list_all_models(again.settings(), detect_ollama=False)]
    finally:
        again.close()
