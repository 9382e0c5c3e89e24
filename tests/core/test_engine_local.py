"""End to end on the real embedded SmolLM2 model through the engine (no network, no key)."""

from __future__ import annotations

import os

import pytest

from promptbench.core import events as ev
from promptbench.core.config import load_settings, resolve_model
from promptbench.core.engine import ComparisonRequest, Engine
from promptbench.core.local import LocalServerManager
from promptbench.core.runs import RunStore
from tests.core.engine_helpers import Collector

pytestmark = pytest.mark.local_model


def test_smollm2_streams_through_the_engine_and_is_stored(tmp_path):
    settings = load_settings(tmp_path)
    smol = resolve_model(settings, "local/smollm2-135m-instruct")
    manager = LocalServerManager(log_dir=tmp_path / "logs")
    runs = RunStore(tmp_path / "pb.db")
    collector = Collector()
    engine = Engine(settings, collector, local=manager, runs=runs)
    try:
        messages = [{"role": "user", "content": "Name three colours."}]
        cid, (run_id,) = engine.compare(ComparisonRequest(messages, [smol], params={"temperature": 0, "max_tokens": 24, "seed": 1}))
        assert engine.wait(cid, 180)
        pid = manager.status()[smol.model]["pid"]
    finally:
        engine.shutdown()
        manager.stop_all()
    result = collector.terminal()[run_id]
    assert isinstance(result, ev.RunFinished), result
    assert result.output.strip()
    m = result.metrics
    assert m.ttft_ms is not None and m.ttft_ms > 0
    assert m.tokens_reported and 0 < m.output_tokens <= 24
    assert m.output_tokens == len(collector.of(run_id, ev.TextDelta))
    assert m.cost_usd == 0
    assert m.tokens_per_s and m.tokens_per_s > 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    runs.flush()
    stored = runs.get_run(run_id)
    assert stored["status"] == "finished" and stored["output"] == result.output and stored["cost_usd"] == 0
    runs.close()
    assert list((tmp_path / "logs").glob("*.log"))


def test_json_schema_response_format_works_on_a_local_model(tmp_path):
    import json

    from promptbench.core.params import request_params

    settings = load_settings(tmp_path)
    smol = resolve_model(settings, "local/smollm2-135m-instruct")
    schema = {"name": "ticket", "schema": {"type": "object", "properties": {"category": {"type": "string", "enum": ["billing", "bug"]}},
                                          "required": ["category"]}}
    params = request_params({"temperature": 0, "maxTokens": 32}, "json_schema", schema)
    manager = LocalServerManager(log_dir=tmp_path / "logs")
    collector = Collector()
    engine = Engine(settings, collector, local=manager)
    try:
        messages = [{"role": "user", "content": "My invoice is wrong. Classify this ticket."}]
        cid, (run_id,) = engine.compare(ComparisonRequest(messages, [smol], params=params))
        assert engine.wait(cid, 180)
    finally:
        engine.shutdown()
        manager.stop_all()
    result = collector.terminal()[run_id]
    assert isinstance(result, ev.RunFinished), result
    assert json.loads(result.output)["category"] in ("billing", "bug")
