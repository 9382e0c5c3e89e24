"""Counting tiktoken's tokens in Python from tiktoken's own rank files: no 0.3 s start-up.

``tiktoken.get_encoding("o200k_base")`` takes ~0.3 s of CPU (it decodes 200,000 base64
lines and builds its Rust tables), about half of a whole ``promptbench compare``. Counting
needs less: the pre-tokenizer pattern (the ``regex`` module runs tiktoken's patterns as
they are) and, per piece, one look-up, or for a piece that is no single token the same
byte-pair merges tiktoken makes (lowest rank first, leftmost on a tie). The rank table is
kept as the file's base64 keys, so loading it is one ``split`` (~50 ms). Counts equal
tiktoken's ``len(encode_ordinary(text))``; tests/core/test_token_counts.py checks that on
a corpus. Two kinds of text go to tiktoken itself (``fallback``, which loads it then):
one longer than :data:`LONG_TEXT_CHARS` (Python is slower per character, ~1 µs), and
one holding a character Python's Unicode tables (14.0) call unassigned: the ``regex``
module and tiktoken's Rust regex read newer Unicode versions, and may not agree on what
a recently added character is (U+1AE0 is a mark to one and nothing to the other).

:func:`load` returns None when the file is not there or not the expected one; the
caller then uses tiktoken, which says what is missing.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import unicodedata
from pathlib import Path
from typing import Callable

LONG_TEXT_CHARS = 50_000

# tiktoken_ext/openai_public.py (tiktoken 0.14): where each file comes from (tiktoken's
# cache names it by the SHA-1 of this address), its SHA-256, and the pre-tokenizer.
_BLOB = "https://openaipublic.blob.core.windows.net/encodings/"
ENCODINGS = {
    "cl100k_base": (f"{_BLOB}cl100k_base.tiktoken", "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
                    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""),
    "o200k_base": (f"{_BLOB}o200k_base.tiktoken", "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
                   "|".join([
                       r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                       r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                       r"""\p{N}{1,3}""",
                       r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                       r"""\s*[\r\n]+""",
                       r"""\s+(?!\S)""",
                       r"""\s+""",
                   ])),
}


def cache_file(name: str, cache_dir: str | os.PathLike[str]) -> Path:
    """Where tiktoken keeps (and litellm ships) the rank file of encoding ``name``."""
    return Path(cache_dir) / hashlib.sha1(ENCODINGS[name][0].encode()).hexdigest()


class BpeCounter:
    """Token counts of one encoding; ``fallback`` (tiktoken) counts what Python should not."""

    def __init__(self, name: str, data: bytes, fallback: Callable[[str], int]):
        import regex

        self.name = name
        words = iter(data.split())
        self._ranks = dict(zip(words, words))  # base64 token -> rank (as the file's digits)
        self._pattern = regex.compile(ENCODINGS[name][2])
        self._fallback = fallback

    def count(self, text: str) -> int:
        """``len(encode_ordinary(text))``: special tokens typed in the text are text."""
        if len(text) > LONG_TEXT_CHARS or not (text.isascii() or _all_assigned(text)):
            return self._fallback(text)
        ranks, b2a, n = self._ranks, binascii.b2a_base64, 0
        for piece in self._pattern.findall(text):
            data = piece.encode("utf-8")
            n += 1 if b2a(data, newline=False) in ranks else self._merged_length(data)
        return n

    def _rank(self, data: bytes) -> int | None:
        rank = self._ranks.get(binascii.b2a_base64(data, newline=False))
        return None if rank is None else int(rank)

    def _merged_length(self, data: bytes) -> int:
        """How many tokens byte-pair merging leaves of ``data`` (tiktoken's byte_pair_merge)."""
        parts = [data[i:i + 1] for i in range(len(data))]
        pair_ranks = [self._rank(parts[i] + parts[i + 1]) for i in range(len(parts) - 1)]
        while pair_ranks:
            best = None
            for i, rank in enumerate(pair_ranks):
                if rank is not None and (best is None or rank < pair_ranks[best]):
                    best = i
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
            del pair_ranks[best]
            if best > 0:
                pair_ranks[best - 1] = self._rank(parts[best - 1] + parts[best])
            if best < len(parts) - 1:
                pair_ranks[best] = self._rank(parts[best] + parts[best + 1])
        return len(parts)


def _all_assigned(text: str) -> bool:
    """No unassigned code point (Cn) and no lone surrogate (Cs: tiktoken replaces those)."""
    return all(unicodedata.category(ch) not in ("Cn", "Cs") for ch in set(text))


def load(name: str, cache_dir: str | None, fallback: Callable[[str], int]) -> BpeCounter | None:
    """A counter for ``name`` from the rank file in ``cache_dir``; None if it is not there,
    not the file tiktoken expects, or ``name`` is not one this module knows."""
    if name not in ENCODINGS or not cache_dir:
        return None
    try:
        data = cache_file(name, cache_dir).read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != ENCODINGS[name][1]:
        return None
    return BpeCounter(name, data, fallback)
