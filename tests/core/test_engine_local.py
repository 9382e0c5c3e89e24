"""End to end on the real embedded SmolLM2 model through the engine (no network, no key)."""

from __future__ import annotations

import os

import pytest

from promptbench.core.engine import events as ev
from promptbench.core.settings.config import load_settings, resolve_model
from promptbench.core.engine.engine import ComparisonRequest, Engine
from promptbench.core.local.servers import LocalServerManager
from promptbench.core.db.runs import RunStore
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
        comparison = engine.compare(ComparisonRequest(messages, [smol], params={"temperature": 0, "max_tokens": 24, "seed": 1}))
        cid, (run_id,) = comparison.id, comparison.run_ids
        assert comparison.wait(180)
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

    from promptbench.core.prompts.params import request_params

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
        comparison = engine.compare(ComparisonRequest(messages, [smol], params=params))
        cid, (run_id,) = comparison.id, comparison.run_ids
        assert comparison.wait(180)
    finally:
        engine.shutdown()
        manager.stop_all()
    result = collector.terminal()[run_id]
    assert isinstance(result, ev.RunFinished), result
    assert json.loads(result.output)["category"] in ("billing", "bug")


def test_gemma_base_model_stops_at_its_own_turn_on_summarize_prompts(tmp_path):
    """Gemma 3 270M (plain transcript) used to run on past its answer: "… open.\nAssistant: The bakery …"
    (the stop list had only "\nUser:"). The summarize sample, the sample without its worked example,
    and a bare "summarize the article" prompt, with the seeds that ran on before."""
    from pathlib import Path

    from promptbench.core.prompts.params import request_params
    from promptbench.core.prompts.promptfile import load_prompt
    from promptbench.core.prompts.templating import render

    prompt = load_prompt(Path(__file__).resolve().parents[2] / "prompts" / "summarize.prompt.yml")
    system = prompt.messages[0].content
    bakery, company = prompt.test_data[2]["input"], "The company reported record profits this quarter thanks to strong sales of its new phone."
    cases = [(render(prompt, case).messages, 1) for case in range(len(prompt.test_data))]
    for text in (bakery, company):
        cases += [([{"role": "system", "content": system}, {"role": "user", "content": f"Summarize this text:\n\n{text}\n"}], seed)
                  for seed in (2, 3)]
    cases += [([{"role": "system", "content": "Summarize the article."}, {"role": "user", "content": bakery}], seed) for seed in (2, 3)]
    settings = load_settings(tmp_path)
    gemma = resolve_model(settings, "local/gemma3-270m")
    manager = LocalServerManager(log_dir=tmp_path / "logs")
    collector = Collector()
    engine = Engine(settings, collector, local=manager)
    runs = []
    try:
        for messages, seed in cases:
            params = {**request_params(prompt.model_parameters), "seed": seed}  # temperature 0.2, at most 96 tokens
            comparison = engine.compare(ComparisonRequest(messages, [gemma], params=params))
            cid, (run_id,) = comparison.id, comparison.run_ids
            assert comparison.wait(300)
            runs.append(run_id)
    finally:
        engine.shutdown()
        manager.stop_all()
    for (messages, seed), run_id in zip(cases, runs):
        result = collector.terminal()[run_id]
        assert isinstance(result, ev.RunFinished), result
        assert result.output.strip(), (messages[-1], seed)
        assert "User:" not in result.output and "Assistant:" not in result.output, (messages[-1], seed, result.output)


class _Killer:
    """Kills the local server (SIGKILL) the first time text streams after each arming."""

    def __init__(self, manager, model_id: str, times: int):
        self.manager, self.model_id, self.left = manager, model_id, times
        self.armed = True
        self.kills: list[int] = []
        self.events: list = []

    def __call__(self, event) -> None:
        import signal

        self.events.append(event)
        if isinstance(event, ev.Retrying) and event.discard_output:
            self.armed = True  # kill the restarted server too, while left
        if isinstance(event, ev.TextDelta) and self.armed and self.left > 0:
            pid = self.manager.status()[self.model_id]["pid"]
            os.kill(pid, signal.SIGKILL)
            self.kills.append(pid)
            self.armed, self.left = False, self.left - 1


def _batch(tmp_path, killer_times: int, cells: int):
    settings = load_settings(tmp_path)
    smol = resolve_model(settings, "local/smollm2-135m-instruct")
    manager = LocalServerManager(log_dir=tmp_path / "logs", slots=4)
    killer = _Killer(manager, smol.model, killer_times)
    runs = RunStore(tmp_path / "pb.db")
    engine = Engine(settings, killer, local=manager, runs=runs)
    try:
        manager.ensure(smol.model)
        comparisons = [
            engine.compare(ComparisonRequest([{"role": "user", "content": f"Count from {i} to {i + 40}, one number per line."}],
                                             [smol], params={"temperature": 0, "max_tokens": 60, "seed": 1},
                                             local_mode="batched", kind="eval_cell"))
            for i in range(cells)
        ]
        assert all(c.wait(300) for c in comparisons)
        restarts = manager.status()[smol.model]["restarts"]
    finally:
        engine.shutdown()
        manager.stop_all()
    runs.flush()
    ends = {e.run_id: e for e in killer.events if isinstance(e, ev.TERMINAL)}
    return [ends[c.run_ids[0]] for c in comparisons], killer, restarts, runs


def test_a_local_server_killed_mid_batch_is_restarted_and_its_cells_rerun_once(tmp_path):
    results, killer, restarts, runs = _batch(tmp_path, killer_times=1, cells=4)
    assert len(killer.kills) == 1 and restarts == 1
    retried = {e.run_id for e in killer.events if isinstance(e, ev.Retrying) and e.discard_output}
    assert retried, "the cells the dead server was serving are run again"
    had_text = 0
    for result in results:
        assert isinstance(result, ev.RunFinished), result
        mine = [e for e in killer.events if getattr(e, "run_id", None) == result.run_id]
        restart = max((i for i, e in enumerate(mine) if isinstance(e, ev.Retrying)), default=-1)
        after = "".join(e.text for e in mine[restart + 1:] if isinstance(e, ev.TextDelta))
        assert result.output.strip() and result.output == after  # one whole answer, not two halves
        assert result.metrics.tokens_reported and result.metrics.output_tokens > 0
        if result.run_id in retried:
            assert result.metrics.retries == 1
            had_text += any(isinstance(e, ev.TextDelta) for e in mine[:restart])
        stored = runs.get_run(result.run_id)
        assert stored["status"] == "finished" and stored["output"] == result.output
    assert had_text >= 1  # killed mid-answer: the text already shown was dropped, not kept
    runs.close()


def test_a_local_server_that_dies_again_fails_the_cell_with_its_log(tmp_path):
    results, killer, restarts, runs = _batch(tmp_path, killer_times=2, cells=1)
    runs.close()
    (result,) = results
    assert len(killer.kills) == 2
    assert isinstance(result, ev.RunFailed), result
    assert "failed again after a restart" in result.message
    assert "exit code" in result.message and ".log" in result.message  # names the server's log
