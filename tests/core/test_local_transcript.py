"""The plain transcript for base models: stop list and cleaning (pure), and Gemma 3 270M for real."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptbench.core.local.transcript import (COMPLETION_STOP, TranscriptFilter, clean_transcript_output,
                                               completion_stop, format_completion_prompt)


def test_stop_list_covers_every_marker_of_the_transcript():
    prompt = format_completion_prompt([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                                       {"role": "user", "content": "Bye"}])
    for line in prompt.splitlines():
        if ":" in line:
            assert line.split(":", 1)[0] + ":" in COMPLETION_STOP
    assert COMPLETION_STOP.index("\nUser:") < COMPLETION_STOP.index("User:")  # cut before the line break
    assert COMPLETION_STOP.index("\nAssistant:") < COMPLETION_STOP.index("Assistant:")
    assert "\n\n\n" in COMPLETION_STOP


def test_completion_stop_keeps_the_prompts_own_and_adds_the_transcripts():
    assert completion_stop(None) == list(COMPLETION_STOP)
    assert completion_stop("END") == ["END", *COMPLETION_STOP]
    assert completion_stop(["END", "User:"]) == ["END", "User:", "\nUser:", "\nAssistant:", "Assistant:", "\n\n\n"]


@pytest.mark.parametrize("raw, clean", [
    (" Summary: The bakery closes.", " Summary: The bakery closes."),
    (" Summary: X.\nUser: Summarize this text:\n\nY\nAssistant: Summary: Y.", " Summary: X."),
    (" Summary: X.\nAssistant: Summary: This article is a summary", " Summary: X."),
    (" Summary: X. Assistant: Summary: more", " Summary: X. "),
    (" Assistant: Summary: X.", "Summary: X."),
    ("Assistant:\n Summary: X.\nUser: more", "Summary: X."),
    (" Summary: X.\n\n\nMore text", " Summary: X."),
    ("User: a question of its own", ""),
    (" Usually fine.\nUseful line.", " Usually fine.\nUseful line."),
    ("", ""),
    ("   ", "   "),
])
def test_clean_transcript_output(raw, clean):
    assert clean_transcript_output(raw) == clean


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Assistant:", "User:", "\n", " ", "Ass", "istant", ":", "Us", "er", "Summary", ".", "x"]),
                max_size=14),
       st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_streaming_gives_the_same_text_as_cleaning_the_whole(pieces, cuts):
    text = "".join(pieces)
    bounds = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    stream = TranscriptFilter()
    out = "".join(stream.feed(text[a:b]) for a, b in zip(bounds, bounds[1:])) + stream.finish()
    assert out == clean_transcript_output(text)
    assert "User:" not in out and "Assistant:" not in out


def test_streaming_holds_back_only_what_may_become_a_marker():
    stream = TranscriptFilter()
    assert stream.feed(" Summary") == " Summary"
    assert stream.feed(": X.\nUs") == ": X."  # "\nUs" may be "\nUser:"
    assert stream.feed("ually") == "\nUsually"
    assert stream.feed(" fine.\nUser: next") == " fine."
    assert stream.feed(" more") == "" and stream.finish() == ""
