"""Evaluators: every kind passing and failing, and every way one can fail to run.

Judges and embedding models are plain async functions here: the evaluators take them
injected, exactly as the batch runner passes them in. BLEU/ROUGE run the real libraries.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from promptbench.core.prompts import judge_prompts
from promptbench.core.providers.errorclass import ProviderError
from promptbench.core.errors import PromptbenchError, PromptFileError
from promptbench.core.eval.evaluators import (
    EvalContext, EvalResult, build_evaluators, evaluate_all, judge_agreement, lexical_similarity, match_choice, summarize,
)
from promptbench.core.eval.evaluators import checks
from promptbench.core.engine.events import RunMetrics
from promptbench.core.prompts.promptfile import load_prompt, render

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
SRC = "demo.prompt.yml"


def one(spec: dict, **kw):
    [evaluator] = build_evaluators([{"name": "e", **spec}], source=SRC, **kw)
    return evaluator


def run(spec: dict, output: str, case: dict | None = None, *, messages=None, metrics=None, **kw) -> EvalResult:
    ctx = EvalContext(output=output, test_case=case or {}, messages=messages or [], metrics=metrics or {})
    return one(spec, **kw).evaluate(ctx)


def build_error(specs: list[dict], **kw) -> PromptFileError:
    with pytest.raises(PromptFileError) as info:
        build_evaluators(specs, source=SRC, **kw)
    assert isinstance(info.value, PromptbenchError)
    return info.value


class Judge:
    """A judge model stand-in: records what it was asked and replies with a fixed answer."""

    def __init__(self, answer="yes", error: Exception | None = None):
        self.answer, self.exc, self.calls = answer, error, []

    async def __call__(self, model: str, messages: list[dict]) -> str:
        self.calls.append((model, messages))
        if self.exc:
            raise self.exc
        return self.answer


# -- string: GitHub semantics ---------------------------------------------------------------
@pytest.mark.parametrize("check,value,output,passed", [
    ("contains", "PARIS", "The capital is Paris.", True),          # contains ignores case
    ("contains", "london", "The capital is Paris.", False),
    ("startsWith", "summary:", "SUMMARY: short", True),
    ("startsWith", "Summary:", "In summary: short", False),
    ("endsWith", ".", "One sentence.\n", True),                    # the output is stripped first
    ("endsWith", "!", "One sentence.", False),
    ("equals", "Yes", "Yes", True),
    ("equals", "Yes", "yes", False),                               # equals is exact
    ("equals", "Yes", "  Yes \n", True),
])
def test_string_checks(check, value, output, passed):
    result = run({"string": {check: value}}, output)
    assert result.passed is passed and result.score == (1.0 if passed else 0.0)
    assert result.error is None and repr(value) in result.reason


def test_string_check_fills_variables_from_the_test_case():
    # Changed with gh-models compatibility: the expected text is templated with the test case.
    case = {"expected": "Paris"}
    assert run({"string": {"contains": "{{expected}}"}}, "Paris", case).passed is True
    assert run({"string": {"contains": "{{expected}}"}}, "I wrote {{expected}}", case).passed is False


def test_string_unicode_and_empty_output():
    assert run({"string": {"contains": "école"}}, "UNE ÉCOLE À PARIS").passed is True
    assert run({"string": {"startsWith": "日本"}}, "日本語のテキスト").passed is True
    assert run({"string": {"contains": "x"}}, "").passed is False
    # Changed with gh-models compatibility: an empty criterion is no criterion (an error).
    assert run({"string": {"equals": ""}}, "   ").error == "no string evaluation criteria specified"


def test_string_spec_errors():
    # Changed with gh-models compatibility: several checks, an unknown field and a number
    # load as gh reads them (first non-empty of equals/contains/startsWith/endsWith; "42").
    assert run({"string": {"contains": "a", "endsWith": "b"}}, "xa").passed is True  # contains first, endsWith ignored
    unknown = run({"string": {"contain": "a"}}, "a")
    assert unknown.passed is None and unknown.error == "no string evaluation criteria specified"
    assert run({"string": {"equals": 42}}, "42").passed is True
    err = build_error([{"name": "s", "string": {"equals": [42]}}])
    assert "evaluators[0].string.equals" in str(err) and "expected text" in str(err)


# -- regex --------------------------------------------------------------------------------------
def test_regex_pass_fail_and_must_not_match():
    assert run({"regex": {"pattern": r"\b\d{3}-\d{4}\b"}}, "call 555-0142 now").passed is True
    assert run({"regex": {"pattern": r"^\d+$"}}, "12a").passed is False
    assert run({"regex": {"pattern": "sorry", "flags": "i", "mustMatch": False}}, "SORRY, I can't").passed is False
    assert run({"regex": {"pattern": "sorry", "mustMatch": False}}, "Sure, here it is").passed is True
    assert run({"regex": {"pattern": "^b", "flags": "m"}}, "a\nb").passed is True
    assert run({"regex": {"pattern": "a.b", "flags": "s"}}, "a\nb").passed is True
    assert run({"regex": {"pattern": r"^\w+$"}}, "日本語").passed is True  # unicode words
    assert run({"regex": {"pattern": "^$"}}, "").passed is True


def test_invalid_regex_is_reported_at_build_with_file_evaluator_and_field():
    err = build_error([{"name": "Has a phone", "regex": {"pattern": "(unclosed"}}])
    text = str(err)
    assert text.startswith(SRC) and "evaluators[0].regex.pattern" in text
    assert "'Has a phone'" in text and "invalid regex" in text and "fix the pattern" in text
    err = build_error([{"name": "r", "regex": {"pattern": "a", "flags": "iq"}}])
    assert "unknown regex flag 'q'" in str(err)
    err = build_error([{"name": "r", "regex": {}}])
    assert "missing 'pattern'" in str(err)


def test_catastrophic_regex_times_out_as_an_error(monkeypatch):
    monkeypatch.setattr(checks, "REGEX_TIMEOUT_S", 0.2)
    result = run({"regex": {"pattern": "(a|aa)+$"}}, "a" * 60 + "b")
    assert result.passed is None and "backtracking" in result.error


# -- json / jsonSchema -----------------------------------------------------------------------
@pytest.mark.parametrize("output,passed", [
    ('{"a": 1}', True),
    ("[1, 2]", True),
    ('```json\n{"a": 1}\n```', True),   # a code fence around the JSON is tolerated
    ("```\n[1]\n```\n", True),
    ('Here it is: {"a": 1}', False),
    ("{'a': 1}", False),
    ('{"a": NaN}', False),              # not JSON, even though Python's json accepts it
    ("", False),
    ('{"ключ": "значение"}', True),
])
def test_json_valid(output, passed):
    result = run({"json": {"valid": True}}, output)
    assert result.passed is passed and result.error is None


def test_json_reasons_and_inverse():
    assert "the output is empty" in run({"json": {}}, "  ").reason
    assert "line 1, column" in run({"json": {}}, "{nope").reason
    assert run({"json": {"valid": False}}, "plain words").passed is True
    assert run({"json": True}, "{}").passed is True


SCHEMA = {"type": "object", "properties": {"category": {"enum": ["bug", "billing"]}, "n": {"type": "integer"}},
          "required": ["category"], "additionalProperties": False}


def test_json_schema_pass_and_fail_with_path():
    assert run({"jsonSchema": {"schema": SCHEMA}}, '{"category": "bug", "n": 2}').passed is True
    result = run({"jsonSchema": {"schema": SCHEMA}}, '{"category": "ideas", "n": "two"}')
    assert result.passed is False and "$.category" in result.reason and "$.n" in result.reason
    assert run({"jsonSchema": {"schema": SCHEMA}}, "{}").passed is False  # required
    assert run({"jsonSchema": {"schema": SCHEMA}}, '```json\n{"category": "billing"}\n```').passed is True


def test_json_schema_non_json_and_empty_output_fail():
    for output in ("category: bug", "", "   "):
        result = run({"jsonSchema": {"schema": SCHEMA}}, output)
        assert result.passed is False and result.error is None
    assert "not JSON" in run({"jsonSchema": {"schema": SCHEMA}}, "category: bug").reason


def test_json_schema_given_as_json_text():
    import json

    assert run({"jsonSchema": {"schema": json.dumps(SCHEMA)}}, '{"category": "bug"}').passed is True


def test_json_schema_ref_uses_the_prompts_schema_unwrapped():
    prompt = load_prompt(PROMPTS / "classify-ticket.prompt.yml")
    spec = {"jsonSchema": {"schemaRef": "jsonSchema"}}
    assert run(spec, '{"category": "billing", "urgency": "high"}', prompt=prompt).passed is True
    assert run(spec, '{"category": "billing", "urgency": "urgent"}', prompt=prompt).passed is False
    assert run(spec, '{"category": "bug", "urgency": "low", "extra": 1}', prompt=prompt).passed is False  # strict


def test_invalid_schema_and_bad_refs_are_build_errors():
    err = build_error([{"name": "Shape", "jsonSchema": {"schema": {"type": "objekt"}}}])
    assert "evaluators[0].jsonSchema.schema" in str(err) and "invalid JSON Schema" in str(err) and "'Shape'" in str(err)
    err = build_error([{"name": "Shape", "jsonSchema": {"schema": "{not json"}}])
    assert "not valid JSON" in str(err)
    err = build_error([{"name": "Shape", "jsonSchema": {"schemaRef": "jsonSchema"}}])
    assert "no jsonSchema field" in str(err)
    prompt = load_prompt(PROMPTS / "summarize.prompt.yml")
    err = build_error([{"name": "Shape", "jsonSchema": {"schemaRef": "jsonSchema"}}], prompt=prompt)
    assert "no jsonSchema field" in str(err)
    err = build_error([{"name": "Shape", "jsonSchema": {"schemaRef": "other"}}])
    assert "unknown schemaRef 'other'" in str(err)
    err = build_error([{"name": "Shape", "jsonSchema": {"schema": SCHEMA, "schemaRef": "jsonSchema"}}])
    assert "exactly one of 'schema'" in str(err)


# -- BLEU / ROUGE -------------------------------------------------------------------------------
REF = "The council approved a two-mile bike lane extension, built from May to winter."
UNRELATED = "Quarterly revenue rose sharply thanks to strong cloud sales in Asia."


def test_bleu_identical_high_unrelated_low():
    same = run({"bleu": {"threshold": 0.5}}, REF, {"expected": REF})
    assert same.passed is True and same.score == pytest.approx(1.0) and same.details["bleu"] == pytest.approx(100)
    other = run({"bleu": {"threshold": 0.5}}, UNRELATED, {"expected": REF})
    assert other.passed is False and other.score < 0.1
    close = run({"bleu": {}}, "The council approved a two-mile bike lane extension built from May.", {"expected": REF})
    assert other.score < close.score < same.score


def test_bleu_reference_template_unicode_and_empty():
    ref = {"reference": "{{answer}}"}
    assert run({"bleu": ref}, "Привет, как дела?", {"answer": "Привет, как дела?"}).score == pytest.approx(1.0)
    assert run({"bleu": {"tokenize": "char"}}, "東京は日本の首都です", {"expected": "東京は日本の首都です"}).score == pytest.approx(1.0)
    empty = run({"bleu": {}}, "", {"expected": REF})
    assert empty.passed is False and empty.score == 0.0 and empty.error is None


def test_bleu_spec_errors():
    err = build_error([{"name": "b", "bleu": {"threshold": 30}}])
    assert "between 0 and 1" in str(err) and "sacrebleu's 30 is 0.3" in str(err)
    assert "unknown BLEU tokenizer" in str(build_error([{"name": "b", "bleu": {"tokenize": "spaces"}}]))


def test_missing_reference_variable_is_an_error_naming_it():
    result = run({"bleu": {}}, "text", {"input": "no expected here"})
    assert result.passed is None and "{{expected}}" in result.error and "'expected'" in result.error
    result = run({"rouge": {"reference": "{{gold}}"}}, "text", {})
    assert result.passed is None and "{{gold}}" in result.error


@pytest.mark.parametrize("variant", ["rougeL", "rouge1", "rouge2"])
def test_rouge_identical_high_unrelated_low(variant):
    same = run({"rouge": {"variant": variant}}, REF, {"expected": REF})
    assert same.passed is True and same.score == pytest.approx(1.0)
    other = run({"rouge": {"variant": variant}}, UNRELATED, {"expected": REF})
    assert other.passed is False and other.score < 0.15


def test_rouge_matches_rouge_score_on_english_and_handles_other_scripts():
    from rouge_score import rouge_scorer

    output = "The council approved extending the bike lanes by two miles from May."
    reference = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(REF, output)["rougeL"].fmeasure
    assert run({"rouge": {}}, output, {"expected": REF}).score == pytest.approx(reference)
    # rouge-score's own tokenizer drops non-Latin text entirely (every score 0).
    assert run({"rouge": {}}, "東京は日本の首都です", {"expected": "東京は日本の首都です"}).score == pytest.approx(1.0)
    assert run({"rouge": {}}, "Москва — столица России", {"expected": "Столица России — Москва"}).score > 0.4
    assert run({"rouge": {}}, "", {"expected": REF}).score == 0.0


def test_rouge_spec_errors():
    assert "unknown ROUGE variant 'rougeLsum'" in str(build_error([{"name": "r", "rouge": {"variant": "rougeLsum"}}]))


# -- similarity ---------------------------------------------------------------------------------
def fake_embed(vectors: dict[str, list[float]], calls: list | None = None):
    async def embed(model, texts):
        if calls is not None:
            calls.append((model, texts))
        return [vectors[t] for t in texts]
    return embed


def test_similarity_with_an_embedding_model():
    calls: list = []
    embed = fake_embed({"a cat": [1.0, 0.0], "a kitten": [0.9, 0.1], "stocks": [0.0, 1.0]}, calls)
    spec = {"similarity": {"model": "openai/text-embedding-3-small"}}
    good = run(spec, "a kitten", {"expected": "a cat"}, embed=embed)
    assert good.passed is True and good.score > 0.99 and good.details["method"] == "embedding"
    assert calls == [("openai/text-embedding-3-small", ["a kitten", "a cat"])]
    bad = run(spec, "stocks", {"expected": "a cat"}, embed=embed)
    assert bad.passed is False and bad.score == pytest.approx(0.0)
    # The workspace's default embedding model is used when the spec names none.
    assert run({"similarity": {}}, "a kitten", {"expected": "a cat"}, embed=embed, embedding_model="m").details["model"] == "m"


def test_similarity_provider_down_is_an_error():
    async def down(model, texts):
        raise ProviderError("connection", "cannot reach api.example: connection refused")

    result = run({"similarity": {"model": "openai/text-embedding-3-small"}}, "x", {"expected": "y"}, embed=down)
    assert result.passed is None and "(connection)" in result.error and "connection refused" in result.error


def test_similarity_lexical_only_when_asked_for_and_labelled():
    # Without a model the offline embedding model runs (tests/core/test_embeddings.py).
    result = run({"similarity": {"model": "lexical", "threshold": 0.5}}, "The cat sat on the mat",
                 {"expected": "the mat the cat sat on"})
    assert result.passed is True and result.details["method"] == "lexical"
    assert "lexical" in result.reason and "not semantic" in result.reason
    assert run({"similarity": {"model": "lexical"}}, "kitten", {"expected": "cat"}, embedding_model="m").score == 0.0
    assert lexical_similarity("", "") == 0.0 and lexical_similarity("Ünïcödé wörds", "ünïcödé WÖRDS") == pytest.approx(1.0)


# -- latency / cost ------------------------------------------------------------------------------
def test_latency():
    spec = {"latency": {"maxTtftMs": 500, "maxTotalMs": 2000}}
    assert run(spec, "x", metrics={"ttft_ms": 120.0, "total_ms": 900.0}).passed is True
    slow = run(spec, "x", metrics={"ttft_ms": 800.0, "total_ms": 900.0})
    assert slow.passed is False and "800 ms > 500 ms" in slow.reason
    assert run(spec, "x", metrics=RunMetrics(ttft_ms=100.0, total_ms=200.0)).passed is True
    missing = run(spec, "x", metrics={"ttft_ms": 100.0})
    assert missing.passed is None and "total time" in missing.error
    assert "maxTtftMs, maxTotalMs or both" in str(build_error([{"name": "l", "latency": {}}]))
    assert "at least 0" in str(build_error([{"name": "l", "latency": {"maxTtftMs": -1}}]))


def test_cost():
    spec = {"cost": {"maxUsd": 0.01}}
    assert run(spec, "x", metrics={"cost_usd": 0.002}).passed is True
    assert run(spec, "x", metrics={"cost_usd": 0.02}).passed is False
    unknown = run(spec, "x", metrics={"cost_usd": None, "cost_note": "no price for my/model"})
    assert unknown.passed is None and "no price for my/model" in unknown.error
    assert "missing 'maxUsd'" in str(build_error([{"name": "c", "cost": {}}]))


# -- llm judges -------------------------------------------------------------------------------------
LLM = {"llm": {"modelId": "openai/gpt-4o-mini", "systemPrompt": "Grade {{strictly}}.",
               "prompt": "Expected: {{expected}}\nAnswer: {{completion}}\nSame? yes or no.",
               "choices": [{"choice": "yes", "score": 1.0}, {"choice": "no", "score": 0.0}]}}


# ("The answer is no, not yes.", True): changed with gh-models compatibility, the first choice in
# list order found anywhere in the reply wins ("yes" is listed first).
@pytest.mark.parametrize("answer,passed", [("yes", True), ("No", False), ('"Yes."', True), ("**no**", False),
                                           ("The answer is no, not yes.", True), ("I'd say YES", True)])
def test_llm_judge_reads_its_answer(answer, passed):
    judge = Judge(answer)
    result = run(LLM, "Paris", {"expected": "Paris"}, judge=judge)
    assert result.passed is passed and result.score == (1.0 if passed else 0.0) and result.error is None
    [(model, messages)] = judge.calls
    assert model == "openai/gpt-4o-mini"
    assert messages == [{"role": "system", "content": "Grade {{strictly}}."},  # system prompt is sent as written
                        {"role": "user", "content": "Expected: Paris\nAnswer: Paris\nSame? yes or no."}]


def test_judge_answer_outside_its_choices_fails_with_score_zero():
    # Changed with gh-models compatibility: no choice found is a failed result, not an error.
    result = run(LLM, "Paris", {"expected": "Paris"}, judge=Judge("maybe, it depends"))
    assert result.passed is False and result.score == 0.0 and result.error is None
    assert result.reason.startswith("judge answered 'maybe, it depends', which names none of 'yes', 'no'")
    empty = run(LLM, "Paris", {"expected": "Paris"}, judge=Judge(""))
    assert empty.passed is False and empty.score == 0.0


def test_judge_provider_down_is_an_error_not_a_crash():
    down = Judge(error=ProviderError("rate_limit", "429 too many requests", status=429))
    result = run(LLM, "Paris", {"expected": "Paris"}, judge=down)
    assert result.passed is None and "(rate_limit)" in result.error and "429" in result.error
    broken = run(LLM, "Paris", {"expected": "Paris"}, judge=Judge(error=RuntimeError("boom")))
    assert broken.passed is None and "boom" in broken.error
    assert "not text" in run(LLM, "Paris", {"expected": "Paris"}, judge=Judge(answer=None)).error
    assert "no judge is configured" in run(LLM, "Paris", {"expected": "Paris"}).error


def test_judge_variable_missing_from_the_test_case():
    # Changed with gh-models compatibility: gh sends the placeholder as written and judges.
    judge = Judge("yes")
    result = run(LLM, "Paris", {"question": "Capital?"}, judge=judge)
    assert result.passed is True and result.details["unfilled"] == ["expected"] and "{{expected}} as written" in result.reason
    assert judge.calls[0][1][-1]["content"] == "Expected: {{expected}}\nAnswer: Paris\nSame? yes or no."


def test_judge_input_comes_from_the_test_case_only():
    # Changed with gh-models compatibility: no fallback to the last user message.
    spec = {"llm": {**LLM["llm"], "prompt": "Q: {{input}} A: {{completion}}"}}
    judge = Judge("yes")
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "What is 2+2?"}]
    run(spec, "4", {}, messages=messages, judge=judge)
    assert judge.calls[0][1][-1]["content"] == "Q: {{input}} A: 4"
    run(spec, "4", {"input": "given"}, messages=messages, judge=judge)
    assert judge.calls[1][1][-1]["content"] == "Q: given A: 4"


def test_llm_scores_as_written_and_threshold_extension():
    scale = {"modelId": "m", "prompt": "{{completion}}", "choices": [{"choice": str(n), "score": n} for n in range(1, 6)]}
    assert run({"llm": scale}, "x", judge=Judge("2")).passed is True  # GitHub: passes when score > 0
    result = run({"llm": {**scale, "threshold": 4}}, "x", judge=Judge("3"))
    assert result.passed is False and result.score == 3.0


def test_llm_spec_errors():
    err = build_error([{"name": "j", "llm": {"prompt": "p", "choices": []}}])
    every = "\n".join(map(str, err.problems))
    assert "missing 'modelId'" in every and "evaluators[0].llm.choices" in every
    err = build_error([{"name": "j", "llm": {"modelId": "m", "prompt": "p", "choices": [{"choice": "a"}]}}])
    assert "choices[0]" in str(err)
    err = build_error([{"name": "j", "llm": {"modelId": "m", "prompt": "p",
                                             "choices": [{"choice": "a", "score": 1}, {"choice": "a", "score": 0}]}}])
    assert "duplicate choice 'a'" in str(err)


def test_match_choice():
    # Changed with gh-models compatibility: the first choice (list order) that is a
    # substring of the trimmed, lower-cased reply, not promptbench's whole-word rule.
    assert match_choice(" 4\n", ["1", "2", "3", "4", "5"]) == "4"
    assert match_choice("Score: 10", ["1", "10"]) == "1"
    assert match_choice("Rating: 4/5", ["1", "2", "3", "4", "5"]) == "4"
    assert match_choice("no way", ["no", "no way"]) == "no"
    assert match_choice("ОЧЕНЬ ХОРОШО", ["плохо", "очень хорошо"]) == "очень хорошо"
    assert match_choice("unknown", ["yes", "no"]) == "no"
    assert match_choice("maybe", ["yes", "no"]) is None


# -- built-in rubrics --------------------------------------------------------------------------------
def test_builtin_similarity_rubric():
    judge = Judge("5")
    result = run({"uses": "github/similarity"}, "Entry is free on first Sundays.",
                 {"input": "When is entry free?", "expected": "On the first Sunday."},
                 judge=judge, judge_model="openai/gpt-4o-mini")
    assert result.kind == "github/similarity" and result.passed is True and result.score == 1.0
    model, messages = judge.calls[0]
    assert model == "openai/gpt-4o-mini" and messages[0]["content"] == judge_prompts.SIMILARITY.system_prompt
    for part in ("When is entry free?", "On the first Sunday.", "Entry is free on first Sundays."):
        assert part in messages[1]["content"]
    case = {"input": "q", "expected": "y"}
    # Changed with gh-models compatibility: a built-in passes at score > 0 (a 2), not >= 0.6.
    low = run({"uses": "github/similarity"}, "x", case, judge=Judge("2"))
    assert low.passed is True and low.score == 0.25  # 1-5 normalised to 0-1
    assert run({"uses": "github/similarity"}, "x", case, judge=Judge("1")).passed is False
    assert run({"uses": "github/similarity"}, "x", case, judge=Judge("Rating: 3")).score == 0.5
    missing = run({"uses": "github/similarity"}, "x", {"input": "q"}, judge=Judge("5"))
    assert missing.passed is True and missing.details["unfilled"] == ["expected"]  # sent as written, as gh does


def test_builtin_groundedness_judges_against_expected():
    # Changed with gh-models compatibility: groundedness's CONTEXT is the test case's
    # ``expected``, not its ``context`` nor the rendered messages.
    prompt = load_prompt(PROMPTS / "grounded-answer.prompt.yml")   # its test cases have context and expected
    case = prompt.test_data[0]
    rendered = render(prompt, 0)
    judge = Judge("4")
    [grounded] = build_evaluators([{"name": "grounded", "uses": "github/groundedness"}], source="g", prompt=prompt,
                                  judge=judge)
    result = grounded.evaluate(EvalContext("Entry is free on the first Sunday.", case, rendered.messages, {}, prompt))
    assert result.passed is True
    sent = judge.calls[0][1][1]["content"]
    assert f"CONTEXT: {case['expected']}\n" in sent and case["context"] not in sent
    judge2 = Judge("4")
    [fluency] = build_evaluators([{"name": "f", "uses": "github/fluency"}], source="g", judge=judge2)
    assert fluency.evaluate(EvalContext("Fine.")).passed is True and "Fine." in judge2.calls[0][1][1]["content"]


def test_rubrics_ask_for_a_1_to_5_score_and_score_zero_to_one():
    assert [c["score"] for c in judge_prompts.SCALE_CHOICES] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert set(judge_prompts.RUBRICS) == {"github/similarity", "github/coherence", "github/fluency",
                                          "github/relevance", "github/groundedness"}
    for rubric in judge_prompts.RUBRICS.values():  # GitHub's rubric texts (they ask for reasoning, then the score)
        assert "{{completion}}" in rubric.prompt and "integer" in rubric.prompt and rubric.model == "openai/gpt-4o"


# -- building -------------------------------------------------------------------------------------
def test_build_collects_every_problem_at_once():
    err = build_error([
        {"name": "a", "regex": {"pattern": "("}},
        {"name": "b", "sentiment": {"positive": True}},
        {"name": "c"},
        {"name": "d", "string": {"contains": "x"}, "regex": {"pattern": "x"}},
        {"string": {"contains": "x"}},
        {"name": "a", "json": {"valid": "yes"}},
        {"name": "g", "uses": 7},
        {"name": "h", "rouge": "rougeL"},
        "not a mapping",
    ])
    fields = [p.field for p in err.problems]
    assert fields == ["evaluators[0].regex.pattern", "evaluators[1].sentiment", "evaluators[2]", "evaluators[3]",
                      "evaluators[4].name", "evaluators[5].name", "evaluators[5].json.valid", "evaluators[6].uses",
                      "evaluators[7].rouge", "evaluators[8]"]
    assert all(p.file == SRC for p in err.problems)
    text = [p.message for p in err.problems]
    assert "unknown evaluator kind 'sentiment'" in text[1] and "has no kind" in text[2] and "several kinds" in text[3]
    assert "duplicate evaluator name 'a'" in text[5] and "expected the name of a built-in evaluator, got the number 7" in text[7]
    assert str(err).endswith("(and 9 more)")


def test_sample_prompts_build():
    for path in sorted(PROMPTS.glob("*.prompt.yml")):
        prompt = load_prompt(path)
        assert len(build_evaluators(prompt.evaluators, source=path.name, prompt=prompt)) == len(prompt.evaluators)


def test_sync_evaluate_inside_a_running_loop_and_evaluate_all():
    evaluators = build_evaluators([{"name": "j", **LLM}, {"name": "s", "string": {"contains": "par"}}],
                                  source=SRC, judge=Judge("yes"))
    ctx = EvalContext("Paris", {"expected": "Paris"})

    async def main():
        inside = evaluators[0].evaluate(ctx)  # sync call from async code must not crash
        return inside, await evaluate_all(evaluators, ctx)

    inside, results = asyncio.run(main())
    assert inside.passed is True and [r.name for r in results] == ["j", "s"] and all(r.passed for r in results)


# -- summaries and agreement ---------------------------------------------------------------------------
def r(name, passed, score=None):
    return EvalResult(name, "string", passed, score if score is not None else (None if passed is None else float(passed)), "")


def test_summarize():
    summary = summarize({
        ("gpt", 0): [r("a", True), r("b", True, 0.5)],
        ("gpt", 1): [r("a", False), r("b", None)],
        ("llama", 0): [r("a", True), r("b", True, 1.0)],
        ("llama", 1): [r("a", True), r("b", None)],
    })
    a, b = summary["evaluators"]["a"], summary["evaluators"]["b"]
    assert (a["n"], a["passed"], a["failed"], a["errors"]) == (4, 3, 1, 0) and a["pass_rate"] == 0.75
    assert a["mean_score"] == 0.75
    assert (b["passed"], b["errors"], b["pass_rate"], b["mean_score"]) == (2, 2, 1.0, 0.75)
    assert summary["cells"] == {"n": 4, "passed": 2, "failed": 1, "undecided": 1, "pass_rate": 2 / 3}
    empty = summarize({})
    assert empty == {"evaluators": {}, "cells": {"n": 0, "passed": 0, "failed": 0, "undecided": 0, "pass_rate": None}}
    only_errors = summarize([[r("a", None)]])
    assert only_errors["evaluators"]["a"]["pass_rate"] is None and only_errors["evaluators"]["a"]["mean_score"] is None


def pairs(yy, yn, ny, nn):
    return [("yes", "yes")] * yy + [("yes", "no")] * yn + [("no", "yes")] * ny + [("no", "no")] * nn


@pytest.mark.parametrize("counts,kappa,percent", [
    ((20, 5, 10, 15), 0.4, 70.0),         # Wikipedia's worked example: po 0.7, pe 0.5
    ((45, 15, 25, 15), 0.1304, 60.0),      # and its two "same agreement, different kappa" tables
    ((25, 35, 5, 35), 0.2593, 60.0),
    ((10, 0, 0, 10), 1.0, 100.0),
    ((0, 10, 10, 0), -1.0, 0.0),
])
def test_kappa_known_values(counts, kappa, percent):
    got = judge_agreement(pairs(*counts))
    assert got["n"] == sum(counts) and got["percent"] == pytest.approx(percent)
    assert got["kappa"] == pytest.approx(kappa, abs=1e-4)


def test_kappa_edge_cases():
    same = judge_agreement([("pass", "pass")] * 5)
    assert same["kappa"] == 1.0 and same["percent"] == 100.0 and "0/0" in same["note"]
    assert judge_agreement([]) == {"n": 0, "percent": None, "kappa": None, "skipped": 0}
    one = judge_agreement([("a", "b")])
    assert one["kappa"] == 0.0 and one["percent"] == 0.0  # po 0, pe 0
    skipped = judge_agreement([(None, "yes"), ("yes", None), ("yes", "yes"), ("no", "no")])
    assert skipped["n"] == 2 and skipped["skipped"] == 2 and skipped["kappa"] == 1.0
    multi = judge_agreement([(1, 1), (2, 2), (3, 3), (1, 2), (2, 3), (3, 1)])
    assert multi["kappa"] == pytest.approx((0.5 - 1 / 3) / (1 - 1 / 3))
