"""Turning a prompt (file, version, test case, values) and model names into a comparison."""

from __future__ import annotations

import hashlib

from promptbench.core.ids import draft_version
from promptbench.core.settings.config import ModelConfig, Settings, resolve_model
from promptbench.core.engine.engine import ComparisonRequest
from promptbench.core.store.history import last_version_at
from promptbench.core.prompts.params import request_params
from promptbench.core.providers.pricing import estimate_cost
from promptbench.core.prompts.promptfile import PromptFile, render, require_complete
from promptbench.core.store.promptstore import PromptStore
from promptbench.core.providers.tokens import count_message_tokens


def prompt_version(store: PromptStore, rel: str, content: bytes | None = None) -> str:
    """The commit sha of the saved version, or ``draft:<sha1>`` for unsaved content."""
    current = content if content is not None else store.read_bytes(rel)
    head = store.repo.head_sha()
    committed = store.repo.blob_at(head, rel) if head else None
    if committed is not None and committed == current:
        sha = last_version_at(store.repo, rel, "HEAD")
        if sha:
            return sha
    return draft_version(hashlib.sha1(current).hexdigest()[:12])


def resolve_models(settings: Settings, names: list[str] | None) -> list[ModelConfig]:
    return [resolve_model(settings, name) for name in (names or settings.default_models)]


def build_request(store: PromptStore, rel: str, prompt: PromptFile, models: list[ModelConfig], *,
                  settings: Settings, test_case: int | None = None, values: dict | None = None,
                  content: bytes | None = None, local_mode: str | None = None) -> ComparisonRequest:
    rendered = render(prompt, test_case, values or {})
    require_complete(rendered, rel)
    params = request_params(prompt.model_parameters, prompt.response_format, prompt.json_schema)
    return ComparisonRequest(messages=rendered.messages, models=models, params=params, prompt_path=rel,
                             prompt_version=prompt_version(store, rel, content), test_case=test_case,
                             variables=rendered.values, local_mode=local_mode or settings.local_mode)


def estimate(request: ComparisonRequest, local=None) -> list[dict]:
    """Before running: input tokens and the most the run can cost, per model.

    Input tokens are a tokenizer's estimate, except for a local model whose server runs
    already in ``local`` (a LocalServerManager): that server counts them exactly as the run
    will (``input_tokens_exact``).
    """
    max_out = int(request.params.get("max_tokens") or request.params.get("max_completion_tokens") or 1024)
    rows = []
    for model in request.models:
        exact = None
        if model.is_local and local is not None:
            from promptbench.core.local.scoring import running_prompt_tokens

            exact = running_prompt_tokens(local, model.model, request.messages)
        tokens = exact if exact is not None else count_message_tokens(request.messages, model.model)
        cost, note = estimate_cost(model, tokens, max_out)
        rows.append({"model": model.name, "input_tokens": tokens, "input_tokens_exact": exact is not None,
                     "local": model.is_local, "max_output_tokens": max_out, "max_cost_usd": cost, "cost_note": note})
    return rows
