"""Running the engine against the loopback OpenAI server and collecting its events."""

from __future__ import annotations

import dataclasses
import queue

from promptbench.core.engine import events as ev
from promptbench.core.settings.config import load_settings, resolve_model
from promptbench.core.engine.engine import ComparisonRequest, Engine

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


def settings_for(tmp_path, **overrides):
    settings = load_settings(tmp_path)
    defaults = dict(connect_timeout_s=2.0, first_token_timeout_s=2.0, idle_timeout_s=1.0, max_retries=2)
    defaults.update(overrides)
    return dataclasses.replace(settings, **defaults)


def model(server, name, **fields):
    base = resolve_model(load_settings(server_root()), f"openai/{name}")
    fields.setdefault("api_base", server.base_url)
    fields.setdefault("input_cost_per_mtok", 1.0)
    fields.setdefault("output_cost_per_mtok", 2.0)
    return dataclasses.replace(base, name=name, **fields)


def server_root():
    import tempfile
    from pathlib import Path

    return Path(tempfile.gettempdir())


class Collector:
    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        self.all: list = []

    def __call__(self, event):
        self.events.put(event)

    def drain(self):
        while True:
            try:
                self.all.append(self.events.get_nowait())
            except queue.Empty:
                return self.all

    def terminal(self) -> dict[str, object]:
        return {e.run_id: e for e in self.drain() if isinstance(e, ev.TERMINAL)}

    def of(self, run_id, kind):
        return [e for e in self.drain() if getattr(e, "run_id", None) == run_id and isinstance(e, kind)]


def run_comparison(settings, models, *, runs=None, messages=MESSAGES, params=None, timeout=30, engine_kwargs=None):
    collector = Collector()
    engine = Engine(settings, collector, runs=runs, key_lookup=lambda m: "sk-test-key-0000", **(engine_kwargs or {}))
    try:
        request = ComparisonRequest(messages=messages, models=models, params=params or {}, prompt_path="p.prompt.yml",
                                    prompt_version="draft:test")
        comparison = engine.compare(request)
        comparison_id, run_ids = comparison.id, comparison.run_ids
        assert comparison.wait(timeout), "comparison did not finish"
    finally:
        engine.shutdown()
    results = collector.terminal()
    return [results[r] for r in run_ids], collector, comparison_id
