"""The sample prompts in prompts/ are files GitHub runs as promptbench does: nothing in them
that `gh models eval` would read differently (no warning), promptbench's own evaluators only
under ``promptbenchEvaluators``, and every evaluator giving the same choice and score under
GitHub's reading and promptbench's strict one for plain judge replies; where the two part
(a built-in's "2", a reply naming several choices) is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptbench.core.prompts import yamlio
from promptbench.core.eval.evaluators import EvalContext, build_evaluators
from promptbench.core.eval.evaluators.judge import JudgeEvaluator, read_judges_as
from promptbench.core.prompts.promptfile import load_prompt, render
from promptbench.core.prompts.schema import EVALUATOR_KINDS

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "prompts").glob("*.prompt.yml"))
READINGS = ({"mode": "github", "pass_threshold": None}, {"mode": "strict", "pass_threshold": None})


def replying(reply: str):
    async def judge(model: str, messages: list[dict]) -> str:
        return reply
    return judge


def verdicts(prompt, completion: str, case: dict, reply: str, judging: dict) -> list[tuple[str, bool | None, float | None]]:
    evaluators = build_evaluators(prompt.evaluators, source=prompt.source, prompt=prompt, judge=replying(reply),
                                  fields=[f for f, _ in prompt.evaluator_entries])
    read_judges_as(evaluators, judging)
    rendered = render(prompt, case)
    results = [e.evaluate(EvalContext(output=completion, test_case=case, messages=rendered.messages, prompt=prompt))
               for e in evaluators]
    return [(r.name, r.passed, r.score) for r in results]


def test_there_are_samples():
    assert len(SAMPLES) == 5


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_a_sample_has_nothing_github_reads_differently(path):
    prompt = load_prompt(path)
    assert prompt.warnings == []
    data = yamlio.to_plain(yamlio.load(path.read_text()))
    for evaluator in data.get("evaluators") or ():
        assert [k for k in evaluator if k in EVALUATOR_KINDS], f"{path.name}: {evaluator['name']} would stop gh models eval"


# Plain replies a judge gives when it answers as asked; both readings must agree on every one.
PLAIN = {"yes": "yes", "no": "no", "5": "5", "2": "2", "1": "1"}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_both_readings_agree_on_plain_judge_replies(path):
    prompt = load_prompt(path)
    judged = any(isinstance(e, JudgeEvaluator) for e in build_evaluators(prompt.evaluators, source=path.name, prompt=prompt))
    for index, case in enumerate(prompt.test_data):
        completion = str(case.get("expected", "")) or "Summary: a sentence."
        for reply in (PLAIN if judged else {"-": ""}):
            github, strict = (verdicts(prompt, completion, case, reply, r) for r in READINGS)
            where = f"{path.name} case {index + 1}, judge reply {reply!r}"
            # The same choice and score always; the verdict too, except that a built-in's "2"
            # (score 0.25) passes on GitHub (> 0) and not at the strict reading's threshold 0.5.
            assert [(n, s) for n, _, s in github] == [(n, s) for n, _, s in strict], where
            parted = [n for (n, g, sc), (_, st, _) in zip(github, strict) if g != st]
            assert all(reply == "2" and sc == 0.25 for n, _, sc in github if n in parted), where


def test_where_the_readings_part_on_a_sample_it_is_a_reply_that_names_several_choices():
    prompt = load_prompt(next(p for p in SAMPLES if p.name == "summarize.prompt.yml"))
    case = prompt.test_data[0]
    completion = case["expected"]
    github, strict = (dict((n, (p, s)) for n, p, s in verdicts(prompt, completion, case, "5 (certainly not 1)", r))
                      for r in READINGS)
    similar = "Close to the expected summary"
    assert github[similar] == (False, 0.0)    # GitHub takes the first listed choice the reply contains: "1"
    assert strict[similar] == (True, 1.0)     # the strict reading takes the one the reply opens with: "5"
    assert github['Starts with "Summary:"'] == strict['Starts with "Summary:"'] == (True, 1.0)
