"""The plain transcript for base models: the prompt, where the answer stops, and cleaning it.

A base model (no chat template, e.g. Gemma 3 270M) is prompted with the conversation as
plain text ending in an answer cue (:func:`format_completion_prompt`). Left alone it
keeps writing the conversation: "… Summary: X.\\nUser: Summarize this…\\nAssistant: …".
:data:`COMPLETION_STOP` makes the server stop at the next turn's marker, so an answer
never contains the transcript format; :func:`clean_transcript_output` (or, for a stream,
:class:`TranscriptFilter`) also drops a speaker label the model echoed at the start and
cuts at a marker when the stop list could not be sent (a prompt's own ``stop`` replaced
it). Pure functions: no I/O.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping


# The markers of the next turn, at a line start and anywhere (a base model also writes
# "… done. Assistant: Summary: …" on one line), and a run of blank lines. The "\n" forms
# come first, so that a turn starting on a new line leaves no trailing newline in the
# answer where the server cuts at the first listed stop that occurs. Checked with Gemma 3
# 270M on the summarize sample (tests/core/test_local_transcript.py).
COMPLETION_STOP: tuple[str, ...] = ("\nUser:", "\nAssistant:", "User:", "Assistant:", "\n\n\n")

_ECHO = re.compile(r"\s*Assistant:\s*")  # the answer cue, echoed at the start of the answer
_MARKERS = ("User:", "Assistant:", "\n\n\n")
_MARKER = re.compile("|".join(re.escape(m) for m in _MARKERS))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)


def format_completion_prompt(messages: Iterable[Mapping[str, Any]]) -> str:
    """Render chat messages as plain text for a base model, ending with an answer cue.

    ``[system, user]`` becomes ``"{system}\\n\\nUser: {user}\\nAssistant:"``; earlier turns
    appear as ``User:``/``Assistant:`` lines. Send it to ``/v1/completions`` with
    ``stop=spec.stop`` (COMPLETION_STOP) so a base model stops before inventing the next
    turn. The reply usually starts with a space: strip it for display.
    """
    msgs = [(str(m.get("role", "user")), _text(m.get("content")).strip()) for m in messages]
    system = "\n\n".join(text for role, text in msgs if role in ("system", "developer") and text)
    lines = [
        f"{'Assistant' if role == 'assistant' else 'User'}: {text}"
        for role, text in msgs
        if role not in ("system", "developer")
    ]
    head = f"{system}\n\n" if system else ""
    return head + "".join(line + "\n" for line in lines) + "Assistant:"


def completion_stop(own: str | list[str] | tuple[str, ...] | None, defaults: Iterable[str] = COMPLETION_STOP) -> list[str]:
    """The stop list to send: the prompt's own ``stop`` (a string or a list) and the transcript's.

    The prompt's come first and nothing is listed twice, so a prompt's stop never
    switches the transcript's off.
    """
    own_list = [own] if isinstance(own, str) else list(own or ())
    return list(dict.fromkeys(s for s in (*own_list, *defaults) if isinstance(s, str) and s))


class TranscriptFilter:
    """Streamed answer text in, text without the transcript format out.

    ``feed(delta)`` returns what can be shown now, ``finish()`` the rest. An
    "Assistant:" the model echoed at the start is dropped (with the spaces around it);
    from the first marker on ("User:", "Assistant:", three newlines) everything is
    dropped, and so are the line breaks before it. Text that may be the start of a
    marker (at most "\n…Assistant") is held back until the next delta tells.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._started = False  # whether the answer starts with an echoed label is decided
        self._done = False  # a marker was met: the rest is dropped

    def feed(self, delta: str) -> str:
        if self._done or not delta:
            return ""
        self._pending += delta
        if not self._started:
            if "Assistant:".startswith(self._pending.lstrip()):
                return ""  # "", "  Assis": may still become the echoed label
            echo = _ECHO.match(self._pending)
            if echo and echo.end() == len(self._pending):
                return ""  # "Assistant: ": the answer itself has not begun
            self._pending = self._pending[echo.end():] if echo else self._pending
            self._started = True
        return self._release(final=False)

    def finish(self) -> str:
        if self._done:
            return ""
        if not self._started:
            echo = _ECHO.match(self._pending)
            self._pending = self._pending[echo.end():] if echo else self._pending
            self._started = True
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        text = self._pending
        marker = _MARKER.search(text)
        if marker:
            self._done, self._pending = True, ""
            return text[:marker.start()].rstrip("\n")
        keep = 0 if final else _held(text)
        self._pending = text[len(text) - keep:]
        return text[:len(text) - keep]


def _held(text: str) -> int:
    """How many trailing characters of ``text`` may still become a marker, with the line breaks before it."""
    partial = next((n for n in range(min(len(text), len("Assistant:")), 0, -1)
                    if any(m.startswith(text[-n:]) for m in _MARKERS)), 0)
    before = text[:len(text) - partial]
    return partial + len(before) - len(before.rstrip("\n"))


def clean_transcript_output(text: str) -> str:
    """A whole answer of a plain-transcript model without the transcript format.

    ``" Assistant: Summary: X.\\nUser: next"`` -> ``" Summary: X."`` without the label:
    ``"Summary: X."``. The same as feeding :class:`TranscriptFilter` in any pieces.
    """
    f = TranscriptFilter()
    return f.feed(text) + f.finish()
