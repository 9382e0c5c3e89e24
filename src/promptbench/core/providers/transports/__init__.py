"""How the engine talks to providers.

Every transport is an async generator yielding tuples, cheapest first:
``("d", text, t_ns)`` a content delta read at ``t_ns``; ``("u", prompt_tokens,
completion_tokens)`` reported usage; ``("f", finish_reason)``. Failures raise
``ProviderError`` with a classified error class.

- ``openai_compat``: the OpenAI wire protocol over one shared httpx client, used for
  endpoints given by base URL (the embedded llama.cpp servers, Ollama, gateways, any
  OpenAI-compatible server). Timestamps are taken right after each socket read.
- ``litellm_stream``: every other provider litellm supports.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class WireRequest:
    model: str                        # the model name sent on the wire (provider prefix removed)
    messages: list[dict]
    params: dict = field(default_factory=dict)   # OpenAI-style: temperature, max_tokens, top_p, stop, seed, response_format...
    api_base: str | None = None
    api_key: str | None = None
    chat: bool = True                 # False: /completions with ``prompt`` (base models)
    prompt: str | None = None         # for chat=False
    extra_headers: dict = field(default_factory=dict)
    # A local llama-server: output tokens are the answer text's own tokens (its /tokenize),
    # not the server's usage, which also counts the end-of-turn token and cut stop strings.
    count_text_tokens: bool = False


@dataclass
class Timeouts:
    connect_s: float = 10.0
    first_token_s: float = 60.0
    idle_s: float = 30.0
