"""providers/bpe.py counts exactly as tiktoken does, from the same files, without loading tiktoken."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import tiktoken

from promptbench.core.providers import bpe, tokens
from promptbench.core.providers.litellm_setup import ensure_env, tokenizers_dir

ROOT = Path(__file__).resolve().parents[2]


def corpus() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for pattern in ("src/promptbench/**/*.py", "prompts/*.yml", "*.md")
             for p in sorted(ROOT.glob(pattern))[:120]]
    rnd = random.Random(15)
    assigned = [c for c in map(chr, range(32, 0x30000)) if unicodedata.category(c) not in ("Cn", "Cs")]
    alphabet = ("abc XYZ 0123456789 \n\t\r  's 'LL 're é ü ß 日本語 中文 한국어 🙂👍🏽 العربية ¿? !!! ...---/// <|endoftext|> "
                + "".join(rnd.choice(assigned) for _ in range(600)))
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 300))) for _ in range(1500)]
    texts += ["x\u0378y", "\U0001FAE8 shaking", "a\u1ae0Ⴥb"]  # unassigned in Unicode 14.0
    texts += ["lone \ud800 surrogate"]  # tiktoken replaces it
    texts += ["", " ", "\n\n\n", "    x", "a" * 500, "1234567890" * 30, " \u00a0\u2003 x", "x\u0301\u0302"]
    return texts


@pytest.mark.parametrize("name", sorted(bpe.ENCODINGS))
def test_counts_equal_tiktokens_on_a_corpus(name):
    ensure_env()
    encoding = tiktoken.get_encoding(name)
    asked = []
    counter = bpe.load(name, os.environ["TIKTOKEN_CACHE_DIR"],
                       fallback=lambda text: asked.append(text) or len(encoding.encode_ordinary(text)))
    assert isinstance(counter, bpe.BpeCounter)
    texts = corpus()
    wrong = [(t[:60], counter.count(t), len(encoding.encode_ordinary(t))) for t in texts
             if counter.count(t) != len(encoding.encode_ordinary(t))]
    assert not wrong, wrong[:5]
    assert sum(map(len, texts)) > 300_000
    assert len(asked) == 4  # the texts with a character unassigned in Unicode 14.0, or a lone surrogate


@pytest.mark.parametrize("name", sorted(bpe.ENCODINGS))
def test_a_character_newer_than_pythons_unicode_tables_is_counted_by_tiktoken(name):
    """U+1AE0 is unassigned in Unicode 14.0 and a combining mark to the regex module: the
    two pre-tokenizers cut "\u1ae0\u10c5" differently, so tiktoken counts it."""
    ensure_env()
    encoding = tiktoken.get_encoding(name)
    asked = []
    counter = bpe.load(name, os.environ["TIKTOKEN_CACHE_DIR"],
                       fallback=lambda text: asked.append(text) or len(encoding.encode_ordinary(text)))
    text = "Ask \u1ae0\u10c5 twice"
    assert counter.count(text) == len(encoding.encode_ordinary(text)) and asked == [text]


@pytest.mark.parametrize("name", sorted(bpe.ENCODINGS))
def test_the_pattern_and_file_are_tiktokens(name):
    ensure_env()
    encoding = tiktoken.get_encoding(name)
    assert bpe.ENCODINGS[name][2] == encoding._pat_str
    assert bpe.cache_file(name, tokenizers_dir()).is_file()


def test_a_long_text_goes_to_tiktoken():
    ensure_env()
    seen = []
    counter = bpe.load("cl100k_base", os.environ["TIKTOKEN_CACHE_DIR"], fallback=lambda t: seen.append(t) or -1)
    long_text = "word " * (bpe.LONG_TEXT_CHARS // 5 + 1)
    assert counter.count(long_text) == -1 and seen == [long_text]
    assert tokens.count_text_tokens(long_text, "gpt-4") == len(tiktoken.get_encoding("cl100k_base").encode_ordinary(long_text))


def test_a_missing_or_altered_file_is_refused(tmp_path):
    assert bpe.load("o200k_base", str(tmp_path), fallback=len) is None
    bpe.cache_file("o200k_base", tmp_path).write_bytes(b"aGVsbG8= 0\n")
    assert bpe.load("o200k_base", str(tmp_path), fallback=len) is None  # not the file tiktoken expects
    assert bpe.load("p50k_base", str(tokenizers_dir()), fallback=len) is None  # not one bpe knows


def test_counting_loads_neither_tiktoken_nor_litellm():
    code = ("import sys\nfrom promptbench.core.providers.tokens import count_message_tokens, StreamingTokenCounter\n"
            "c = StreamingTokenCounter('gpt-4o-mini'); c.add('Hello there, '); c.add('world.')\n"
            "print(count_message_tokens([{'role': 'user', 'content': 'hello world'}], 'gpt-4o'), c.count,"
            " 'tiktoken' in sys.modules, 'litellm' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["9", "5", "False", "False"]  # 3 + 3 + "user" + "hello world"; Hello there , world .


def test_after_load_tiktoken_counts_come_from_tiktoken_and_are_the_same():
    texts = ["Hello, world!", "  indented\n\tcode(x) -> y", "naïve café 日本語", "<|endoftext|> typed as text"]
    model = "gpt-4o-mini"
    before = [tokens.count_text_tokens(t, model) for t in texts]
    assert isinstance(tokens.get_encoding(model), bpe.BpeCounter)
    try:
        tokens.load_tiktoken([model])
        assert not isinstance(tokens.get_encoding(model), bpe.BpeCounter)  # the app's long session
        assert [tokens.count_text_tokens(t, model) for t in texts] == before
        counter = tokens.StreamingTokenCounter(model)
        for piece in ("Hel", "lo, wor", "ld!"):
            counter.add(piece)
        assert counter.count == before[0]
    finally:
        tokens._counters.clear()  # other tests expect the Python counter
