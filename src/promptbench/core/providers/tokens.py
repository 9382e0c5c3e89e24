"""Token counts as tiktoken makes them, offline: estimates for prompts and for streams without usage.

tiktoken normally downloads its BPE files on first use; litellm ships cl100k_base,
o200k_base and p50k_base, and :func:`litellm_setup.ensure_env` points
``TIKTOKEN_CACHE_DIR`` at them (without importing litellm). Counts are exact for
OpenAI models and an estimate for every other model (their tokenizers differ).
:mod:`bpe` counts from those files in Python, which starts in ~50 ms where
``tiktoken.get_encoding`` takes ~0.3 s; tiktoken itself is loaded only for very long
texts, text with characters newer than Python's Unicode tables, or when the files are
not there (to say what is missing).
"""

from __future__ import annotations

import functools
import os
import re
import threading
from types import SimpleNamespace
from typing import Any, Iterable, Mapping

from promptbench.core.errors import PromptbenchError
from promptbench.core.providers import bpe
from promptbench.core.providers.litellm_setup import ensure_env, tokenizers_dir

_O200K = re.compile(r"^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[1-9](-|$)|gpt-oss)")
# OpenAI's chat accounting (the tiktoken cookbook): every message costs 3 tokens of
# framing, a "name" one more, and the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3

_lock = threading.Lock()
_counters: dict[str, Any] = {}


def encoding_name(model: str) -> str:
    """o200k_base for gpt-4o*/gpt-4.1*/o1*/o3*/gpt-5*..., cl100k_base for everything else."""
    bare = model.rsplit("/", 1)[-1].lower()
    return "o200k_base" if _O200K.match(bare) else "cl100k_base"


def _counter_by_name(name: str) -> Any:
    counter = _counters.get(name)
    if counter is not None:
        return counter
    with _lock:
        if name not in _counters:
            ensure_env()
            with_tiktoken = functools.partial(_count_with_tiktoken, name)
            _counters[name] = bpe.load(name, os.environ.get("TIKTOKEN_CACHE_DIR"), with_tiktoken) \
                or SimpleNamespace(name=name, count=with_tiktoken)  # tiktoken's own error if its file is missing
    counter = _counters[name]
    if not isinstance(counter, bpe.BpeCounter):
        _encoding_by_name(name)
    return counter


def _count_with_tiktoken(name: str, text: str) -> int:
    return len(_encoding_by_name(name).encode_ordinary(text))


def load_tiktoken(models: Iterable[str] = ("gpt-4o", "gpt-4")) -> None:
    """Count with tiktoken itself from now on (for ``models``' encodings). A long-lived
    process (the app, in its warm-up) calls this: tiktoken takes ~0.3 s to load but then
    counts a streamed chunk ~3x faster than :mod:`bpe` (benchmarks/stream.py: CPU per
    chunk). The counts are the same either way."""
    for name in {encoding_name(m) for m in models}:
        encoding = _encoding_by_name(name)
        count = encoding.encode_ordinary
        with _lock:
            _counters[name] = SimpleNamespace(name=name, count=lambda text, _count=count: len(_count(text)))


@functools.lru_cache(maxsize=None)
def _encoding_by_name(name: str) -> Any:
    with _lock:
        ensure_env()
        import tiktoken

        try:
            return tiktoken.get_encoding(name)
        except Exception as exc:  # offline and no bundled file
            where = tokenizers_dir() or "litellm's tokenizers folder (litellm is not installed)"
            raise PromptbenchError(
                f"cannot load the {name} tokenizer offline ({type(exc).__name__}); expected its file in {where}: "
                "reinstall litellm==1.106.2 (pip install --force-reinstall litellm==1.106.2)"
            ) from None


def get_encoding(model: str) -> Any:
    """The (cached) counter of ``model``'s tokens: ``.count(text)`` is tiktoken's
    ``len(encode_ordinary(text))`` in the encoding :func:`encoding_name` picks."""
    return _counter_by_name(encoding_name(model))


def count_text_tokens(text: str, model: str) -> int:
    if not text:
        return 0
    # as encode_ordinary: "<|endoftext|>" typed in a prompt is text, not an error.
    return get_encoding(model).count(text)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts; images are not counted
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return "" if content is None else str(content)


def count_message_tokens(messages: Iterable[Mapping[str, Any]], model: str) -> int:
    """Prompt tokens of a chat request, by OpenAI's per-message convention."""
    count = get_encoding(model).count
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "content":
                text = _content_text(value)
            elif isinstance(value, str):
                text = value
            else:
                continue
            total += count(text) if text else 0
            if key == "name":
                total += TOKENS_PER_NAME
    return total


class StreamingTokenCounter:
    """Running output-token estimate for a stream, cheap per delta.

    Text is committed (encoded once, counts summed) up to the last space that follows
    a non-space; only the unfinished word after it is re-encoded on each delta.
    tiktoken's pre-tokenizer starts a new piece at such a space, so the sum matches a
    full encode except when a piece is forced out unfinished: text with no such space
    for ``MAX_PENDING`` characters (CJK, base64, deep indentation) is committed as is,
    a small over-count (measured in tests/core/test_pricing.py). The running value can
    dip by one while a word is unfinished ("The q" may be 3 tokens, "The qu" 2).
    """

    MAX_PENDING = 64

    def __init__(self, model: str):
        self.model = model
        self._count = get_encoding(model).count
        self._committed = 0
        self._pending = ""
        self.count = 0

    def add(self, delta_text: str) -> int:
        if not delta_text:
            return self.count
        pending = self._pending + delta_text
        cut = pending.rfind(" ")
        while cut > 0 and pending[cut - 1].isspace():  # keep runs of spaces and "):\n" together
            cut = pending.rfind(" ", 0, cut)
        if cut > 0:
            self._committed += self._count(pending[:cut])
            pending = pending[cut:]
        if len(pending) > self.MAX_PENDING:
            self._committed += self._count(pending)
            pending = ""
        self._pending = pending
        self.count = self._committed + (self._count(pending) if pending else 0)
        return self.count
