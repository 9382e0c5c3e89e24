"""Log-probabilities of a given text under a prompt, from a local model's llama-server.

llama-server reports log-probabilities only for tokens it generates. To score a text we
make it generate exactly that text: a grammar of token ids (``root ::= <[id]> <[id]> ...``)
forces each token, and ``n_probs`` makes the server report, for each position, the
probability its raw logits (before the grammar and any sampler) give the forced token.
So the figures are the model's own, as llama.cpp's ``llama-perplexity`` computes them
(tests/core/test_local_logprobs.py checks this against that program).

Blocking, plain ``http.client``: called from worker threads.
"""

from __future__ import annotations

import http.client
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from promptbench.core.local.errors import LocalModelError
from promptbench.core.local.transcript import format_completion_prompt

_TIMEOUT_S = 300


@dataclass(frozen=True)
class TokenLogprob:
    id: int
    token: str
    logprob: float  # natural log


@dataclass(frozen=True)
class TextScore:
    """A text scored under a prompt: one entry per token of the text."""

    model: str
    prompt_tokens: int
    tokens: tuple[TokenLogprob, ...] = field(default_factory=tuple)

    @property
    def total_logprob(self) -> float:
        return sum(t.logprob for t in self.tokens)

    @property
    def perplexity(self) -> float | None:
        """exp(-mean log-probability); None for an empty text."""
        if not self.tokens:
            return None
        return math.exp(-self.total_logprob / len(self.tokens))

    def to_json(self) -> dict:
        return {
            "model": self.model, "prompt_tokens": self.prompt_tokens, "text_tokens": len(self.tokens),
            "perplexity": self.perplexity, "total_logprob": self.total_logprob,
            "tokens": [{"id": t.id, "token": t.token, "logprob": t.logprob} for t in self.tokens],
        }  # fmt: skip


class ServerClient:
    """The few llama-server endpoints scoring needs, on one model's server."""

    def __init__(self, base_url: str, model: str, timeout_s: float = _TIMEOUT_S):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.model = model
        self.timeout_s = timeout_s

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise LocalModelError(f"{self.model}: the local server did not answer {path}: {exc}") from None
        finally:
            conn.close()
        try:
            data = json.loads(raw)
        except ValueError:
            raise LocalModelError(f"{self.model}: the local server sent a malformed answer to {path}: {raw[:200]!r}") from None
        if resp.status != 200:
            message = data.get("error", {}).get("message") if isinstance(data, dict) else None
            raise LocalModelError(f"{self.model}: the local server refused {path} ({resp.status}): {message or raw[:200]!r}")
        return data

    def tokenize(self, text: str, *, special: bool) -> list[int]:
        """The model's own token ids; ``special`` adds BOS (when the model wants one) and
        reads special-token markup such as ``<|im_start|>``."""
        data = self.post("/tokenize", {"content": text, "add_special": special, "parse_special": special})
        return [int(t) for t in data["tokens"]]

    def chat_prompt(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The model's chat template applied to ``messages``, ending where its answer starts."""
        return str(self.post("/apply-template", {"messages": list(messages)})["prompt"])

    def prompt_ids(self, messages: Sequence[Mapping[str, Any]], *, chat: bool) -> list[int]:
        """The tokens a run of ``messages`` starts from, as the server counts a run's input.
        Chat models: the chat template's prompt; base models: the plain transcript
        (:func:`format_completion_prompt`)."""
        prompt = self.chat_prompt(messages) if chat else format_completion_prompt(messages)
        return self.tokenize(prompt, special=True)


def score_tokens(client: ServerClient, prompt_ids: Sequence[int], text_ids: Sequence[int]) -> TextScore:
    """Log-probability of each of ``text_ids`` following ``prompt_ids`` (and the text before it)."""
    if not prompt_ids:
        raise LocalModelError(f"{client.model}: scoring needs at least one prompt token")
    if not text_ids:
        return TextScore(client.model, len(prompt_ids))
    grammar = "root ::= " + " ".join(f"<[{int(t)}]>" for t in text_ids)
    data = client.post("/completion", {
        "prompt": [int(t) for t in prompt_ids], "n_predict": len(text_ids), "grammar": grammar,
        "n_probs": 1, "post_sampling_probs": False, "temperature": 0, "cache_prompt": False,
        "ignore_eos": True, "stream": False, "return_tokens": True,
    })  # fmt: skip
    probs = data.get("completion_probabilities") or []
    got = [int(p.get("id", -1)) for p in probs]
    if got != [int(t) for t in text_ids]:
        raise LocalModelError(f"{client.model}: the server did not follow the text's tokens "
                              f"(asked {len(text_ids)}, got {len(got)}); it cannot score this text")
    tokens = tuple(TokenLogprob(int(p["id"]), str(p.get("token", "")), float(p["logprob"])) for p in probs)
    return TextScore(client.model, len(prompt_ids), tokens)


def score_text(client: ServerClient, messages: Sequence[Mapping[str, Any]], text: str, *, chat: bool) -> TextScore:
    """Log-probabilities of ``text`` as the model's answer to ``messages`` (the run's prompt,
    :meth:`ServerClient.prompt_ids`, then the text)."""
    return score_tokens(client, client.prompt_ids(messages, chat=chat), client.tokenize(text, special=False))


async def count_text_tokens(client, api_base: str, text: str, timeout_s: float = 10.0) -> int | None:
    """How many tokens the local model's own tokenizer makes of ``text`` (an answer as
    shown), through its server's ``/tokenize``; None when the server does not answer.

    The server's usage counts what it decoded, which also holds the end-of-turn token and
    the tokens of a stop string cut from the answer: one to several more than the text.
    ``client`` is an ``httpx.AsyncClient``.
    """
    if not text:
        return 0
    root = api_base.rstrip("/").removesuffix("/v1")
    try:
        response = await client.post(f"{root}/tokenize", json={"content": text, "add_special": False,
                                                               "parse_special": False},
                                     headers={"Connection": "close"}, timeout=timeout_s)
        if response.status_code != 200:
            return None
        return len(response.json()["tokens"])
    except Exception:  # noqa: BLE001 - the server's own usage stays as the count
        return None


def running_prompt_tokens(manager, model_id: str, messages: Sequence[Mapping[str, Any]]) -> int | None:
    """The input tokens a run of ``messages`` on a local model will have, counted by the
    model's own server exactly as a run counts them, when that server is already running
    (it is never started for this); None otherwise."""
    status = manager.status().get(model_id)
    if not status or not status.get("alive"):
        return None
    from promptbench.core.local.catalog import get_local_model

    try:
        client = ServerClient(status["base_url"], model_id, timeout_s=2.0)
        return len(client.prompt_ids(messages, chat=get_local_model(model_id).chat))
    except Exception:  # noqa: BLE001 - the estimate stays an estimate
        return None
