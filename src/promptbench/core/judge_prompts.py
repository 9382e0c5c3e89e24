"""Rubric prompts for the GitHub Models built-in evaluators (``uses: github/...``).

These are our own wordings of the five rubrics GitHub names. Each asks the judge for a
single digit from 1 to 5 and nothing else; the digit is one of :data:`SCALE_CHOICES`,
whose scores are normalised to 0-1 (1 -> 0.0, 2 -> 0.25, 3 -> 0.5, 4 -> 0.75,
5 -> 1.0), the same scores GitHub gives them.

A built-in passes when its score is >= :data:`PASS_THRESHOLD` (0.6), i.e. a 4 or a 5.
GitHub's own runner passes any score above 0 (2 stars and up); we are stricter on
purpose, because a 2 ("mostly not similar") passing is not what a person means by pass.

Template variables (filled by the evaluator, see ``evaluators.judge``):

- ``{{completion}}``: the model's output;
- ``{{expected}}``: the test case's ``expected`` (similarity needs it);
- ``{{input}}``: the test case's ``input``, else the last user message sent to the model;
- ``{{context}}``: the test case's ``context``, else every message sent to the model
  (groundedness judges the answer against it).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_JUDGE_MODEL = "openai/gpt-4o"  # what GitHub Models uses for its built-ins
PASS_THRESHOLD = 0.6
SCALE_CHOICES: tuple[dict, ...] = tuple({"choice": str(n), "score": (n - 1) / 4} for n in range(1, 6))

_SYSTEM = (
    "You are a strict, consistent grader of answers written by an AI assistant. "
    "You read a rubric and the material to grade, then give one whole-number rating "
    "from 1 (worst) to 5 (best). Reply with that single digit only: no words, no "
    "punctuation, no explanation."
)

_TAIL = "\nReply with one digit, 1, 2, 3, 4 or 5, and nothing else."


@dataclass(frozen=True)
class Rubric:
    uses: str
    system_prompt: str
    prompt: str


SIMILARITY = Rubric(
    "github/similarity",
    _SYSTEM,
    """Rate how closely the ANSWER matches the REFERENCE answer in meaning. Wording may
differ; judge the facts, claims and conclusions.

5 - same meaning: every point of the reference is there and nothing contradicts it
4 - nearly the same: a minor detail is missing or slightly off
3 - partly the same: some key points match, others are missing or different
2 - mostly different: little of the reference's meaning is there
1 - unrelated to the reference, or contradicts it

QUESTION:
{{input}}

REFERENCE:
{{expected}}

ANSWER:
{{completion}}
""" + _TAIL,
)

COHERENCE = Rubric(
    "github/coherence",
    _SYSTEM,
    """Rate the COHERENCE of the ANSWER: do its ideas follow a clear, logical order, with
sentences that connect to each other and to the question? Do not judge correctness.

5 - clear and well organised; every sentence follows from the one before
4 - easy to follow, with at most a small jump in logic
3 - understandable, but ideas are out of order or loosely connected
2 - hard to follow: fragments, abrupt changes of subject
1 - no logical thread: disconnected words or sentences

QUESTION:
{{input}}

ANSWER:
{{completion}}
""" + _TAIL,
)

FLUENCY = Rubric(
    "github/fluency",
    _SYSTEM,
    """Rate the FLUENCY of the TEXT: grammar, spelling, word choice and how naturally it
reads. Do not judge whether it is correct or relevant.

5 - reads naturally, no errors, well-chosen words
4 - reads well; a rare small slip
3 - understandable, with noticeable errors or awkward phrasing
2 - frequent errors make it hard to read
1 - barely readable: broken grammar, fragments

TEXT:
{{completion}}
""" + _TAIL,
)

RELEVANCE = Rubric(
    "github/relevance",
    _SYSTEM,
    """Rate the RELEVANCE of the ANSWER to the QUESTION: does it address what was asked,
fully and without wandering off? Do not judge writing style.

5 - answers exactly what was asked, completely, with nothing off topic
4 - answers the question; a small part is missing or slightly off topic
3 - partly answers it, or mixes the answer with unrelated material
2 - touches the topic but does not answer the question
1 - unrelated to the question

QUESTION:
{{input}}

ANSWER:
{{completion}}
""" + _TAIL,
)

GROUNDEDNESS = Rubric(
    "github/groundedness",
    _SYSTEM,
    """Rate the GROUNDEDNESS of the ANSWER: is every claim it makes supported by the
SOURCE below? Claims the source does not support count against it, even if true in
the real world. An answer that correctly says the source does not contain the
information is fully grounded.

5 - every claim is supported by the source
4 - supported, except a minor detail that goes slightly beyond the source
3 - a mix of supported claims and claims the source does not support
2 - mostly unsupported by the source
1 - contradicts the source, or is made up entirely

SOURCE:
{{context}}

ANSWER:
{{completion}}
""" + _TAIL,
)

RUBRICS: dict[str, Rubric] = {r.uses: r for r in (SIMILARITY, COHERENCE, FLUENCY, RELEVANCE, GROUNDEDNESS)}
