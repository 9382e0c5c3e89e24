"""core/workbench.py: the one composition root opens its parts lazily, in order, and closes them in reverse."""

from __future__ import annotations

import queue
import threading

import pytest

from promptbench.core.engine import events as ev
from promptbench.core.errors import PromptbenchError
from promptbench.core.workbench import Workbench

CATALOG = """
[retries]
max = 0

[eval]
judge_model = "{judge}"

[models.gw-echo]
model = "openai/echo"
api_base = "{base}"
api_key_env = "PB_TEST_KEY"
"""


@pytest.fixture
def ws(workspace, openai_server, monkeypatch):
    monkeypatch.setenv("PB_TEST_KEY", "sk-test-key-0000")
    (workspace.root / "promptbench.toml").write_text(CATALOG.format(base=openai_server.base_url, judge="gw-echo"))
    openai_server.set_scenario("echo", echo=True)
    return workspace


def engine_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "promptbench-engine"]


def test_parts_open_on_first_use_in_order(ws):
    ws.create("hi.prompt.yml", "name: Hi\nmessages:\n  - role: user\n    content: Hello there\n")
    before = len(engine_threads())
    wb = Workbench(ws.root)
    try:
        assert wb.store.root == ws.root and wb.db_path == ws.root / ".promptbench" / "promptbench.db"
        assert wb.store.read("hi.prompt.yml").name == "Hi"
        assert wb.settings() is wb.settings() and wb.settings().max_retries == 0
        # settings and prompts open no database, no engine, no thread
        assert not wb.db_path.exists() and not wb.has_engine() and len(engine_threads()) == before
        assert wb.eval_runner(create=False) is None

        engine = wb.engine()  # opens what it stands on first: settings, database, local servers
        assert wb.has_engine() and wb.db_path.exists() and len(engine_threads()) == before + 1
        assert engine.settings is wb.settings() and engine.runs is wb.runs() and engine.local is wb.local()
        assert wb.engine() is engine and wb.runs() is engine.runs

        batch, runner = wb.batch_runner(), wb.eval_runner()
        assert batch.engine is engine and batch.store is wb.store
        assert runner.engine is engine and runner.batch is not batch
        assert wb.batch_runner() is batch and wb.eval_runner() is runner and wb.eval_runner(create=False) is runner
    finally:
        wb.close()
    assert len(engine_threads()) == before


def test_close_goes_in_reverse_and_closes_every_part_even_when_one_fails(ws, monkeypatch):
    wb = Workbench(ws)
    assert wb.store is ws  # an open PromptStore is used as is (the CLI opens its own)
    wb.eval_runner()
    wb.batch_runner()
    closed = []

    def record(name, obj, method, fail=False):
        real = getattr(obj, method)

        def wrapper(*args, **kwargs):
            closed.append(name)
            real(*args, **kwargs)
            if fail:
                raise PromptbenchError(f"{name} failed to close")
        monkeypatch.setattr(obj, method, wrapper)

    record("evals", wb.eval_runner(create=False), "close")
    record("batches", wb.batch_runner(), "close")
    record("engine", wb.engine(), "shutdown", fail=True)
    record("local servers", wb.local(), "stop_all")
    record("database", wb.runs(), "close")
    record("store", wb.store, "close")
    runs = wb.runs()
    with pytest.raises(PromptbenchError, match="engine failed to close"):
        wb.close()
    assert closed == ["evals", "batches", "engine", "local servers", "database", "store"]
    with pytest.raises(PromptbenchError, match="the run store is closed"):
        runs.get_run("x")
    wb.close()  # once only
    assert closed == ["evals", "batches", "engine", "local servers", "database", "store"]
    for part in (wb.runs, wb.engine, wb.local, wb.batch_runner, wb.eval_runner):
        with pytest.raises(PromptbenchError, match="this workspace was closed; open it again"):
            part()
    assert wb.store.read_bytes  # reading prompts needs no running part


def test_listeners_hear_every_event_and_a_comparison_listener_only_its_own(ws, openai_server):
    heard: queue.Queue = queue.Queue()
    later: list = []
    own: list = []
    from promptbench.core.engine.requests import build_request, resolve_models

    with Workbench(ws, listeners=(heard.put,)) as wb:
        wb.subscribe(later.append)  # before the engine exists: it hears it once it does
        wb.store.save("hi.prompt.yml", "messages:\n  - role: user\n    content: Hello there\n")
        settings = wb.settings()
        request = build_request(wb.store, "hi.prompt.yml", wb.store.read("hi.prompt.yml"),
                                resolve_models(settings, ["gw-echo"]), settings=settings)
        other = wb.engine().compare(request)
        comparison = wb.engine().compare(request, listener=own.append)
        comparison_id, (run_id,) = comparison.id, comparison.run_ids
        assert comparison.wait(30) and other.wait(30)
        events = []
        while not heard.empty():
            events.append(heard.get())
        assert {e.comparison_id for e in events if isinstance(e, ev.ComparisonFinished)} == {comparison_id, other.id}
        assert len([e for e in events if isinstance(e, ev.RunFinished)]) == 2
        (finished,) = [e for e in own if isinstance(e, ev.RunFinished)]
        assert finished.run_id == run_id and finished.output == "Hello there" and later == events
        # the comparison's own listener heard exactly its events, in the order every listener did
        assert own == [e for e in events if getattr(e, "run_id", None) == run_id
                       or getattr(e, "comparison_id", None) == comparison_id]
        assert isinstance(own[0], ev.RunStarted) and own[-1] == ev.ComparisonFinished(comparison_id)
        wb.unsubscribe(later.append)
        n = len(later)
        assert wb.engine().compare(request).wait(30) and len(later) == n
        wb.runs().flush()
        assert wb.runs().get_run(run_id)["output"] == "Hello there"


def test_the_eval_runner_is_built_again_on_new_settings_once_idle(ws, openai_server):
    with Workbench(ws) as wb:
        first = wb.eval_runner()
        assert wb.eval_runner() is first and first.settings.eval_judge_model == "gw-echo"
        (ws.root / "promptbench.toml").write_text(CATALOG.format(base=openai_server.base_url, judge="other-judge"))
        settings = wb.reload_settings()
        assert wb.engine().settings is settings  # the engine follows at once
        second = wb.eval_runner()
        assert second is not first and second.settings is settings and settings.eval_judge_model == "other-judge"
        wb.close_eval_runner()
        assert wb.eval_runner(create=False) is None
        assert wb.eval_runner() is not second
