"""Ranking sessions reuse stored outputs and generate only the missing ones."""

from __future__ import annotations

from promptbench.core.ranking.session import all_cells, plan_session, session_pairs
from tests.core.test_batch import PROMPT, REL, bench, models, run  # noqa: F401  (fixture)


def test_session_generates_only_missing_outputs_and_pairs_every_contestant(bench, openai_server, workspace):
    v1 = workspace.history(REL)[0].sha
    workspace.save(REL, PROMPT.replace("Be brief.", "Be very brief."))
    a, b = models(openai_server, "ma", "mb")
    # outputs of model a for both versions exist already
    first = bench.plan(REL, versions=[v1, "current"], test_cases=[0, 1], models=[a])
    run(bench, first)
    requests_before = len(openai_server.log())

    session = plan_session(bench, bench.runs, REL, versions=[v1, "current"], models=[a, b], test_cases=[0, 1])
    assert len(session.reused) == 4 and session.missing == 4
    batch_id = run(bench, session.plan)
    assert len(openai_server.log()) - requests_before == 4
    assert {r["model"] for r in openai_server.log()[requests_before:]} == {"mb"}

    cells = all_cells(session, bench.results(batch_id))
    assert len(cells) == 8
    pairs = session_pairs(bench.runs, REL, cells)
    # 4 contestants (2 versions x 2 models) per test case -> 6 pairs, for 2 test cases
    assert len(pairs) == 12
    for pair in pairs:
        x, y = pair.outputs
        assert x.contestant != y.contestant and x.text == y.text == "".join([" one", " two", " three"])
        assert pair.context and "number" in pair.context
