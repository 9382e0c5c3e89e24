"""Comparisons with a reference text: BLEU (sacrebleu), ROUGE (rouge-score) and similarity
(embedding cosine: a provider's model through litellm, or the offline local model; a
clearly labelled lexical score only when asked for).

Every score is 0-1 (sacrebleu's 0-100 BLEU is divided by 100; the raw figure is kept in
``details``). ``reference`` is a template, ``{{expected}}`` unless given, filled from
the test case. sacrebleu and rouge-score are imported on first use (~0.1 s and ~0.25 s).
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from functools import lru_cache
from typing import Any

import regex

from promptbench.core.eval.evaluators.base import EvalContext, EvalResult, Evaluator, SpecReader, fill, missing_message, template_values
from promptbench.core.local import embeddings

BLEU_TOKENIZERS = ("13a", "intl", "char", "zh", "none")
ROUGE_VARIANTS = ("rougeL", "rouge1", "rouge2")
DEFAULT_THRESHOLDS = {"bleu": 0.3, "rouge": 0.5, "embedding": 0.8, "lexical": 0.5}
LEXICAL = "lexical"

# Words, with each CJK ideograph / kana as a token of its own (they are not space-separated).
_TOKEN = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]|[^\W\p{Han}\p{Hiragana}\p{Katakana}]+")


def words(text: str) -> list[str]:
    return _TOKEN.findall((text or "").casefold())


class _ReferenceEvaluator(Evaluator):
    """Shared: the reference template, its threshold and filling it for one test case."""

    def __init__(self, name: str, reference: str, threshold: float):
        super().__init__(name)
        self.reference, self.threshold = reference, threshold

    def _reference(self, ctx: EvalContext) -> tuple[str | None, EvalResult | None]:
        text, missing = fill(self.reference, template_values(ctx))
        if missing:
            return None, self.error(missing_message(missing, f"{self.kind}.reference"), missing=missing)
        return text, None

    def _score(self, score: float, what: str, **details: Any) -> EvalResult:
        score = max(0.0, min(1.0, score))
        passed = score >= self.threshold
        return self.verdict(passed, f"{what} {score:.3f} {'>=' if passed else '<'} {self.threshold:g}", score, **details)


def _threshold(r: SpecReader, default: float) -> float:
    hint = " (scores here are 0-1: sacrebleu's 30 is 0.3)" if r.kind == "bleu" else ""
    return r.number("threshold", default=default, low=0, high=1, hint=hint)  # type: ignore[return-value]


# -- BLEU -------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _bleu(tokenize: str) -> Any:
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=tokenize, effective_order=True)


class BleuEvaluator(_ReferenceEvaluator):
    """``bleu: {reference, threshold: 0.3, tokenize: 13a}``: sentence BLEU with effective
    order (short outputs are not zeroed for lacking 4-grams)."""

    kind = "bleu"

    def __init__(self, name: str, reference: str, threshold: float, tokenize: str):
        super().__init__(name, reference, threshold)
        self.tokenize = tokenize

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> BleuEvaluator | None:
        r.allow("reference", "threshold", "tokenize")
        tokenize = r.text("tokenize", default="13a") or "13a"
        if tokenize not in BLEU_TOKENIZERS:
            r.problem("tokenize", f"unknown BLEU tokenizer {tokenize!r}: use one of {', '.join(BLEU_TOKENIZERS)}")
        made = cls(r.name, r.template("reference", "{{expected}}"), _threshold(r, DEFAULT_THRESHOLDS["bleu"]), tokenize)
        return None if r.failed else made

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        reference, err = self._reference(ctx)
        if err:
            return err
        output = ctx.output or ""
        if not output.strip() or not reference.strip():
            same = output.strip() == reference.strip()
            return self._score(1.0 if same else 0.0, "BLEU (empty text)", bleu=100.0 if same else 0.0)
        raw = _bleu(self.tokenize).sentence_score(output, [reference]).score
        return self._score(raw / 100, "BLEU", bleu=raw)


# -- ROUGE ------------------------------------------------------------------------------------
class _Tokenizer:
    """rouge-score's tokenizer lowercases and keeps only [a-z0-9], which turns non-Latin
    text into nothing; this one keeps every script (CJK per character) and applies the
    same Porter stemming to ASCII words longer than 3 letters."""

    def __init__(self) -> None:
        from nltk.stem import porter

        self._stem = porter.PorterStemmer().stem

    def tokenize(self, text: str) -> list[str]:
        return [self._stem(t) if len(t) > 3 and t.isascii() and t.isalpha() else t for t in words(text)]


@lru_cache(maxsize=None)
def _rouge(variant: str) -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer([variant], tokenizer=_Tokenizer())


class RougeEvaluator(_ReferenceEvaluator):
    """``rouge: {reference, variant: rougeL, threshold: 0.5}``: the F-measure."""

    kind = "rouge"

    def __init__(self, name: str, reference: str, threshold: float, variant: str):
        super().__init__(name, reference, threshold)
        self.variant = variant

    @classmethod
    def from_spec(cls, r: SpecReader, _opts: Any) -> RougeEvaluator | None:
        r.allow("reference", "threshold", "variant")
        variant = r.text("variant", default="rougeL") or "rougeL"
        if variant not in ROUGE_VARIANTS:
            r.problem("variant", f"unknown ROUGE variant {variant!r}: use one of {', '.join(ROUGE_VARIANTS)}")
        made = cls(r.name, r.template("reference", "{{expected}}"), _threshold(r, DEFAULT_THRESHOLDS["rouge"]), variant)
        return None if r.failed else made

    def _evaluate(self, ctx: EvalContext) -> EvalResult:
        reference, err = self._reference(ctx)
        if err:
            return err
        s = _rouge(self.variant).score(reference, ctx.output or "")[self.variant]
        return self._score(s.fmeasure, f"{self.variant} F1", precision=s.precision, recall=s.recall)


# -- similarity --------------------------------------------------------------------------------
def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return 0.0 if na == 0 or nb == 0 else dot / (na * nb)


def lexical_similarity(a: str, b: str) -> float:
    """Cosine of word-count vectors: cheap, but blind to meaning (synonyms and paraphrases
    score low). Used only when a spec asks for ``model: lexical``."""
    ca, cb = Counter(words(a)), Counter(words(b))
    dot = sum(n * cb[w] for w, n in ca.items())
    na, nb = math.sqrt(sum(n * n for n in ca.values())), math.sqrt(sum(n * n for n in cb.values()))
    return 0.0 if na == 0 or nb == 0 else dot / (na * nb)


async def litellm_embed(model: str, texts: list[str], *, api_key: str | None = None,
                        api_base: str | None = None) -> list[list[float]]:
    """The default ``embed``: litellm's embeddings for any provider it supports. Keys come
    from the provider's usual environment variable unless given. Raises ProviderError."""
    from promptbench.core.providers.litellm_setup import import_litellm
    from promptbench.core.providers.transports.litellm_stream import classify_litellm_error

    litellm = import_litellm()
    kwargs: dict[str, Any] = {"model": model, "input": texts}
    if api_key:
        kwargs["api_key"] = api_key
    if api_base:
        kwargs["api_base"] = api_base
    try:
        response = await litellm.aembedding(**kwargs)
    except Exception as exc:  # noqa: BLE001 - litellm raises its own type per provider
        raise classify_litellm_error(exc) from None
    return [item["embedding"] if isinstance(item, dict) else item.embedding for item in response.data]


async def local_embed(model: str, texts: list[str]) -> list[list[float]]:
    """The offline ``embed`` (:mod:`promptbench.core.local.embeddings`), off the event loop.
    Raises EmbeddingModelError when the model is not installed."""
    return (await asyncio.to_thread(embeddings.embed, texts)).tolist()


class SimilarityEvaluator(_ReferenceEvaluator):
    """``similarity: {reference, model, threshold}``: cosine of the output's and the
    reference's embeddings. ``model`` names a litellm embedding model (default: the one
    configured for the workspace); with none configured, or ``model: local/all-minilm-l6-v2``,
    the offline local model (all-MiniLM-L6-v2). ``model: lexical`` asks for the word-count
    score instead, labelled as such in every result. A model that cannot run (provider
    down, local model not installed) gives an error result that says why, never another score."""

    kind = "similarity"
    is_async = True

    def __init__(self, name: str, reference: str, threshold: float, model: str, embed: Any):
        super().__init__(name, reference, threshold)
        self.model, self.embed = model, embed
        self.method = LEXICAL if model == LEXICAL else "embedding"

    @classmethod
    def from_spec(cls, r: SpecReader, opts: Any) -> SimilarityEvaluator | None:
        r.allow("reference", "threshold", "model")
        model = r.text("model") or opts.embedding_model or embeddings.MODEL_ID
        embed = local_embed if model == embeddings.MODEL_ID else opts.embed or litellm_embed
        threshold = _threshold(r, DEFAULT_THRESHOLDS[LEXICAL if model == LEXICAL else "embedding"])
        made = cls(r.name, r.template("reference", "{{expected}}"), threshold, model, embed)
        return None if r.failed else made

    async def _aevaluate(self, ctx: EvalContext) -> EvalResult:
        reference, err = self._reference(ctx)
        if err:
            return err
        output = ctx.output or ""
        if self.method == LEXICAL:
            label = "lexical similarity (word-count cosine, not semantic: asked for with model: lexical)"
            return self._score(lexical_similarity(output, reference), label, method=LEXICAL)
        if not output.strip() or not reference.strip():
            same = output.strip() == reference.strip()
            return self._score(1.0 if same else 0.0, "embedding similarity (empty text)", method="embedding",
                               model=self.model)
        try:
            vectors = await self.embed(self.model, [output, reference])
            score = cosine(vectors[0], vectors[1])
        except embeddings.EmbeddingModelError as exc:  # says what is missing and what to install
            return self.error(str(exc), method="embedding", model=self.model)
        except Exception as exc:  # noqa: BLE001 - provider down, bad key, bad reply
            klass = getattr(exc, "error_class", None)
            return self.error(f"embedding model {self.model!r} failed{f' ({klass})' if klass else ''}: {exc}",
                              method="embedding", model=self.model)
        return self._score(score, f"embedding similarity ({self.model})", method="embedding", model=self.model)
