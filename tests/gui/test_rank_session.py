"""A ranking session from the dialog: stored outputs reused, missing ones generated, pairs queued."""

from __future__ import annotations

import pytest
import shiboken6

from promptbench.gui.rank.session_dialog import SessionDialog
from promptbench.gui.services import Services
from tests.conftest import SIMPLE_PROMPT
from tests.gui.test_compare import MODELS, catalog

P = "greeter.prompt.yml"


@pytest.fixture
def services(workspace, openai_server):
    (workspace.root / "promptbench.toml").write_text(catalog(openai_server.base_url))
    workspace.save(P, SIMPLE_PROMPT, "v1")
    workspace.save(P, SIMPLE_PROMPT.replace("friendly", "terse"), "v2")
    svc = Services(workspace, key_lookup=lambda m: None)
    yield svc
    svc.close()
    shiboken6.delete(svc)


def test_session_generates_outputs_and_queues_every_pair(qtbot, services, openai_server):
    for name in MODELS:
        openai_server.set_scenario(name, chunks=[f" {name}", " says", " hi"])
    dialog = SessionDialog(services, P)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.versions.count() == 2 and dialog.models.count() >= 3 and dialog.cases.count() == 2, timeout=10000)
    # two versions (both checked by default) x two models, both test cases
    only(dialog, "alpha", "beta")
    with qtbot.waitSignal(dialog.session_ready, timeout=30000) as ready:
        dialog.start()
    items, session_id = ready.args
    assert session_id
    # 4 contestants per test case -> 6 pairs, 2 test cases
    assert len(items) == 12
    assert len(openai_server.log()) == 2 * 2 * 2  # every output generated once
    for item in items:
        assert len(item.outputs) == 2 and item.outputs[0].contestant != item.outputs[1].contestant
        assert all(o.text.endswith(" says hi") for o in item.outputs)

    # a second session reuses everything: nothing new is requested
    before = len(openai_server.log())
    again = SessionDialog(services, P)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.models.count() >= 3, timeout=10000)
    only(again, "alpha", "beta")
    with qtbot.waitSignal(again.session_ready, timeout=30000) as ready:
        again.start()
    assert len(ready.args[0]) == 12 and len(openai_server.log()) == before


def only(dialog, *names):
    from PySide6.QtCore import Qt

    for i in range(dialog.models.count()):
        item = dialog.models.item(i)
        wanted = item.data(Qt.ItemDataRole.UserRole) in names
        item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)
